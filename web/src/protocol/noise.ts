/**
 * The Noise Protocol Framework (revision 34) for the suite
 * 25519_AESGCM_SHA256, over WebCrypto only: CipherState, SymmetricState and
 * a generic, pattern-driven HandshakeState (every pattern of sections 7 and
 * 18, with any combination of `pskN` modifiers).
 *
 * Everything is async because WebCrypto is. Nothing here does I/O or keeps
 * global state; randomness (the ephemeral keys) can be injected.
 */

import { type Bytes, EMPTY, bytes, concat, utf8 } from "./bytes";
import { CryptoError, ProtocolError } from "./errors";
import { DHLEN, type KeyPair, dh, generateKeyPair } from "./keys";
import { type HandshakePattern, type PreToken, type Protocol, type Token, parseProtocolName } from "./patterns";

export { type KeyPair, DHLEN, generateKeyPair, importPrivateKey } from "./keys";
export { type HandshakePattern, type Protocol, type Token, SUITE, parseProtocolName } from "./patterns";

/** Length of a SHA-256 output, the chaining key and the handshake hash. */
export const HASHLEN = 32;
/** Length of an AES-GCM authentication tag. */
export const TAGLEN = 16;
/** Largest Noise message, handshake or transport (section 3). */
export const MAX_MESSAGE_LEN = 65535;

/** n = 2^64 - 1 is reserved (section 5.1) and used by REKEY (section 4.2). */
const MAX_NONCE = 0xffff_ffff_ffff_ffffn;

function subtle(): SubtleCrypto {
  return globalThis.crypto.subtle;
}

/** SHA-256 of `data`. */
async function hash(data: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await subtle().digest("SHA-256", bytes(data)));
}

/** HMAC-SHA256(key, data). */
async function hmac(key: Uint8Array, data: Uint8Array): Promise<Bytes> {
  const hmacKey = await subtle().importKey(
    "raw", bytes(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle().sign("HMAC", hmacKey, bytes(data)));
}

/**
 * HKDF as Noise defines it (section 4.3): HMAC-based, with two or three
 * outputs of HASHLEN bytes each, chained on the previous output.
 */
export function hkdf(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2): Promise<[Bytes, Bytes]>;
export function hkdf(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 3): Promise<[Bytes, Bytes, Bytes]>;
export async function hkdf(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Promise<Bytes[]> {
  const tempKey = await hmac(chainingKey, ikm);
  const result: Bytes[] = [];
  let previous: Bytes = EMPTY;
  for (let i = 1; i <= outputs; i++) {
    previous = await hmac(tempKey, concat(previous, Uint8Array.of(i)));
    result.push(previous);
  }
  return result;
}

/** The AESGCM nonce (section 12.3): 32 zero bits, then n as a big-endian 64-bit integer. */
function aesgcmNonce(n: bigint): Bytes {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(4, n, false);
  return nonce;
}

/**
 * A CipherState (section 5.1): an AES-256-GCM key `k` (kept as a
 * non-extractable CryptoKey) and a 64-bit nonce `n`. Calls are serialized, so
 * concurrent callers get consecutive nonces in call order.
 */
export class CipherState {
  #key: CryptoKey | null = null;
  #n = 0n;
  #tail: Promise<unknown> = Promise.resolve();

  /** A CipherState with key `k` (32 bytes) and n = 0. */
  static async fromKey(k: Uint8Array): Promise<CipherState> {
    const state = new CipherState();
    await state.initializeKey(k);
    return state;
  }

  /** InitializeKey: set k (or clear it with `null`) and reset n to 0. */
  async initializeKey(k: Uint8Array | null): Promise<void> {
    if (k !== null && k.length !== 32) throw new CryptoError("a cipher key is 32 bytes", "bad_key");
    this.#key = k === null ? null : await importAesKey(k);
    this.#n = 0n;
  }

  hasKey(): boolean {
    return this.#key !== null;
  }

  /** The next nonce to be used. */
  get nonce(): bigint {
    return this.#n;
  }

  setNonce(n: bigint): void {
    this.#n = n;
  }

  /** Encrypt (or pass through while there is no key) and advance n. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Promise<Bytes> {
    return this.#serialize(async () => {
      const overhead = this.#key === null ? 0 : TAGLEN;
      if (plaintext.length + overhead > MAX_MESSAGE_LEN) {
        throw new ProtocolError("message longer than 65535 bytes", "too_large");
      }
      if (this.#key === null) return bytes(plaintext).slice();
      const n = this.#takeNonce();
      const params = { name: "AES-GCM", iv: aesgcmNonce(n), additionalData: bytes(ad) };
      return new Uint8Array(await subtle().encrypt(params, this.#key, bytes(plaintext)));
    });
  }

  /** Decrypt (or pass through while there is no key); n advances only on success. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Promise<Bytes> {
    return this.#serialize(async () => {
      if (ciphertext.length > MAX_MESSAGE_LEN) {
        throw new ProtocolError("message longer than 65535 bytes", "too_large");
      }
      if (this.#key === null) return bytes(ciphertext).slice();
      if (ciphertext.length < TAGLEN) throw new ProtocolError("ciphertext shorter than its tag");
      if (this.#n === MAX_NONCE) throw new ProtocolError("nonce exhausted", "rekey_required");
      const params = { name: "AES-GCM", iv: aesgcmNonce(this.#n), additionalData: bytes(ad) };
      let plaintext: ArrayBuffer;
      try {
        plaintext = await subtle().decrypt(params, this.#key, bytes(ciphertext));
      } catch {
        throw new CryptoError("message authentication failed", "decrypt_failed");
      }
      this.#n += 1n;
      return new Uint8Array(plaintext);
    });
  }

  /** Rekey (section 4.2): k = the first 32 bytes of ENCRYPT(k, 2^64-1, "", 32 zero bytes). */
  rekey(): Promise<void> {
    return this.#serialize(async () => {
      if (this.#key === null) return;
      const params = { name: "AES-GCM", iv: aesgcmNonce(MAX_NONCE), additionalData: EMPTY };
      const out = new Uint8Array(await subtle().encrypt(params, this.#key, new Uint8Array(32)));
      this.#key = await importAesKey(out.subarray(0, 32));
      out.fill(0);
    });
  }

  #takeNonce(): bigint {
    if (this.#n === MAX_NONCE) throw new ProtocolError("nonce exhausted", "rekey_required");
    return this.#n++;
  }

  #serialize<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(op);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

function importAesKey(k: Uint8Array): Promise<CryptoKey> {
  return subtle().importKey("raw", bytes(k), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

/** A SymmetricState (section 5.2): chaining key `ck`, handshake hash `h` and a CipherState. */
export class SymmetricState {
  readonly cipher = new CipherState();
  #ck: Bytes;
  #h: Bytes;

  private constructor(h: Bytes) {
    this.#h = h;
    this.#ck = h;
  }

  /** InitializeSymmetric: h = name padded to HASHLEN, or HASH(name) if longer. */
  static async initialize(protocolName: string): Promise<SymmetricState> {
    const name = utf8(protocolName);
    const h = name.length <= HASHLEN ? concat(name, new Uint8Array(HASHLEN - name.length)) : await hash(name);
    return new SymmetricState(h);
  }

  async mixKey(ikm: Uint8Array): Promise<void> {
    const [ck, tempK] = await hkdf(this.#ck, ikm, 2);
    this.#ck = ck;
    await this.cipher.initializeKey(tempK);
  }

  async mixHash(data: Uint8Array): Promise<void> {
    this.#h = await hash(concat(this.#h, data));
  }

  async mixKeyAndHash(ikm: Uint8Array): Promise<void> {
    const [ck, tempH, tempK] = await hkdf(this.#ck, ikm, 3);
    this.#ck = ck;
    await this.mixHash(tempH);
    await this.cipher.initializeKey(tempK);
  }

  /** The current handshake hash `h` (a copy). */
  getHandshakeHash(): Bytes {
    return this.#h.slice();
  }

  async encryptAndHash(plaintext: Uint8Array): Promise<Bytes> {
    const ciphertext = await this.cipher.encryptWithAd(this.#h, plaintext);
    await this.mixHash(ciphertext);
    return ciphertext;
  }

  async decryptAndHash(ciphertext: Uint8Array): Promise<Bytes> {
    const plaintext = await this.cipher.decryptWithAd(this.#h, ciphertext);
    await this.mixHash(ciphertext);
    return plaintext;
  }

  /** Split: the two transport CipherStates, initiator-to-responder first. */
  async split(): Promise<[CipherState, CipherState]> {
    const [k1, k2] = await hkdf(this.#ck, EMPTY, 2);
    return [await CipherState.fromKey(k1), await CipherState.fromKey(k2)];
  }
}

/** What a HandshakeState is initialized with (section 5.3). */
export interface HandshakeOptions {
  /** A full protocol name, e.g. `Noise_XXpsk0_25519_AESGCM_SHA256`. */
  readonly protocolName: string;
  readonly initiator: boolean;
  readonly prologue?: Uint8Array;
  /** The local static key pair. */
  readonly s?: KeyPair;
  /** The local ephemeral key pair: used by the first `e` token instead of a fresh one. */
  readonly e?: KeyPair;
  /** The remote static public key, when known in advance. */
  readonly rs?: Uint8Array;
  /** The remote ephemeral public key (pre-messages only). */
  readonly re?: Uint8Array;
  /** Pre-shared keys (32 bytes each), consumed in order by the `psk` tokens. */
  readonly psks?: readonly Uint8Array[];
  /** The source of ephemeral key pairs; defaults to `generateKeyPair()`. */
  readonly generateEphemeral?: () => Promise<KeyPair>;
}

/**
 * The outcome of a completed handshake. `send` encrypts to the peer and
 * `receive` decrypts from it; in one-way patterns the initiator has no
 * `receive` and the responder no `send`.
 */
export interface TransportKeys {
  readonly send: CipherState | null;
  readonly receive: CipherState | null;
  readonly handshakeHash: Bytes;
}

/** A HandshakeState (section 5.3) driven by the tokens of its pattern. */
export class HandshakeState {
  readonly protocol: Protocol;
  readonly initiator: boolean;
  readonly #symmetric: SymmetricState;
  readonly #psks: readonly Uint8Array[];
  readonly #generateEphemeral: () => Promise<KeyPair>;
  readonly #s: KeyPair | undefined;
  #e: KeyPair | undefined;
  #rs: Bytes | undefined;
  #re: Bytes | undefined;
  #messageIndex = 0;
  #pskIndex = 0;
  #busy = false;
  #failed = false;
  #transport: TransportKeys | null = null;

  private constructor(protocol: Protocol, symmetric: SymmetricState, options: HandshakeOptions) {
    this.protocol = protocol;
    this.initiator = options.initiator;
    this.#symmetric = symmetric;
    this.#psks = options.psks ?? [];
    this.#generateEphemeral = options.generateEphemeral ?? (() => generateKeyPair());
    this.#s = options.s;
    this.#e = options.e;
    this.#rs = options.rs === undefined ? undefined : bytes(options.rs).slice();
    this.#re = options.re === undefined ? undefined : bytes(options.re).slice();
  }

  /** Initialize: parse the name, mix in the prologue and the pre-message keys. */
  static async initialize(options: HandshakeOptions): Promise<HandshakeState> {
    const protocol = parseProtocolName(options.protocolName);
    for (const psk of options.psks ?? []) {
      if (psk.length !== 32) throw new CryptoError("a pre-shared key is 32 bytes", "bad_key");
    }
    const symmetric = await SymmetricState.initialize(protocol.name);
    const state = new HandshakeState(protocol, symmetric, options);
    await symmetric.mixHash(options.prologue ?? EMPTY);
    const { initiatorPreMessage, responderPreMessage } = protocol.pattern;
    for (const token of initiatorPreMessage) await state.#mixPreMessageKey(token, state.initiator);
    for (const token of responderPreMessage) await state.#mixPreMessageKey(token, !state.initiator);
    return state;
  }

  get pattern(): HandshakePattern {
    return this.protocol.pattern;
  }

  /** Whether every handshake message has been written or read. */
  get isComplete(): boolean {
    return this.#transport !== null;
  }

  /** Whether the next handshake message is ours to write. */
  get isMyTurn(): boolean {
    return !this.isComplete && (this.#messageIndex % 2 === 0) === this.initiator;
  }

  /** The remote static public key, once known. */
  get remoteStatic(): Bytes | null {
    return this.#rs?.slice() ?? null;
  }

  /** Our ephemeral public key, once chosen (given, or made by the first `e` token). */
  get localEphemeral(): Bytes | null {
    return this.#e?.publicKey.slice() ?? null;
  }

  /** The peer's ephemeral public key, once read. */
  get remoteEphemeral(): Bytes | null {
    return this.#re?.slice() ?? null;
  }

  /** The current handshake hash (final once the handshake is complete). */
  getHandshakeHash(): Bytes {
    return this.#symmetric.getHandshakeHash();
  }

  /** The transport CipherStates; throws `ProtocolError` until the handshake is complete. */
  transport(): TransportKeys {
    if (this.#transport === null) throw new ProtocolError("handshake not complete", "handshake_state");
    return this.#transport;
  }

  /** WriteMessage: process our next message pattern and return the message to send. */
  async writeMessage(payload: Uint8Array = EMPTY): Promise<Bytes> {
    const tokens = this.#begin(true);
    if (this.#messageLength(tokens, payload.length) > MAX_MESSAGE_LEN) {
      this.#busy = false;
      throw new ProtocolError("handshake message longer than 65535 bytes", "too_large");
    }
    return this.#run(async () => {
      const parts: Uint8Array[] = [];
      for (const token of tokens) {
        if (token === "e") {
          const e = (this.#e ??= await this.#generateEphemeral());
          parts.push(e.publicKey);
          await this.#mixEphemeral(e.publicKey);
        } else if (token === "s") {
          parts.push(await this.#symmetric.encryptAndHash(required(this.#s, "local static key").publicKey));
        } else {
          await this.#mixToken(token);
        }
      }
      parts.push(await this.#symmetric.encryptAndHash(payload));
      return concat(...parts);
    });
  }

  /** ReadMessage: process the peer's next message pattern and return its payload. */
  async readMessage(message: Uint8Array): Promise<Bytes> {
    const tokens = this.#begin(false);
    if (message.length > MAX_MESSAGE_LEN) {
      this.#busy = false;
      throw new ProtocolError("handshake message longer than 65535 bytes", "too_large");
    }
    return this.#run(async () => {
      let offset = 0;
      const take = (length: number): Bytes => {
        if (offset + length > message.length) throw new ProtocolError("handshake message too short", "bad_frame");
        return bytes(message.subarray(offset, (offset += length))).slice();
      };
      for (const token of tokens) {
        if (token === "e") {
          if (this.#re !== undefined) throw new ProtocolError("remote ephemeral key already set", "handshake_state");
          this.#re = take(DHLEN);
          await this.#mixEphemeral(this.#re);
        } else if (token === "s") {
          if (this.#rs !== undefined) throw new ProtocolError("remote static key already set", "handshake_state");
          const length = DHLEN + (this.#symmetric.cipher.hasKey() ? TAGLEN : 0);
          this.#rs = await this.#symmetric.decryptAndHash(take(length));
        } else {
          await this.#mixToken(token);
        }
      }
      if (this.#symmetric.cipher.hasKey() && message.length - offset < TAGLEN) {
        throw new ProtocolError("handshake message too short", "bad_frame");
      }
      return this.#symmetric.decryptAndHash(message.subarray(offset));
    });
  }

  /** Check the turn and return the tokens of the next message pattern. */
  #begin(writing: boolean): readonly Token[] {
    if (this.#failed) throw new ProtocolError("handshake already failed", "handshake_state");
    if (this.#busy) throw new ProtocolError("handshake message already in progress", "handshake_state");
    if (this.isComplete) throw new ProtocolError("handshake already complete", "handshake_state");
    if (this.isMyTurn !== writing) {
      throw new ProtocolError(writing ? "not our turn to write" : "not our turn to read", "handshake_state");
    }
    this.#busy = true;
    return this.pattern.messages[this.#messageIndex] ?? [];
  }

  /** Run one message's processing; any error leaves the handshake failed for good. */
  async #run<T>(body: () => Promise<T>): Promise<T> {
    try {
      const result = await body();
      this.#messageIndex += 1;
      if (this.#messageIndex === this.pattern.messages.length) await this.#split();
      return result;
    } catch (err) {
      this.#failed = true;
      throw err;
    } finally {
      this.#busy = false;
    }
  }

  /** The exact length of the message we would write, computed without touching state. */
  #messageLength(tokens: readonly Token[], payloadLength: number): number {
    let hasKey = this.#symmetric.cipher.hasKey();
    let length = 0;
    for (const token of tokens) {
      if (token === "e") {
        length += DHLEN;
        hasKey ||= this.pattern.psk;
      } else if (token === "s") {
        length += DHLEN + (hasKey ? TAGLEN : 0);
      } else {
        hasKey = true; // every DH token and psk calls MixKey / MixKeyAndHash
      }
    }
    return length + payloadLength + (hasKey ? TAGLEN : 0);
  }

  /** MixHash(e), and in PSK handshakes also MixKey(e) (section 9.2). */
  async #mixEphemeral(publicKey: Uint8Array): Promise<void> {
    await this.#symmetric.mixHash(publicKey);
    if (this.pattern.psk) await this.#symmetric.mixKey(publicKey);
  }

  /** A pre-message key: ours if `local`, else the peer's (which must have been given). */
  async #mixPreMessageKey(token: PreToken, local: boolean): Promise<void> {
    let key: Uint8Array;
    if (token === "s") key = local ? required(this.#s, "local static key").publicKey : required(this.#rs, "remote static key");
    else key = local ? required(this.#e, "local ephemeral key").publicKey : required(this.#re, "remote ephemeral key");
    if (token === "e") await this.#mixEphemeral(key);
    else await this.#symmetric.mixHash(key);
  }

  /** The DH tokens ee, es, se, ss and the psk token. */
  async #mixToken(token: Exclude<Token, "e" | "s">): Promise<void> {
    const s = (): KeyPair => required(this.#s, "local static key");
    const e = (): KeyPair => required(this.#e, "local ephemeral key");
    const rs = (): Bytes => required(this.#rs, "remote static key");
    const re = (): Bytes => required(this.#re, "remote ephemeral key");
    switch (token) {
      case "ee":
        return this.#symmetric.mixKey(await dh(e().privateKey, re()));
      case "es": // initiator's ephemeral with responder's static
        return this.#symmetric.mixKey(
          await (this.initiator ? dh(e().privateKey, rs()) : dh(s().privateKey, re())));
      case "se": // initiator's static with responder's ephemeral
        return this.#symmetric.mixKey(
          await (this.initiator ? dh(s().privateKey, re()) : dh(e().privateKey, rs())));
      case "ss":
        return this.#symmetric.mixKey(await dh(s().privateKey, rs()));
      case "psk": {
        const psk = this.#psks[this.#pskIndex++];
        return this.#symmetric.mixKeyAndHash(required(psk, "pre-shared key"));
      }
    }
  }

  /** Split into transport CipherStates, assigned by role. */
  async #split(): Promise<void> {
    const [c1, c2] = await this.#symmetric.split();
    const handshakeHash = this.#symmetric.getHandshakeHash();
    if (this.pattern.oneWay) {
      this.#transport = this.initiator
        ? { send: c1, receive: null, handshakeHash }
        : { send: null, receive: c1, handshakeHash };
    } else {
      this.#transport = this.initiator
        ? { send: c1, receive: c2, handshakeHash }
        : { send: c2, receive: c1, handshakeHash };
    }
  }
}

/** The value, or a ProtocolError naming what the pattern needed but was not given. */
function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new ProtocolError(`the handshake pattern needs a ${what}`, "handshake_state");
  return value;
}
