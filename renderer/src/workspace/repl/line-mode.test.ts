import { describe, expect, it } from 'vitest';
import { evalSource } from './line-mode';

describe('the source line mode sends to an original board', () => {
  it('runs a print() call as statements, so the board replies with what it printed', () => {
    expect(evalSource('print("hello")')).toBe('print("hello")\npass');
    expect(evalSource('  print (1, 2)  # two')).toBe('print (1, 2)  # two\npass');
    expect(evalSource('print("#")')).toBe('print("#")\npass');
  });

  it('sends expressions, other statements and blocks as typed', () => {
    expect(evalSource('1+1')).toBe('1+1');
    expect(evalSource('printer()')).toBe('printer()');
    expect(evalSource('x = print')).toBe('x = print');
    expect(evalSource('for i in range(2):\n    print(i)')).toBe('for i in range(2):\n    print(i)');
  });
});
