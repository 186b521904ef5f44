// Typed tags: several at once, duplicates once, and a word the contract refuses named with why.
import { describe, expect, it } from 'vitest';
import { parseTagInput } from './tag-input';

describe('typed tags', () => {
  it('splits on spaces and commas and drops repeats', () => {
    expect(parseTagInput(' greenhouse, batch-3  greenhouse,')).toEqual({ tags: ['greenhouse', 'batch-3'], error: null });
    expect(parseTagInput('   ')).toEqual({ tags: [], error: null });
  });
  it('refuses a tag a selector could not name, saying which', () => {
    const r = parseTagInput('ok tag:x');
    expect(r.tags).toEqual([]);
    expect(r.error).toContain('"tag:x"');
    expect(parseTagInput('x'.repeat(33)).error).not.toBeNull();
    expect(parseTagInput('say"hi"').error).not.toBeNull();
  });
});
