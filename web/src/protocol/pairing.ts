/**
 * Pairing a device with a host (docs/protocol.md sections 5 and 6), without I/O.
 *
 * Two ways in:
 *
 * - an **offer** (QR code or link) carrying a 32-byte secret:
 *   `Noise_XXpsk0`, the party that read the offer initiating;
 * - a **typed code** that only names the relay channel: the host commits to
 *   its ephemeral key, `Noise_XX` with the device initiating, and a six-digit
 *   comparison code.
 *
 * Mirrors src/textport/protocol/pairing.py. Randomness is injectable: `rng`
 * for offers and codes, a fixed `ephemeral` key for handshakes.
 */

import { type Bytes, bytes } from "./bytes";
import * as derive from "./derive";
import { CryptoError, ProtocolError } from "./errors";
import { HandshakeState, type KeyPair, generateKeyPair } from "./noise";
import { type EphemeralOption, Handshake } from "./session";
import { codePointLength, pyStrip } from "./text";
import { checkRelay, parseQsl, quote } from "./url";

/** A source of randomness: `rng(n)` returns `n` random bytes. */
export type Random = (n: number) => Uint8Array;

/** `crypto.getRandomValues`. */
export const randomBytes: Random = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n));

export const SCHEME = "textport-pair";
export const OFFER_VERSION = "1";
/** An offer may not claim to stay valid longer than this many seconds. */
export const MAX_OFFER_AHEAD = 3600;
export const MAX_OFFER_LENGTH = 1024;
export const CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const CODE_LENGTH = 8;
export const CODE_CHANNEL_PREFIX = "code-";

export { checkRelay } from "./url";

/** What a QR code or pairing link carries; the secret is not an enumerable property. */
export class PairingOffer {
  readonly #secret: Bytes;

  constructor(
    readonly relay: string,
    readonly channel: Bytes,
    secret: Uint8Array,
    /** Expiry, Unix seconds. */
    readonly expires: number,
  ) {
    this.#secret = bytes(secret);
  }

  get secret(): Bytes {
    return this.#secret;
  }

  get channelName(): string {
    return derive.b64url(this.channel);
  }

  /** A fresh offer for `relay`, valid `ttl` seconds from `now` (seconds). */
  static create(relay: string, options: { now: number; ttl: number; rng?: Random }): PairingOffer {
    checkRelay(relay);
    const rng = options.rng ?? randomBytes;
    const channel = bytes(rng(derive.CHANNEL_LEN));
    const secret = rng(derive.SECRET_LEN);
    return new PairingOffer(relay, channel, secret, Math.trunc(options.now) + options.ttl);
  }

  toUri(): string {
    return `${SCHEME}:${OFFER_VERSION}?r=${quote(this.relay)}&c=${this.channelName}`
      + `&s=${derive.b64url(this.#secret)}&e=${this.expires}`;
  }

  /**
   * Parse and check an offer the user scanned, pasted or opened. Accepts the
   * bare URI or a link whose fragment holds it. Throws ProtocolError:
   * bad_pairing_code, version_mismatch, pairing_expired or relay_not_allowed.
   * `allowedRelays` "any" is for a link the user pasted to add another phone,
   * whose relay is that phone's own.
   */
  static parse(text: string, options: { now: number; allowedRelays: Iterable<string> | "any" }): PairingOffer {
    const { now } = options;
    text = pyStrip(text);
    if (codePointLength(text) > MAX_OFFER_LENGTH) {
      throw new ProtocolError("that pairing code is too long", "bad_pairing_code");
    }
    const hash = text.indexOf("#");
    if (hash >= 0) text = text.slice(hash + 1);
    const [scheme, rest] = partition(text, ":");
    if (scheme !== SCHEME) {
      throw new ProtocolError(
        "not a textport pairing code (it should start with textport-pair:)", "bad_pairing_code");
    }
    const [version, query] = partition(rest, "?");
    if (version !== OFFER_VERSION) {
      throw new ProtocolError(
        `pairing code version ${JSON.stringify(version)} is not supported; update textport`,
        "version_mismatch");
    }
    let offer: PairingOffer;
    try {
      const fields = new Map(parseQsl(query, 8));
      const relay = fields.get("r");
      const channel = fields.get("c");
      const secret = fields.get("s");
      const expiry = fields.get("e");
      if (relay === undefined || channel === undefined || secret === undefined || expiry === undefined) {
        throw new RangeError("a field is missing");
      }
      // ASCII digits only; see the report on Python's str.isdigit().
      const expires = /^[0-9]+$/.test(expiry) ? Number(expiry) : -1;
      offer = new PairingOffer(
        relay,
        derive.unb64url(channel, derive.CHANNEL_LEN),
        derive.unb64url(secret, derive.SECRET_LEN),
        expires,
      );
    } catch (err) {
      if (err instanceof RangeError || err instanceof ProtocolError) {
        throw new ProtocolError("the pairing code is damaged; copy it again", "bad_pairing_code");
      }
      throw err;
    }
    checkRelay(offer.relay);
    if (offer.expires < 0 || offer.expires > now + MAX_OFFER_AHEAD) {
      throw new ProtocolError("the pairing code's expiry is invalid", "bad_pairing_code");
    }
    if (now > offer.expires) {
      throw new ProtocolError("the pairing code expired; show a new one", "pairing_expired");
    }
    if (options.allowedRelays !== "any" && ![...options.allowedRelays].includes(offer.relay)) {
      throw new ProtocolError(
        "the pairing code names a relay this host is not configured for", "relay_not_allowed");
    }
    return offer;
  }
}

/** Python's `str.partition`: the text before the first `separator` and after it. */
function partition(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + separator.length)];
}

/** `Noise_XXpsk0`: the reader of the offer initiates, its maker responds. */
export async function offerHandshake(
  offer: PairingOffer,
  staticKey: KeyPair,
  options: { madeOffer: boolean } & EphemeralOption,
): Promise<Handshake> {
  return new Handshake(
    await HandshakeState.initialize({
      protocolName: derive.PAIR_PROTOCOL,
      initiator: !options.madeOffer,
      prologue: derive.pairPrologue(offer.relay, offer.channelName),
      s: staticKey,
      psks: [offer.secret],
      ...(options.ephemeral === undefined ? {} : { e: options.ephemeral }),
    }),
  );
}

/** The code both sides show after an offer handshake, e.g. `4F2A-91C3`. */
export async function confirmationCode(handshake: Handshake): Promise<string> {
  return derive.confirmationCode(handshake.handshakeHash);
}

// ---------------------------------------------------------------- typed codes

/** A fresh typed code (40 random bits), e.g. `K7QF-3M9X`. */
export function newCode(rng: Random = randomBytes): string {
  let value = 0;
  for (const byte of rng(5).subarray(0, 5)) value = value * 256 + byte;
  let chars = "";
  for (let i = CODE_LENGTH - 1; i >= 0; i--) chars += CODE_ALPHABET[Math.floor(value / 2 ** (5 * i)) % 32];
  return `${chars.slice(0, 4)}-${chars.slice(4)}`;
}

/** Canonical form of a typed code: 8 characters, no separator; else "bad_pairing_code". */
export function normalizeCode(text: string): string {
  const cleaned = pyStrip(text)
    .toUpperCase()
    .replace(/[- ]/g, "")
    .replace(/[IL]/g, "1")
    .replace(/O/g, "0");
  if (codePointLength(cleaned) !== CODE_LENGTH || ![...cleaned].every((c) => CODE_ALPHABET.includes(c))) {
    throw new ProtocolError("a pairing code is 8 letters and digits, like K7QF-3M9X", "bad_pairing_code");
  }
  return cleaned;
}

/** The relay channel a typed code names: `code-` and its canonical form. */
export function codeChannel(code: string): string {
  return CODE_CHANNEL_PREFIX + normalizeCode(code);
}

/** The host's side of typed-code pairing: commit, then Noise XX as responder. */
export class CodeHostHandshake extends Handshake {
  /** The first message on the channel, sent before the device's key is known. */
  readonly commitment: Bytes;

  private constructor(state: HandshakeState, commitment: Bytes) {
    super(state);
    this.commitment = commitment;
  }

  static async create(
    code: string,
    relay: string,
    staticKey: KeyPair,
    options: EphemeralOption = {},
  ): Promise<CodeHostHandshake> {
    const ephemeral = options.ephemeral ?? (await generateKeyPair());
    const state = await HandshakeState.initialize({
      protocolName: derive.CODE_PROTOCOL,
      initiator: false,
      prologue: derive.codePrologue(relay, codeChannel(code)),
      s: staticKey,
      e: ephemeral,
    });
    return new CodeHostHandshake(state, await derive.commitment(ephemeral.publicKey));
  }

  async comparisonCode(): Promise<string> {
    const deviceE = this.remoteEphemeral;
    const hostE = this.localEphemeral;
    if (deviceE === null || hostE === null) {
      throw new ProtocolError("no comparison code before message 1", "handshake_state");
    }
    return derive.comparisonCode(deviceE, hostE);
  }
}

/** The device's side: read the commitment, then Noise XX as initiator, checking it. */
export class CodeDeviceHandshake extends Handshake {
  #commitment: Bytes | null = null;

  static async create(
    code: string,
    relay: string,
    staticKey: KeyPair,
    options: EphemeralOption = {},
  ): Promise<CodeDeviceHandshake> {
    return new CodeDeviceHandshake(
      await HandshakeState.initialize({
        protocolName: derive.CODE_PROTOCOL,
        initiator: true,
        prologue: derive.codePrologue(relay, codeChannel(code)),
        s: staticKey,
        ...(options.ephemeral === undefined ? {} : { e: options.ephemeral }),
      }),
    );
  }

  /** Take the host's 36-byte commitment; another prefix or length is "version_mismatch". */
  readCommitment(message: Uint8Array): void {
    if (this.#commitment !== null) throw new ProtocolError("a second commitment", "handshake_state");
    const prefix = derive.COMMIT_PREFIX;
    if (message.length !== 36 || !prefix.every((b, i) => message[i] === b)) {
      this.fail();
      throw new ProtocolError("the host speaks another pairing version; update textport", "version_mismatch");
    }
    this.#commitment = bytes(message).slice();
  }

  override async write(): Promise<Bytes> {
    if (this.#commitment === null) {
      throw new ProtocolError("wait for the host's commitment", "handshake_state");
    }
    return super.write();
  }

  /** Read message 2 and check the host's ephemeral key against its commitment. */
  override async read(message: Uint8Array): Promise<void> {
    await super.read(message);
    const hostE = this.remoteEphemeral;
    if (this.#commitment === null || hostE === null) {
      throw new ProtocolError("no commitment to check", "handshake_state");
    }
    if (!constantTimeEqual(await derive.commitment(hostE), this.#commitment)) {
      this.fail();
      throw new CryptoError(
        "the host's key does not match its commitment; someone may be interfering, start pairing again",
        "commitment_mismatch");
    }
  }

  async comparisonCode(): Promise<string> {
    const deviceE = this.localEphemeral;
    const hostE = this.remoteEphemeral;
    if (deviceE === null || hostE === null) {
      throw new ProtocolError("no comparison code before message 2", "handshake_state");
    }
    return derive.comparisonCode(deviceE, hostE);
  }
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
