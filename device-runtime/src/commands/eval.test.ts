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

  it('replies the stack of what was thrown', async () => {
    const r = await evaluator().run('null.x');
    expect(r.ok).toBe(false);
    expect(r.text).toMatch(/^TypeError: Cannot read properties of null/);
  });

  it('says plainly that import() is not available, instead of Node’s internal wording', async () => {
    const r = await evaluator().run("await import('node:os')");
    expect(r).toEqual({ ok: false, text: expect.stringMatching(/^Error: import\(\) is not available in eval/) });
  });
});
