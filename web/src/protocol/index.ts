/**
 * textport's wire protocol for the browser, without I/O: Noise, pairing,
 * sessions, frames and messages. Mirrors src/textport/protocol/ (Python); the
 * specification is docs/protocol.md.
 */

export * from "./errors";
export { type Bytes, concat, equal, fromHex, toHex, utf8 } from "./bytes";
export { type KeyPair, DHLEN, generateKeyPair, importPrivateKey } from "./keys";
export * as noise from "./noise";
export * as derive from "./derive";
export * from "./frames";
export * from "./messages";
export * from "./session";
export * from "./pairing";
