/**
 * Replays every entry of tests/vectors/textport-v1.json (written by the
 * Python side, tests/vectors/generate.py) through the TypeScript
 * implementation and compares byte for byte, plus failures that must happen:
 * tampered, replayed and reordered transport, a wrong PSK, another room.
 */

import { describe, expect, it } from "vitest";

import { fromHex, toHex, utf8 } from "../src/protocol/bytes";
import * as derive from "../src/protocol/derive";
import { CryptoError } from "../src/protocol/errors";
import { decodeFrame, encodeControl, encodeData } from "../src/protocol/frames";
import { decodeMessage, encodeMessage } from "../src/protocol/messages";
import {
  CodeDeviceHandshake,
  CodeHostHandshake,
  PairingOffer,
  confirmationCode,
  newCode,
  normalizeCode,
  offerHandshake,
} from "../src/protocol/pairing";
import {
  type Handshake,
  type Session,
  deviceHandshake,
  hostHandshake,
  pad,
  unpad,
} from "../src/protocol/session";
import { type TransportEntry, codeOf, drbg, expectCode, failure, key, loadVectors } from "./helpers";

const V = loadVectors();
const NOW = V.pairing_offer.now;
const RELAY = V.pairing_code.relay;

/**
 * The exact size of every list, so a vector file that loses entries fails.
 * When generate.py gains entries, raise these numbers with it.
 */
const COUNTS = {
  messages: 43,
  invalid_messages: 41,
  frames: 15,
  invalid_frames: 18,
  padding: 9,
  bad_offers: 12,
  typed_codes: 6,
  pairing_offer_transport: 2,
  pairing_code_transport: 2,
  session_transport: 40,
};

/**
 * Step through a handshake transcript. Each side reads the vector's bytes
 * (not the other TypeScript side's), so each role is checked on its own.
 */
async function replayHandshake(initiator: Handshake, responder: Handshake, expected: readonly string[]): Promise<void> {
  for (const [i, hex] of expected.entries()) {
    const [writer, reader] = i % 2 === 0 ? [initiator, responder] : [responder, initiator];
    expect(toHex(await writer.write()), `handshake message ${i + 1}`).toBe(hex);
    await reader.read(fromHex(hex));
  }
  expect(initiator.done && responder.done).toBe(true);
}

/** Seal every body on its sender's session and open it on the other: both byte for byte. */
async function replayTransport(device: Session, host: Session, transport: readonly TransportEntry[]): Promise<void> {
  for (const [i, entry] of transport.entries()) {
    const [sealer, opener] = entry.from === "device" ? [device, host] : [host, device];
    const message = decodeMessage(utf8(entry.body));
    expect(toHex(await sealer.seal(message)), `transport ${i} ciphertext`).toBe(entry.ciphertext);
    const opened = await opener.open(fromHex(entry.ciphertext));
    expect(new TextDecoder().decode(encodeMessage(opened)), `transport ${i} body`).toBe(entry.body);
  }
}

describe("vector file", () => {
  it("has the expected number of entries in every list", () => {
    expect(V.version).toBe(1);
    expect(V.messages).toHaveLength(COUNTS.messages);
    expect(V.invalid_messages).toHaveLength(COUNTS.invalid_messages);
    expect(V.frames).toHaveLength(COUNTS.frames);
    expect(V.invalid_frames).toHaveLength(COUNTS.invalid_frames);
    expect(V.padding).toHaveLength(COUNTS.padding);
    expect(V.bad_offers).toHaveLength(COUNTS.bad_offers);
    expect(V.typed_codes).toHaveLength(COUNTS.typed_codes);
    expect(V.pairing_offer.messages).toHaveLength(3);
    expect(V.pairing_code.messages).toHaveLength(3);
    expect(V.session.messages).toHaveLength(2);
    expect(V.pairing_offer.transport).toHaveLength(COUNTS.pairing_offer_transport);
    expect(V.pairing_code.transport).toHaveLength(COUNTS.pairing_code_transport);
    expect(V.session.transport).toHaveLength(COUNTS.session_transport);
  });
});

describe("identities", () => {
  it("derives the public keys, ids, token hash and session prologue", async () => {
    const id = V.identities;
    const host = await key(id.host_static);
    const device = await key(id.device_static);
    expect(toHex(host.publicKey)).toBe(id.host_public);
    expect(toHex(device.publicKey)).toBe(id.device_public);
    expect(toHex(await derive.hostId(host.publicKey))).toBe(id.host_id);
    expect(toHex(await derive.deviceId(device.publicKey))).toBe(id.device_id);
    expect(toHex(await derive.tokenHash(fromHex(id.token)))).toBe(id.token_hash);
    const room = utf8("R".repeat(16));
    expect(toHex(derive.sessionPrologue(room, fromHex(id.host_id)))).toBe(id.session_prologue);
  });
});

describe("pairing by offer (XXpsk0)", () => {
  const T = V.pairing_offer;

  it("makes the same offer from the same randomness", async () => {
    const offer = PairingOffer.create(RELAY, { now: NOW, ttl: 60, rng: await drbg("offer", [16, 32]) });
    expect(offer.toUri()).toBe(T.offer);
    // generate.py's ephemeral keys are each side's first rng(32).
    expect(toHex((await drbg("offer reader", [32]))(32))).toBe(T.reader_ephemeral);
    expect(toHex((await drbg("offer maker", [32]))(32))).toBe(T.maker_ephemeral);
  });

  it("parses the offer and plays both roles byte for byte", async () => {
    const offer = PairingOffer.parse(T.offer, { now: T.now, allowedRelays: [RELAY] });
    expect(offer.relay).toBe(RELAY);
    expect(offer.expires).toBe(T.now + 60);
    expect(offer.toUri()).toBe(T.offer);
    const reader = await offerHandshake(offer, await key(T.reader_static), {
      madeOffer: false, ephemeral: await key(T.reader_ephemeral) });
    const maker = await offerHandshake(offer, await key(T.maker_static), {
      madeOffer: true, ephemeral: await key(T.maker_ephemeral) });
    await replayHandshake(reader, maker, T.messages);
    expect(T.messages.map((m) => m.length / 2)).toEqual([48, 96, 64]);
    expect(toHex(reader.handshakeHash)).toBe(T.handshake_hash);
    expect(toHex(maker.handshakeHash)).toBe(T.handshake_hash);
    expect(await confirmationCode(reader)).toBe(T.confirmation_code);
    expect(await confirmationCode(maker)).toBe(T.confirmation_code);
    // Each side learned the other's static key.
    expect(toHex(maker.remoteStatic!)).toBe(toHex((await key(T.reader_static)).publicKey));
    expect(toHex(reader.remoteStatic!)).toBe(toHex((await key(T.maker_static)).publicKey));
    // The reader is the host in generate.py, the maker the device.
    await replayTransport(maker.session(NOW), reader.session(NOW), T.transport);
  });

  it("also parses the offer inside a link's fragment", async () => {
    const offer = PairingOffer.parse(`  http://127.0.0.1:8750/#${T.offer}\n`, { now: T.now, allowedRelays: [RELAY] });
    expect(offer.toUri()).toBe(T.offer);
  });
});

describe("pairing by typed code (commitment + XX)", () => {
  const T = V.pairing_code;

  it("makes the same code from the same randomness", async () => {
    expect(newCode(await drbg("typed code", [5]))).toBe(T.code);
    expect(toHex((await drbg("code host", [32]))(32))).toBe(T.host_ephemeral);
    expect(toHex((await drbg("code device", [32]))(32))).toBe(T.device_ephemeral);
  });

  it("plays both roles byte for byte", async () => {
    const host = await CodeHostHandshake.create(T.code, T.relay, await key(T.host_static), {
      ephemeral: await key(T.host_ephemeral) });
    const device = await CodeDeviceHandshake.create(T.code, T.relay, await key(T.device_static), {
      ephemeral: await key(T.device_ephemeral) });
    expect(toHex(host.commitment)).toBe(T.commitment);
    device.readCommitment(fromHex(T.commitment));
    await replayHandshake(device, host, T.messages);
    expect(toHex(host.handshakeHash)).toBe(T.handshake_hash);
    expect(toHex(device.handshakeHash)).toBe(T.handshake_hash);
    expect(await host.comparisonCode()).toBe(T.comparison_code);
    expect(await device.comparisonCode()).toBe(T.comparison_code);
    await replayTransport(device.session(NOW), host.session(NOW), T.transport);
  });
});

/** Fresh device and host handshakes of the session transcript. */
async function sessionHandshakes(room = fromHex(V.session.room)): Promise<{ device: Handshake; host: Handshake }> {
  const T = V.session;
  const hostKey = await key(T.host_static);
  const device = await deviceHandshake(await key(T.device_static), hostKey.publicKey, room, {
    ephemeral: await key(T.device_ephemeral) });
  const host = await hostHandshake(hostKey, room, { ephemeral: await key(T.host_ephemeral) });
  return { device, host };
}

/** The two sessions of the session transcript, fresh. */
async function sessions(): Promise<{ device: Session; host: Session }> {
  const { device, host } = await sessionHandshakes();
  await host.read(await device.write());
  await device.read(await host.write());
  return { device: device.session(NOW), host: host.session(NOW) };
}

describe("session (IK)", () => {
  const T = V.session;

  it("plays both roles byte for byte", async () => {
    const { device, host } = await sessionHandshakes();
    await replayHandshake(device, host, T.messages);
    expect(T.messages.map((m) => m.length / 2)).toEqual([96, 48]);
    expect(toHex(host.handshakeHash)).toBe(T.handshake_hash);
    expect(toHex(device.handshakeHash)).toBe(T.handshake_hash);
    expect(toHex(host.remoteStatic!)).toBe(toHex((await key(T.device_static)).publicKey));
    await replayTransport(device.session(NOW), host.session(NOW), T.transport);
  });

  it("fails at message 1 in another room (prologue mismatch)", async () => {
    const { device } = await sessionHandshakes();
    const { host } = await sessionHandshakes(utf8("another room 16b"));
    const message1 = await device.write();
    await expectCode(host.read(message1), "decrypt_failed");
    expect(host.failed).toBe(true);
    await expectCode(host.write(), "handshake_state");
  });

  /** For each transport message, the sessions with everything before it already opened. */
  async function before(index: number): Promise<{ opener: Session; entry: TransportEntry }> {
    const { device, host } = await sessions();
    const transport = T.transport;
    for (const entry of transport.slice(0, index)) {
      await (entry.from === "device" ? host : device).open(fromHex(entry.ciphertext));
    }
    const entry = transport[index]!;
    return { opener: entry.from === "device" ? host : device, entry };
  }

  it.each(T.transport.map((_, i) => i))("a flipped bit in transport message %i closes the session", async (i) => {
    const { entry } = await before(i);
    const ciphertext = fromHex(entry.ciphertext);
    for (const position of [0, ciphertext.length >> 1, ciphertext.length - 1]) {
      const { opener } = await before(i);
      const tampered = ciphertext.slice();
      tampered[position]! ^= 1 << ((i + position) % 8);
      const err = await failure(opener.open(tampered));
      expect(err).toBeInstanceOf(CryptoError);
      expect((err as CryptoError).code).toBe("decrypt_failed");
      expect(opener.closed).toBe(true);
      // The genuine message no longer opens: the session is closed for good.
      await expectCode(opener.open(ciphertext), "session_closed");
    }
  });

  it("rejects a replayed transport message", async () => {
    const { opener, entry } = await before(0);
    await opener.open(fromHex(entry.ciphertext));
    await expectCode(opener.open(fromHex(entry.ciphertext)), "decrypt_failed");
    await expectCode(opener.open(fromHex(T.transport[2]!.ciphertext)), "session_closed");
  });

  it("rejects reordered transport messages", async () => {
    // Messages 0 and 2 both go device -> host; 2 cannot be opened first.
    expect(T.transport[0]!.from).toBe("device");
    expect(T.transport[2]!.from).toBe("device");
    const { host } = await sessions();
    await expectCode(host.open(fromHex(T.transport[2]!.ciphertext)), "decrypt_failed");
    await expectCode(host.open(fromHex(T.transport[0]!.ciphertext)), "session_closed");
  });

  it("rejects a dropped transport message", async () => {
    const { host } = await sessions();
    await host.open(fromHex(T.transport[0]!.ciphertext));
    await expectCode(host.open(fromHex(T.transport[7]!.ciphertext)), "decrypt_failed");
  });
});

describe("wrong pairing secret", () => {
  it("fails at message 1 with decrypt_failed", async () => {
    const T = V.pairing_offer;
    const offer = PairingOffer.parse(T.offer, { now: T.now, allowedRelays: [RELAY] });
    const secret = offer.secret.slice();
    secret[0]! ^= 1;
    const wrong = new PairingOffer(offer.relay, offer.channel, secret, offer.expires);
    const reader = await offerHandshake(offer, await key(T.reader_static), { madeOffer: false });
    const maker = await offerHandshake(wrong, await key(T.maker_static), { madeOffer: true });
    await expectCode(maker.read(await reader.write()), "decrypt_failed");
    expect(maker.failed).toBe(true);
  });
});

describe("messages", () => {
  it.each(V.messages)("decodes and re-encodes %s identically", (text) => {
    const bytes = utf8(text);
    expect(toHex(encodeMessage(decodeMessage(bytes)))).toBe(toHex(bytes));
  });

  it.each(V.invalid_messages.map((v) => [v.code, v.body] as const))(
    "refuses with %s: %s", async (code, body) => {
      await expectCode(() => decodeMessage(fromHex(body)), code);
    });
});

describe("frames", () => {
  it.each(V.frames)("decodes and re-encodes %s identically", (hex) => {
    const frame = decodeFrame(fromHex(hex));
    const encoded = frame.op === "data" ? encodeData(frame.link, frame.payload) : encodeControl(frame);
    expect(toHex(encoded)).toBe(hex);
  });

  it.each(V.invalid_frames.map((v) => [v.code, v.frame.slice(0, 120)] as const))(
    "refuses with %s: %s", async (code, prefix) => {
      const entry = V.invalid_frames.find((v) => v.frame.startsWith(prefix) && v.code === code)!;
      await expectCode(() => decodeFrame(fromHex(entry.frame)), code);
    });
});

describe("padding", () => {
  it.each(V.padding.map((v) => [v.body_length, v.padded_length] as const))(
    "pads %i bytes to %i", (length, padded) => {
      const body = new Uint8Array(length).fill(1);
      const plaintext = pad(body);
      expect(plaintext).toHaveLength(padded);
      expect(toHex(unpad(plaintext))).toBe(toHex(body));
    });
});

describe("offers and typed codes", () => {
  it.each(V.bad_offers.map((v) => [v.code, v.offer, v] as const))(
    "refuses with %s: %s", async (code, _offer, v) => {
      await expectCode(() => PairingOffer.parse(v.offer, { now: v.now, allowedRelays: v.allowed_relays }), code);
    });

  it.each(V.typed_codes.map((v) => [v.input, v.result] as const))(
    "normalizes %j to %s", async (input, result) => {
      if (result === "bad_pairing_code") await expectCode(() => normalizeCode(input), result);
      else expect(normalizeCode(input)).toBe(result);
    });

  it("typed code vectors are distinct from failures", async () => {
    expect(await codeOf(() => normalizeCode("K7QF-3M9X"))).toBe("ok");
  });
});
