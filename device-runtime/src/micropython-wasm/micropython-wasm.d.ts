// Types for the parts of the MicroPython WebAssembly port's API the harness uses (the package
// ships none); see its README and `micropython.mjs`.
declare module '@micropython/micropython-webassembly-pyscript' {
  export interface MicroPythonFS {
    mkdir(path: string): void;
    readdir(path: string): string[];
    readFile(path: string): Uint8Array;
    writeFile(path: string, data: string | Uint8Array): void;
    stat(path: string): { mode: number; size: number };
    isDir(mode: number): boolean;
    analyzePath(path: string): { exists: boolean };
  }
  export interface MicroPython {
    FS: MicroPythonFS;
    registerJsModule(name: string, module: object): void;
    runPython(code: string): unknown;
    runPythonAsync(code: string): Promise<unknown>;
    globals: { get(name: string): unknown };
    pyimport(name: string): unknown;
    /** The Emscripten module: its exported C functions. */
    _module: { _mp_sched_keyboard_interrupt(): void };
  }
  export interface LoadOptions {
    heapsize?: number;
    pystack?: number;
    linebuffer?: boolean;
    stdout?: (data: string) => void;
    stderr?: (data: string) => void;
  }
  export function loadMicroPython(options?: LoadOptions): Promise<MicroPython>;
}
