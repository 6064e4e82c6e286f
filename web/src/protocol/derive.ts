/**
 * Every label, identifier and derived value of protocol v1, in one place.
 *
 * docs/protocol.md sections 3, 5 and 6 define these; this module mirrors
 * src/textport/protocol/derive.py label for label. Nothing here does I/O or
 * keeps state. Hashing goes through WebCrypto, so most functions are async.
 */

import { type Bytes, bytes, concat, toHex, utf8 } from "./bytes";
import { ProtocolError } from "./errors";

export const PROTO = 1;
export const SESSION_PROTOCOL = "Noise_IK_25519_AESGCM_SHA256";
export const PAIR_PROTOCOL = "Noise_XXpsk0_25519_AESGCM_SHA256";
export const CODE_PROTOCOL = "Noise_XX_25519_AESGCM_SHA256";

export const SESSION_PROLOGUE_LABEL: Bytes = utf8("textport/1");
export const PAIR_PROLOGUE_LABEL: Bytes = utf8("textport-pair/1");
export const CODE_PROLOGUE_LABEL: Bytes = utf8("textport-code/1");
export const COMMIT_PREFIX: Bytes = utf8("TPC1");

const HOST_ID = utf8("textport/1 host-id");
const DEVICE_ID = utf8("textport/1 device-id");
const RELAY_TOKEN = utf8("textport/1 relay-token");
const COMMIT = utf8("textport/1 commit");
const CONFIRM = utf8("textport/1 confirm");
const SAS = utf8("textport/1 sas");

export const ID_LEN = 16;
export const ROOM_LEN = 16;
export const TOKEN_LEN = 32;
export const SECRET_LEN = 32;
export const CHANNEL_LEN = 16;

function subtle(): SubtleCrypto {
  return globalThis.crypto.subtle;
}

async function sha256(...parts: readonly Uint8Array[]): Promise<Bytes> {
  return new Uint8Array(await subtle().digest("SHA-256", concat(...parts)));
}

/** Concatenate fields, each prefixed with its length as u16be. */
export function lp(...fields: readonly Uint8Array[]): Bytes {
  const parts: Uint8Array[] = [];
  for (const field of fields) {
    if (field.length > 0xffff) {
      throw new ProtocolError("a prologue field is over 65535 bytes", "too_large");
    }
    parts.push(Uint8Array.of(field.length >> 8, field.length & 0xff), field);
  }
  return concat(...parts);
}

/** HKDF-SHA256 (RFC 5869) with an empty salt (the same as HashLen zero bytes). */
export async function hkdf(ikm: Uint8Array, info: Uint8Array, length: number): Promise<Bytes> {
  const key = await subtle().importKey("raw", bytes(ikm), "HKDF", false, ["deriveBits"]);
  const params = { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: bytes(info) };
  return new Uint8Array(await subtle().deriveBits(params, key, 8 * length));
}

export async function hostId(hostPublic: Uint8Array): Promise<Bytes> {
  return (await sha256(HOST_ID, hostPublic)).slice(0, ID_LEN);
}

export async function deviceId(devicePublic: Uint8Array): Promise<Bytes> {
  return (await sha256(DEVICE_ID, devicePublic)).slice(0, ID_LEN);
}

/** What the relay stores instead of a device's token. */
export function tokenHash(token: Uint8Array): Promise<Bytes> {
  return sha256(RELAY_TOKEN, token);
}

export function sessionPrologue(room: Uint8Array, host: Uint8Array): Bytes {
  return lp(SESSION_PROLOGUE_LABEL, room, host);
}

export function pairPrologue(relay: string, channel: string): Bytes {
  return lp(PAIR_PROLOGUE_LABEL, utf8(relay), utf8(channel));
}

export function codePrologue(relay: string, channel: string): Bytes {
  return lp(CODE_PROLOGUE_LABEL, utf8(relay), utf8(channel));
}

/** The typed-code pairing's first message: version tag and the host's commitment. */
export async function commitment(ephemeralPublic: Uint8Array): Promise<Bytes> {
  return concat(COMMIT_PREFIX, await sha256(COMMIT, ephemeralPublic));
}

/** The code both sides show after QR/link pairing, e.g. `4F2A-91C3`. */
export async function confirmationCode(handshakeHash: Uint8Array): Promise<string> {
  const digits = toHex(await hkdf(handshakeHash, CONFIRM, 4)).toUpperCase();
  return `${digits.slice(0, 4)}-${digits.slice(4)}`;
}

/** The six digits both sides show after typed-code pairing, e.g. `012 345`. */
export async function comparisonCode(
  initiatorEphemeral: Uint8Array,
  responderEphemeral: Uint8Array,
): Promise<string> {
  const okm = await hkdf(concat(initiatorEphemeral, responderEphemeral), SAS, 8);
  const value = new DataView(okm.buffer).getBigUint64(0, false);
  const digits = (value % 1_000_000n).toString().padStart(6, "0");
  return `${digits.slice(0, 3)} ${digits.slice(3)}`;
}

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64URL_VALUES: ReadonlyMap<string, number> = new Map([...B64URL].map((c, i) => [c, i]));

/** Base64url without padding (RFC 4648 section 5). */
export function b64url(data: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 3 <= data.length; i += 3) {
    const n = ((data[i] ?? 0) << 16) | ((data[i + 1] ?? 0) << 8) | (data[i + 2] ?? 0);
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]! + B64URL[n & 63]!;
  }
  const rest = data.length - i;
  if (rest === 1) {
    const n = (data[i] ?? 0) << 16;
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = ((data[i] ?? 0) << 16) | ((data[i + 1] ?? 0) << 8);
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * Decode padded standard base64 (RFC 4648 section 4) strictly, as the host's
 * `chunk` data: a length that is not a multiple of 4 or non-canonical trailing
 * bits are `ProtocolError("bad_message")`.
 */
export function unb64(text: string): Bytes {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new ProtocolError("not padded base64", "bad_message");
  }
  return unb64url(text.replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_"));
}

/**
 * Decode unpadded base64url strictly; `length` checks the decoded size.
 * Refuses padding, other alphabets, impossible lengths and non-canonical
 * trailing bits, all as `ProtocolError("bad_message")`, like derive.py.
 */
export function unb64url(text: string, length?: number): Bytes {
  if (text.length % 4 === 1 || !/^[A-Za-z0-9_-]*$/.test(text)) {
    throw new ProtocolError("not unpadded base64url", "bad_message");
  }
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (const c of text) {
    value = ((value << 6) | (B64URL_VALUES.get(c) ?? 0)) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 0xff;
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) {
    throw new ProtocolError("not canonical base64url", "bad_message"); // non-zero trailing bits
  }
  if (length !== undefined && out.length !== length) {
    throw new ProtocolError(`expected ${length} bytes, got ${out.length}`, "bad_message");
  }
  return out;
}
