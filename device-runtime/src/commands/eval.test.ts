import { describe, expect, it } from 'vitest';
import { createEvaluator } from './eval';

const evaluator = () => createEvaluator({ timeoutMs: 2000, maxReply: 4096, stray: () => undefined });

describe('eval', () => {
  it('replies an expression’s inspected value, and keeps declarations for the next eval', async () => {
    const e = evaluator();
    expect(await e.run('var n = 20')).toEqual({ ok: true, text: '' });
    expect(await e.run('n + 22')).toEqual({ ok: true, text: '42' });
  });

  it('replies the console output of statements, and awaits at top level', async () => {
    const e = evaluator();
    expect(await e.run('for (const x of [1, 2]) console.log(x)')).toEqual({ ok: true, text: '1\n2\n' });
    expect(await e.run('await new Promise((r) => setTimeout(() => r(7), 5))')).toEqual({ ok: true, text: '7' });
  });

  it('replies the value of the last expression after statements, as a REPL shows it', async () => {
    const e = evaluator();
    expect(await e.run('let q = 3; q * 7')).toEqual({ ok: true, text: '21' });
    expect(await e.run('q += 1; console.log("now", q); q')).toEqual({ ok: true, text: 'now 4\n4' });
    expect(await e.run('if (q > 1) { "big" } else { "small" }')).toEqual({ ok: true, text: "'big'" });
  });

  it('replies the stack of what was thrown, with the user’s frames only', async () => {
    const r = await evaluator().run('function inner() { return null.x }\ninner()');
    expect(r.ok).toBe(false);
    expect(r.text).toMatch(/^TypeError: Cannot read properties of null/);
    expect(r.text).toContain('at inner (eval:1:');
    // Nothing of the runtime's own files or Node's internals.
    expect(r.text).not.toMatch(/device-runtime|node:|\.ts:/);
  });

  it('says plainly that import() is not available, instead of Node’s internal wording', async () => {
    const r = await evaluator().run("await import('node:os')");
    expect(r).toEqual({ ok: false, text: expect.stringMatching(/^Error: import\(\) is not available in eval/) });
  });
});
