// What a user sees of a stack: their own frames (eval, REPL, app modules by device path), never
// the runtime's source files, Node's internals or any other host path.
import { describe, expect, it } from 'vitest';
import { userStack } from './user-stack';

const stack = [
  "TypeError: Cannot read properties of null (reading 'x')",
  '    at eval:1:6',
  '    at Script.runInContext (node:vm:149:12)',
  '    at pending (/work/main/device-runtime/src/terminal/interrupt.ts:78:27)',
  '    at tick (file:///srv/devices/d1/lib/sensor.mjs?boot=2:14:9)',
  '    at file:///srv/devices/d1/.mqboard/ota/slot-b.d/app.mjs?boot=3:2:1',
  '    at new Promise (<anonymous>)',
  '    at repl:1:1',
  '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
  '    at Object.<anonymous> (/usr/lib/node_modules/mqtt/build/lib/client.js:10:3)',
].join('\n');

describe('user stacks', () => {
  it('keeps the message and the user’s frames, with module files by device path', () => {
    expect(userStack(stack, '/srv/devices/d1')).toBe(
      [
        "TypeError: Cannot read properties of null (reading 'x')",
        '    at eval:1:6',
        '    at tick (/lib/sensor.mjs:14:9)',
        '    at /.mqboard/ota/slot-b.d/app.mjs:2:1',
        '    at new Promise (<anonymous>)',
        '    at repl:1:1',
      ].join('\n'),
    );
  });

  it('drops every host file when it does not know the device root', () => {
    const s = userStack(stack);
    expect(s).not.toMatch(/\/work\/main|\/srv\/|node:/);
    expect(s.split('\n')).toEqual(["TypeError: Cannot read properties of null (reading 'x')", '    at eval:1:6', '    at new Promise (<anonymous>)', '    at repl:1:1']);
  });

  it('does not take a sibling of the root for the root', () => {
    expect(userStack('Error: x\n    at f (/srv/devices/d10/lib/a.mjs:1:1)', '/srv/devices/d1')).toBe('Error: x');
  });
});
