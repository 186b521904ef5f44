// A faithful simulator of an ORIGINAL MQBoard board (tve/mqboard on MicroPython/ESP32), for the
// host engine's tests and the demo fleet. Dev/test only: eval runs real CPython (not a sandbox).
export { startOriginalBoard, type OriginalBoard, type OriginalBoardOptions } from './board';
export { BUFLEN } from './mqrepl';
export { FACTORY_FIRMWARE } from './life';
export { buildFirmwareImage, readAppDescription, SIM_PANIC_MARK, type AppDescription, type FirmwareSpec } from './firmware-image';
