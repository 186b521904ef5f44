// Why the package stops running code the way it does (interrupt.py): on the real interpreter,
// an exception raised in a scheduled callback (what a machine.Timer callback is) is printed and
// dropped, while mp_sched_keyboard_interrupt() called from one, the C function
// os.dupterm_notify() ends in when it reads Ctrl-C, stops the running loop at its next branch.
// A file of its own: one interpreter per process.
import { expect, it } from 'vitest';
import { loadMicroPython } from '@micropython/micropython-webassembly-pyscript';

it('a keyboard interrupt scheduled from a scheduled callback stops a running loop; an exception raised there does not', async () => {
  const printed: string[] = [];
  const mp = await loadMicroPython({ linebuffer: true, stdout: (l) => printed.push(l), stderr: (l) => printed.push(l) });
  mp.registerJsModule('irq', { fire: () => mp._module._mp_sched_keyboard_interrupt() });
  mp.runPython(`
import micropython, irq

def raising(_):
    raise KeyboardInterrupt

def via_c(_):
    irq.fire()

def loop(callback):
    n = 0
    try:
        while n < 100000:
            n += 1
            if n == 1000:
                micropython.schedule(callback, None)
        return "ran to the end"
    except KeyboardInterrupt:
        return "stopped at %d" % n

raised = loop(raising)
scheduled = loop(via_c)
`);
  expect(mp.globals.get('raised')).toBe('ran to the end');
  expect(printed.join('\n')).toContain('KeyboardInterrupt');
  expect(mp.globals.get('scheduled')).toBe('stopped at 1001');
});
