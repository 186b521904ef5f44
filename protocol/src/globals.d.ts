// protocol/ is the "common" layer: it runs in Node, in the device runtime and in the renderer,
// so it is compiled without DOM or Node typings. These two encoders exist in every one of
// those environments; declaring just them keeps everything else out of reach.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array): string;
}
/** WHATWG URL, present in Node and browsers alike; only what protocol/ uses of it. */
declare class URL {
  constructor(url: string);
  username: string;
  password: string;
  toString(): string;
}
