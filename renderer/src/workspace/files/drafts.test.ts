import { describe, expect, it } from 'vitest';
import { dropDraft, getDraft, keepDraft, moveDrafts } from './drafts';

describe('editor drafts', () => {
  it('keep edited text per device and path until saved or discarded', () => {
    keepDraft('lab/a', '/main.py', 'print(2)', 'print(1)');
    expect(getDraft('lab/a', '/main.py')).toEqual({ text: 'print(2)', base: 'print(1)' });
    expect(getDraft('lab/b', '/main.py')).toBeUndefined();
    dropDraft('lab/a', '/main.py');
    expect(getDraft('lab/a', '/main.py')).toBeUndefined();
  });

  it("forget the draft once the text is the file's own again", () => {
    keepDraft('lab/a', '/x.py', 'edited', 'orig');
    keepDraft('lab/a', '/x.py', 'orig', 'orig');
    expect(getDraft('lab/a', '/x.py')).toBeUndefined();
  });

  it('follow a renamed folder', () => {
    keepDraft('lab/a', '/lib/a.py', 'new', 'old');
    keepDraft('lab/a', '/library.py', 'n2', 'o2');
    moveDrafts('lab/a', '/lib', '/pkg');
    expect(getDraft('lab/a', '/pkg/a.py')).toEqual({ text: 'new', base: 'old' });
    expect(getDraft('lab/a', '/lib/a.py')).toBeUndefined();
    expect(getDraft('lab/a', '/library.py')).toEqual({ text: 'n2', base: 'o2' });
  });
});
