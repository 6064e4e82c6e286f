/**
 * A TypeScript "device" that a Python host test drives through commands
 * (tests written by the host side run it under Node and in headless
 * Chromium). One device has one static key (non-extractable, made on first
 * use), at most one current handshake and one current Session. Byte strings
 * are lowercase hex; failures come back as `{error: {code, message}}` and
 * `call` never throws.
 *
 * Commands:
 *   device_public {}                     -> {public}
 *   offer_make {relay, now}              -> {uri}           the device makes an offer (ttl 60) and responds
 *   offer_read {message}                 -> {message}       reads XXpsk0 message 1, writes message 2
 *   offer_finish {message}               -> {confirmation_code}   reads message 3; the pairing Session starts
 *   code_new {relay}                     -> {code}          a fresh typed code, XXXX-XXXX
 *   code_commit {message}                -> {message}       reads the host's commitment, writes XX message 1
 *   code_read {message}                  -> {message, comparison_code}   reads message 2, writes message 3
 *   session_start {host_public, room}    -> {message}       IK message 1
 *   session_finish {message}             -> {}              reads IK message 2; the Session starts
 *   seal {body}                          -> {ciphertext}    body: JSON text of a message, decoded and re-encoded
 *   open {ciphertext}                    -> {body}          the opened message, re-encoded as JSON text
 */

import { fromHex, toHex, utf8 } from "../src/protocol/bytes";
import { TextportError } from "../src/protocol/errors";
import { type KeyPair, generateKeyPair } from "../src/protocol/keys";
import { decodeMessage, encodeMessage } from "../src/protocol/messages";
import {
  CodeDeviceHandshake,
  PairingOffer,
  confirmationCode,
  newCode,
  offerHandshake,
} from "../src/protocol/pairing";
import { type Handshake, type Session, deviceHandshake } from "../src/protocol/session";

export type Args = Record<string, unknown>;
export type Result = Record<string, unknown>;

export interface Device {
  call(cmd: string, args: Args): Promise<Result>;
}

/** A wrong command or argument from the driving test. */
class UsageError extends Error {}

function text(args: Args, name: string): string {
  const value = args[name];
  if (typeof value !== "string") throw new UsageError(`argument ${name} must be a string`);
  return value;
}

function hex(args: Args, name: string): Uint8Array {
  const value = text(args, name);
  if (!/^([0-9a-f]{2})*$/.test(value)) throw new UsageError(`argument ${name} must be lowercase hex`);
  return fromHex(value);
}

function number(args: Args, name: string): number {
  const value = args[name];
  if (typeof value !== "number" || !Number.isFinite(value)) throw new UsageError(`argument ${name} must be a number`);
  return value;
}

/** Seconds since the epoch: the clock a Session is started with. */
function now(): number {
  return Date.now() / 1000;
}

export function createDevice(): Device {
  let staticKey: Promise<KeyPair> | null = null;
  let handshake: Handshake | null = null;
  let codeHandshake: CodeDeviceHandshake | null = null;
  let session: Session | null = null;
  let queue: Promise<unknown> = Promise.resolve();

  const key = (): Promise<KeyPair> => (staticKey ??= generateKeyPair(false));

  function current(): Handshake {
    if (handshake === null) throw new UsageError("no handshake in progress");
    return handshake;
  }

  function currentSession(): Session {
    if (session === null) throw new UsageError("no session");
    return session;
  }

  function start(next: Handshake): void {
    handshake = next;
    codeHandshake = null;
  }

  const commands: Record<string, (args: Args) => Promise<Result>> = {
    async device_public() {
      return { public: toHex((await key()).publicKey) };
    },

    async offer_make(args) {
      const offer = PairingOffer.create(text(args, "relay"), { now: number(args, "now"), ttl: 60 });
      start(await offerHandshake(offer, await key(), { madeOffer: true }));
      return { uri: offer.toUri() };
    },

    async offer_read(args) {
      const hs = current();
      await hs.read(hex(args, "message"));
      return { message: toHex(await hs.write()) };
    },

    async offer_finish(args) {
      const hs = current();
      await hs.read(hex(args, "message"));
      const code = await confirmationCode(hs);
      session = hs.session(now());
      return { confirmation_code: code };
    },

    async code_new(args) {
      const code = newCode();
      const hs = await CodeDeviceHandshake.create(code, text(args, "relay"), await key());
      start(hs);
      codeHandshake = hs;
      return { code };
    },

    async code_commit(args) {
      if (codeHandshake === null || handshake !== codeHandshake) throw new UsageError("no typed-code pairing in progress");
      codeHandshake.readCommitment(hex(args, "message"));
      return { message: toHex(await codeHandshake.write()) };
    },

    async code_read(args) {
      if (codeHandshake === null || handshake !== codeHandshake) throw new UsageError("no typed-code pairing in progress");
      const hs = codeHandshake;
      await hs.read(hex(args, "message"));
      const message = await hs.write();
      const comparison = await hs.comparisonCode();
      session = hs.session(now());
      return { message: toHex(message), comparison_code: comparison };
    },

    async session_start(args) {
      const hs = await deviceHandshake(await key(), hex(args, "host_public"), hex(args, "room"));
      start(hs);
      return { message: toHex(await hs.write()) };
    },

    async session_finish(args) {
      const hs = current();
      await hs.read(hex(args, "message"));
      session = hs.session(now());
      return {};
    },

    async seal(args) {
      const message = decodeMessage(utf8(text(args, "body")));
      return { ciphertext: toHex(await currentSession().seal(message)) };
    },

    async open(args) {
      const message = await currentSession().open(hex(args, "ciphertext"));
      return { body: new TextDecoder().decode(encodeMessage(message)) };
    },
  };

  async function run(cmd: string, args: Args): Promise<Result> {
    try {
      const command = Object.hasOwn(commands, cmd) ? commands[cmd] : undefined;
      if (command === undefined) throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
      return await command(typeof args === "object" && args !== null ? args : {});
    } catch (err) {
      if (err instanceof TextportError) return { error: { code: err.code, message: err.message } };
      const message = err instanceof Error ? err.message : String(err);
      return { error: { code: "internal", message } };
    }
  }

  return {
    // Commands run one at a time, in call order.
    call(cmd: string, args: Args): Promise<Result> {
      const result = queue.then(() => run(cmd, args));
      queue = result;
      return result;
    },
  };
}
