/**
 * The Noise implementation against the published test vectors
 * (tests/vectors/noise/, see SOURCE.md there), plus its error behaviour.
 */

import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

import { EMPTY, fromHex, toHex } from "../src/protocol/bytes";
import { CryptoError, ProtocolError, TextportError } from "../src/protocol/errors";
import {
  type HandshakeOptions,
  HandshakeState,
  type KeyPair,
  MAX_MESSAGE_LEN,
  generateKeyPair,
  importPrivateKey,
  parseProtocolName,
} from "../src/protocol/noise";

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_psks?: string[];
  init_static?: string;
  init_ephemeral?: string;
  init_remote_static?: string;
  resp_prologue: string;
  resp_psks?: string[];
  resp_static?: string;
  resp_ephemeral?: string; // absent for the responder of one-way patterns
  resp_remote_static?: string;
  handshake_hash?: string;
  messages: { payload: string; ciphertext: string }[];
}

const VECTOR_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../tests/vectors/noise");
const SOURCES = ["cacophony", "snow"] as const;

function loadVectors(): [string, Vector][] {
  return SOURCES.flatMap((source) => {
    const file = resolve(VECTOR_DIR, `${source}-25519_AESGCM_SHA256.json`);
    const { vectors } = JSON.parse(readFileSync(file, "utf8")) as { vectors: Vector[] };
    return vectors.map((v, i): [string, Vector] => [`${source} #${i} ${v.protocol_name}`, v]);
  });
}

const VECTORS = loadVectors();

/** Options for one side of a vector; the ephemeral key is the vector's fixed one. */
async function sideOptions(v: Vector, initiator: boolean): Promise<HandshakeOptions> {
  const side = initiator ? "init" : "resp";
  const staticHex = v[`${side}_static`];
  const remoteHex = v[`${side}_remote_static`];
  const ephemeralHex = v[`${side}_ephemeral`];
  const ephemeral = ephemeralHex === undefined ? undefined : await importPrivateKey(fromHex(ephemeralHex));
  const generateEphemeral = async (): Promise<KeyPair> => {
    if (ephemeral === undefined) throw new Error("the vector gives no ephemeral key for this side");
    return ephemeral;
  };
  return {
    protocolName: v.protocol_name,
    initiator,
    prologue: fromHex(v[`${side}_prologue`]),
    psks: (v[`${side}_psks`] ?? []).map(fromHex),
    ...(staticHex === undefined ? {} : { s: await importPrivateKey(fromHex(staticHex)) }),
    ...(remoteHex === undefined ? {} : { rs: fromHex(remoteHex) }),
    // Never a random ephemeral: the initiator gets the vector's through the injected
    // generator, the responder as `e`, so both ways of injecting it are exercised.
    ...(initiator || ephemeral === undefined ? { generateEphemeral } : { e: ephemeral }),
  };
}

async function runVector(v: Vector): Promise<void> {
  const init = await HandshakeState.initialize(await sideOptions(v, true));
  const resp = await HandshakeState.initialize(await sideOptions(v, false));
  const oneWay = init.pattern.oneWay;
  let handshakeMessages = 0;

  for (const [i, message] of v.messages.entries()) {
    const fromInitiator = oneWay || i % 2 === 0;
    const [writer, reader] = fromInitiator ? [init, resp] : [resp, init];
    const payload = fromHex(message.payload);
    let ciphertext: Uint8Array;
    let received: Uint8Array;
    if (!init.isComplete) {
      expect(writer.isMyTurn).toBe(true);
      ciphertext = await writer.writeMessage(payload);
      received = await reader.readMessage(ciphertext);
      handshakeMessages += 1;
      expect(resp.isComplete).toBe(init.isComplete);
    } else {
      const send = writer.transport().send;
      const receive = reader.transport().receive;
      if (send === null || receive === null) throw new Error("missing transport cipher");
      ciphertext = await send.encryptWithAd(EMPTY, payload);
      received = await receive.decryptWithAd(EMPTY, ciphertext);
    }
    expect(toHex(ciphertext), `message ${i} ciphertext`).toBe(message.ciphertext);
    expect(toHex(received), `message ${i} payload`).toBe(message.payload);
  }

  expect(handshakeMessages).toBe(init.pattern.messages.length);
  expect(init.isComplete && resp.isComplete).toBe(true);
  const hash = toHex(init.transport().handshakeHash);
  expect(toHex(resp.transport().handshakeHash)).toBe(hash);
  if (v.handshake_hash !== undefined) expect(hash).toBe(v.handshake_hash);
  // Each side learned (or was given) the other's static key.
  if (v.resp_static !== undefined) {
    const respStatic = await importPrivateKey(fromHex(v.resp_static));
    expect(init.remoteStatic && toHex(init.remoteStatic)).toBe(toHex(respStatic.publicKey));
  }
  if (v.init_static !== undefined) {
    const initStatic = await importPrivateKey(fromHex(v.init_static));
    expect(resp.remoteStatic && toHex(resp.remoteStatic)).toBe(toHex(initStatic.publicKey));
  }
}

describe("Noise test vectors (25519_AESGCM_SHA256)", () => {
  it("loads exactly 110 vectors (59 cacophony, 51 snow)", () => {
    expect(VECTORS).toHaveLength(110);
    expect(VECTORS.filter(([name]) => name.startsWith("cacophony"))).toHaveLength(59);
  });

  it.each(VECTORS)("%s", async (_name, vector) => {
    await runVector(vector);
  });
});

/** A fresh XXpsk0 initiator/responder pair with generated keys. */
async function freshPair(protocolName = "Noise_XXpsk0_25519_AESGCM_SHA256") {
  const psks = [crypto.getRandomValues(new Uint8Array(32))];
  const init = await HandshakeState.initialize({
    protocolName, initiator: true, s: await generateKeyPair(), psks,
  });
  const resp = await HandshakeState.initialize({
    protocolName, initiator: false, s: await generateKeyPair(), psks,
  });
  return { init, resp };
}

async function expectError(
  promise: Promise<unknown>, type: typeof TextportError, code: string,
): Promise<void> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(type);
  expect((err as TextportError).code).toBe(code);
}

describe("Noise handshake behaviour", () => {
  it("completes XXpsk0 with generated keys and carries transport both ways", async () => {
    const { init, resp } = await freshPair();
    await resp.readMessage(await init.writeMessage());
    await init.readMessage(await resp.writeMessage());
    expect(toHex(await resp.readMessage(await init.writeMessage(fromHex("aa"))))).toBe("aa");
    const a = init.transport();
    const b = resp.transport();
    expect(toHex(a.handshakeHash)).toBe(toHex(b.handshakeHash));
    const toResp = await a.send!.encryptWithAd(EMPTY, fromHex("0102"));
    expect(toHex(await b.receive!.decryptWithAd(EMPTY, toResp))).toBe("0102");
    const toInit = await b.send!.encryptWithAd(EMPTY, fromHex("0304"));
    expect(toHex(await a.receive!.decryptWithAd(EMPTY, toInit))).toBe("0304");
  });

  it("rejects a flipped bit in a handshake message with CryptoError", async () => {
    const { init, resp } = await freshPair();
    await resp.readMessage(await init.writeMessage());
    const message = await resp.writeMessage();
    message[40]! ^= 0x01; // inside the encrypted static key
    await expectError(init.readMessage(message), CryptoError, "decrypt_failed");
    // The failed handshake cannot be continued.
    await expectError(init.readMessage(message), ProtocolError, "handshake_state");
  });

  it("rejects a tampered transport message without advancing the nonce", async () => {
    const { init, resp } = await freshPair("Noise_NN_25519_AESGCM_SHA256");
    await resp.readMessage(await init.writeMessage());
    await init.readMessage(await resp.writeMessage());
    const ciphertext = await init.transport().send!.encryptWithAd(EMPTY, fromHex("cafe"));
    const tampered = ciphertext.slice();
    tampered[0]! ^= 0x80;
    const receive = resp.transport().receive!;
    await expectError(receive.decryptWithAd(EMPTY, tampered), CryptoError, "decrypt_failed");
    expect(toHex(await receive.decryptWithAd(EMPTY, ciphertext))).toBe("cafe");
  });

  it("rejects messages longer than 65535 bytes with ProtocolError", async () => {
    const { init, resp } = await freshPair();
    // psk0 + e: 32 bytes of key, then the payload and a 16-byte tag.
    await expectError(
      init.writeMessage(new Uint8Array(MAX_MESSAGE_LEN - 32 - 16 + 1)), ProtocolError, "too_large");
    const largest = await init.writeMessage(new Uint8Array(MAX_MESSAGE_LEN - 32 - 16));
    expect(largest).toHaveLength(MAX_MESSAGE_LEN);
    await expectError(resp.readMessage(new Uint8Array(MAX_MESSAGE_LEN + 1)), ProtocolError, "too_large");
    await resp.readMessage(largest);
    await init.readMessage(await resp.writeMessage());
    await resp.readMessage(await init.writeMessage());
    const send = init.transport().send!;
    await expectError(
      send.encryptWithAd(EMPTY, new Uint8Array(MAX_MESSAGE_LEN - 16 + 1)), ProtocolError, "too_large");
    await expectError(
      resp.transport().receive!.decryptWithAd(EMPTY, new Uint8Array(MAX_MESSAGE_LEN + 1)),
      ProtocolError, "too_large");
  });

  it("refuses to write or read out of turn", async () => {
    const { init, resp } = await freshPair();
    await expectError(resp.writeMessage(), ProtocolError, "handshake_state");
    await expectError(init.readMessage(new Uint8Array(48)), ProtocolError, "handshake_state");
    expect(() => init.transport()).toThrow(ProtocolError);
  });

  it("rejects a truncated handshake message with ProtocolError bad_frame", async () => {
    const { resp } = await freshPair();
    await expectError(resp.readMessage(new Uint8Array(31)), ProtocolError, "bad_frame");
    // Long enough for `e` but not for the payload's tag (psk0 keys the cipher).
    const { resp: other } = await freshPair();
    await expectError(other.readMessage(new Uint8Array(32 + 15)), ProtocolError, "bad_frame");
    const { init, resp: third } = await freshPair();
    await third.readMessage(await init.writeMessage());
    const message2 = await third.writeMessage();
    // Cut inside the encrypted static key (e, then 48 bytes of s).
    await expectError(init.readMessage(message2.subarray(0, 32 + 40)), ProtocolError, "bad_frame");
  });

  it("rejects unknown suites and patterns with version_mismatch, like noise.py", async () => {
    await expectError(
      HandshakeState.initialize({ protocolName: "Noise_XX_25519_ChaChaPoly_BLAKE2s", initiator: true }),
      ProtocolError, "version_mismatch");
    expect(() => parseProtocolName("Noise_XX_448_AESGCM_SHA256")).toThrow(/unsupported Noise suite/);
    const code = (name: string): string => {
      try {
        parseProtocolName(name);
      } catch (err) {
        return err instanceof ProtocolError ? err.code : "not a ProtocolError";
      }
      return "accepted";
    };
    expect(code("Noise_XX_448_AESGCM_SHA256")).toBe("version_mismatch");
    expect(code("Noise_ZZ_25519_AESGCM_SHA256")).toBe("version_mismatch");
    expect(code("Noise_XXfallback_25519_AESGCM_SHA256")).toBe("version_mismatch");
    expect(code("Noise_XXpsk10_25519_AESGCM_SHA256")).toBe("version_mismatch");
    expect(code("NoiseXX")).toBe("version_mismatch");
    // A psk modifier naming a message the pattern lacks: bad_message in noise.py too.
    expect(code("Noise_XXpsk4_25519_AESGCM_SHA256")).toBe("bad_message");
  });

  it("applies psk modifiers where the spec puts them", () => {
    const { pattern } = parseProtocolName("Noise_XXpsk0+psk2_25519_AESGCM_SHA256");
    expect(pattern.messages).toEqual([["psk", "e"], ["e", "ee", "s", "es", "psk"], ["s", "se"]]);
    expect(pattern.psk).toBe(true);
  });

  it("needs the keys its pattern uses", async () => {
    await expectError(
      HandshakeState.initialize({ protocolName: "Noise_IK_25519_AESGCM_SHA256", initiator: true }),
      ProtocolError, "handshake_state");
  });

  it("derives the public key of an imported private key", async () => {
    // RFC 7748 section 6.1, Alice's key pair.
    const pair = await importPrivateKey(
      fromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
    expect(toHex(pair.publicKey)).toBe("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    expect(pair.privateKey.extractable).toBe(false);
  });
});
