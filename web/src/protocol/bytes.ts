/**
 * Small helpers for byte arrays: hex, concatenation, comparison.
 *
 * Every byte array this package hands to WebCrypto is a `Bytes`, a
 * `Uint8Array` backed by a plain `ArrayBuffer` (TypeScript's DOM typings
 * refuse views over a `SharedArrayBuffer` as a `BufferSource`).
 */

/** A byte array over a plain `ArrayBuffer`, accepted by WebCrypto. */
export type Bytes = Uint8Array<ArrayBuffer>;

/** An empty byte array. */
export const EMPTY: Bytes = new Uint8Array(0);

/** Return `data` itself when it is already a `Bytes`, else a copy that is. */
export function bytes(data: Uint8Array): Bytes {
  return data.buffer instanceof ArrayBuffer ? (data as Bytes) : new Uint8Array(data);
}

/** Concatenate byte arrays into a new one. */
export function concat(...parts: readonly Uint8Array[]): Bytes {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Whether two byte arrays hold the same bytes (not constant-time). */
export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lower-case hex encoding. */
export function toHex(data: Uint8Array): string {
  let out = "";
  for (const byte of data) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** Decode hex (either case); throws `RangeError` on odd length or a non-hex digit. */
export function fromHex(hex: string): Bytes {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new RangeError("invalid hex string");
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** UTF-8 encoding of a string. */
export function utf8(text: string): Bytes {
  return new TextEncoder().encode(text);
}
