/**
 * Handshakes and the encrypted transport session (docs/protocol.md sections 7 and 8).
 *
 * `Handshake` drives one Noise handshake with textport's rules (empty
 * payloads, one failure ends it); `Session` is what it yields: padded,
 * counter-nonce AES-GCM in each direction, closed for good by the first
 * failure. No I/O; the clock is passed in (seconds). Mirrors
 * src/textport/protocol/session.py.
 */

import { type Bytes, EMPTY } from "./bytes";
import * as derive from "./derive";
import { CryptoError, ProtocolError } from "./errors";
import { type Message, decodeMessage, encodeMessage } from "./messages";
import { type CipherState, HandshakeState, type KeyPair, TAGLEN } from "./noise";

/** Padded plaintext sizes; 65519 = 65535 - 16 (the largest Noise plaintext). */
export const BUCKETS: readonly number[] = [128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65519];
export const MAX_BODY = 65519 - 2;
/** Messages per direction before a session must be replaced by a new handshake. */
export const MAX_SESSION_MESSAGES = 2 ** 20;
export const MAX_SESSION_SECONDS = 24 * 3600;

/** `u16be(len) ‖ body ‖ zeros` up to the smallest bucket that fits. */
export function pad(body: Uint8Array): Bytes {
  if (body.length > MAX_BODY) {
    throw new ProtocolError(
      `a message body is at most ${MAX_BODY} bytes, this one is ${body.length}`, "too_large");
  }
  const size = BUCKETS.find((bucket) => bucket >= body.length + 2) ?? MAX_BODY + 2;
  const out = new Uint8Array(size);
  out[0] = body.length >> 8;
  out[1] = body.length & 0xff;
  out.set(body, 2);
  return out;
}

/** The body inside a padded plaintext; refuses other sizes, overlong lengths and non-zero padding. */
export function unpad(plaintext: Uint8Array): Bytes {
  if (!BUCKETS.includes(plaintext.length)) {
    throw new ProtocolError("padded plaintext is not a bucket size", "bad_message");
  }
  const length = ((plaintext[0] ?? 0) << 8) | (plaintext[1] ?? 0);
  if (2 + length > plaintext.length) {
    throw new ProtocolError("padded length runs past the end", "bad_message");
  }
  for (let i = 2 + length; i < plaintext.length; i++) {
    if (plaintext[i] !== 0) throw new ProtocolError("padding is not zero", "bad_message");
  }
  return plaintext.slice(2, 2 + length);
}

/** What a finished handshake hands over. */
export interface HandshakeResult {
  readonly send: CipherState;
  readonly receive: CipherState;
  readonly handshakeHash: Bytes;
  readonly remoteStatic: Bytes | null;
}

/**
 * An established transport: seal and open application messages, in order,
 * once. Calls in each direction run one after another in call order, so
 * concurrent callers get consecutive nonces and the first failure closes the
 * session before any later call runs.
 */
export class Session {
  readonly handshakeHash: Bytes;
  readonly remoteStatic: Bytes | null;
  readonly startedAt: number;
  #closed = false;
  readonly #send: CipherState;
  readonly #receive: CipherState;
  #sendTail: Promise<unknown> = Promise.resolve();
  #receiveTail: Promise<unknown> = Promise.resolve();

  constructor(result: HandshakeResult, startedAt: number) {
    this.#send = result.send;
    this.#receive = result.receive;
    this.handshakeHash = result.handshakeHash;
    this.remoteStatic = result.remoteStatic;
    this.startedAt = startedAt;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
  }

  /** True when the session is a day old; the device should reconnect. */
  rekeyDue(now: number): boolean {
    return now - this.startedAt >= MAX_SESSION_SECONDS;
  }

  #checkOpen(): void {
    if (this.#closed) throw new ProtocolError("the session is closed; reconnect", "session_closed");
  }

  /** Pad and encrypt one body. A body over MAX_BODY is refused ("too_large") without closing. */
  sealBody(body: Uint8Array): Promise<Bytes> {
    return this.#serialize("send", async () => {
      this.#checkOpen();
      if (this.#send.nonce >= BigInt(MAX_SESSION_MESSAGES)) {
        this.#closed = true;
        throw new ProtocolError("session message limit reached", "rekey_required");
      }
      return this.#send.encryptWithAd(EMPTY, pad(body));
    });
  }

  /** Decrypt and unpad the next message from the peer; any failure closes the session. */
  openBody(data: Uint8Array): Promise<Bytes> {
    return this.#serialize("receive", async () => {
      this.#checkOpen();
      try {
        if (this.#receive.nonce >= BigInt(MAX_SESSION_MESSAGES)) {
          throw new ProtocolError("session message limit reached", "rekey_required");
        }
        if (data.length < (BUCKETS[0] ?? 0) + TAGLEN) {
          throw new ProtocolError("transport message too short", "bad_frame");
        }
        return unpad(await this.#receive.decryptWithAd(EMPTY, data));
      } catch (err) {
        this.#closed = true;
        throw err;
      }
    });
  }

  seal(message: Message): Promise<Bytes> {
    return this.sealBody(encodeMessage(message));
  }

  /** Open and decode the next message; a body that does not decode also closes the session. */
  async open(data: Uint8Array): Promise<Message> {
    const body = await this.openBody(data);
    try {
      return decodeMessage(body);
    } catch (err) {
      this.#closed = true;
      throw err;
    }
  }

  /** Run `op` after every earlier call in the same direction. */
  #serialize<T>(direction: "send" | "receive", op: () => Promise<T>): Promise<T> {
    const result = (direction === "send" ? this.#sendTail : this.#receiveTail).then(op);
    const settled = result.catch(() => undefined);
    if (direction === "send") this.#sendTail = settled;
    else this.#receiveTail = settled;
    return result;
  }
}

/** One handshake under textport's rules: every payload empty, the first failure fatal. */
export class Handshake {
  #failed = false;

  constructor(protected readonly state: HandshakeState) {}

  get failed(): boolean {
    return this.#failed;
  }

  /** Mark the handshake as failed for good (for subclasses' own checks). */
  protected fail(): void {
    this.#failed = true;
  }

  get done(): boolean {
    return this.state.isComplete;
  }

  get remoteStatic(): Bytes | null {
    return this.state.remoteStatic;
  }

  get localEphemeral(): Bytes | null {
    return this.state.localEphemeral;
  }

  get remoteEphemeral(): Bytes | null {
    return this.state.remoteEphemeral;
  }

  /** The final handshake hash; "handshake_state" until the handshake is finished. */
  get handshakeHash(): Bytes {
    return this.state.transport().handshakeHash;
  }

  /** Write our next message (with an empty payload). */
  async write(): Promise<Bytes> {
    this.#checkAlive();
    try {
      return await this.state.writeMessage(EMPTY);
    } catch (err) {
      this.#failed = true;
      throw err;
    }
  }

  /** Read the peer's next message; a non-empty payload is "bad_message". */
  async read(message: Uint8Array): Promise<void> {
    this.#checkAlive();
    try {
      const payload = await this.state.readMessage(message);
      if (payload.length > 0) {
        throw new ProtocolError("handshake payloads are empty in protocol v1", "bad_message");
      }
    } catch (err) {
      this.#failed = true;
      throw err;
    }
  }

  /** The transport session; call it once, when `done`. */
  session(now: number): Session {
    if (!this.done) throw new ProtocolError("the handshake is not finished", "handshake_state");
    const { send, receive, handshakeHash } = this.state.transport();
    if (send === null || receive === null) throw new ProtocolError("one-way handshake", "handshake_state");
    return new Session({ send, receive, handshakeHash, remoteStatic: this.remoteStatic }, now);
  }

  #checkAlive(): void {
    if (this.#failed) throw new ProtocolError("the handshake already failed", "handshake_state");
  }
}

/** Optional fixed ephemeral key, for tests and vectors (else a fresh one). */
export interface EphemeralOption {
  readonly ephemeral?: KeyPair;
}

function ephemeralOptions(options: EphemeralOption): { e?: KeyPair } {
  return options.ephemeral === undefined ? {} : { e: options.ephemeral };
}

/** The device's side of a session handshake (Noise IK initiator). */
export async function deviceHandshake(
  deviceKey: KeyPair,
  hostPublic: Uint8Array,
  room: Uint8Array,
  options: EphemeralOption = {},
): Promise<Handshake> {
  if (hostPublic.length !== 32 || room.length !== derive.ROOM_LEN) {
    throw new CryptoError("host key or room has the wrong size", "bad_key");
  }
  return new Handshake(
    await HandshakeState.initialize({
      protocolName: derive.SESSION_PROTOCOL,
      initiator: true,
      prologue: derive.sessionPrologue(room, await derive.hostId(hostPublic)),
      s: deviceKey,
      rs: hostPublic,
      ...ephemeralOptions(options),
    }),
  );
}

/**
 * The host's side of a session handshake (Noise IK responder). After
 * `read(message1)`, check `remoteStatic` against the device allow-list before
 * `write()`-ing message 2.
 */
export async function hostHandshake(
  hostKey: KeyPair,
  room: Uint8Array,
  options: EphemeralOption = {},
): Promise<Handshake> {
  return new Handshake(
    await HandshakeState.initialize({
      protocolName: derive.SESSION_PROTOCOL,
      initiator: false,
      prologue: derive.sessionPrologue(room, await derive.hostId(hostKey.publicKey)),
      s: hostKey,
      ...ephemeralOptions(options),
    }),
  );
}
