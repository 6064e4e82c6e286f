/**
 * X25519 key pairs over WebCrypto: generation, import of a raw private key,
 * and Diffie-Hellman (the DH function of the Noise `25519` suite).
 */

import { type Bytes, bytes, concat, fromHex } from "./bytes";
import { CryptoError } from "./errors";

/** Length in bytes of an X25519 public key and of a DH output. */
export const DHLEN = 32;

/** An X25519 key pair: the private key stays inside WebCrypto. */
export interface KeyPair {
  /** The private key (usage `deriveBits`; may be non-extractable). */
  readonly privateKey: CryptoKey;
  /** The raw 32-byte public key. */
  readonly publicKey: Bytes;
}

const X25519 = { name: "X25519" } as const;

/** DER prefix of a PKCS#8 X25519 private key (RFC 8410); the 32 raw bytes follow. */
const PKCS8_PREFIX = fromHex("302e020100300506032b656e04220420");

function subtle(): SubtleCrypto {
  return globalThis.crypto.subtle;
}

/** Generate a fresh X25519 key pair. */
export async function generateKeyPair(extractable = false): Promise<KeyPair> {
  const pair = (await subtle().generateKey(X25519, extractable, ["deriveBits"])) as CryptoKeyPair;
  const publicKey = new Uint8Array(await subtle().exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey };
}

/**
 * Import a raw 32-byte X25519 private key. The public key is computed by
 * WebCrypto (through a JWK export of a temporary extractable copy).
 */
export async function importPrivateKey(raw: Uint8Array, extractable = false): Promise<KeyPair> {
  if (raw.length !== DHLEN) throw new CryptoError("an X25519 private key is 32 bytes", "bad_key");
  const der = concat(PKCS8_PREFIX, raw);
  const copy = await subtle().importKey("pkcs8", der, X25519, true, ["deriveBits"]);
  const jwk = await subtle().exportKey("jwk", copy);
  if (jwk.x === undefined) throw new CryptoError("X25519 key has no public part", "bad_key");
  const publicKey = base64UrlDecode(jwk.x);
  const privateKey = extractable
    ? copy
    : await subtle().importKey("pkcs8", der, X25519, false, ["deriveBits"]);
  der.fill(0);
  return { privateKey, publicKey };
}

/**
 * X25519 Diffie-Hellman between a local private key and a remote raw public
 * key. Throws `CryptoError("bad_key")` when the public key is malformed or of
 * low order (WebCrypto refuses an all-zero shared secret).
 */
export async function dh(privateKey: CryptoKey, remotePublic: Uint8Array): Promise<Bytes> {
  if (remotePublic.length !== DHLEN) {
    throw new CryptoError("an X25519 public key is 32 bytes", "bad_key");
  }
  try {
    const pub = await subtle().importKey("raw", bytes(remotePublic), X25519, true, []);
    const bits = await subtle().deriveBits({ name: "X25519", public: pub }, privateKey, 8 * DHLEN);
    return new Uint8Array(bits);
  } catch {
    throw new CryptoError("X25519 key agreement failed", "bad_key");
  }
}

function base64UrlDecode(text: string): Bytes {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
