/** Sessions and handshakes: padding, limits, closing, ordering, handshake rules. */

import { describe, expect, it } from "vitest";

import { toHex, utf8 } from "../src/protocol/bytes";
import { CipherState, HandshakeState, generateKeyPair } from "../src/protocol/noise";
import { SESSION_PROTOCOL } from "../src/protocol/derive";
import {
  BUCKETS,
  MAX_BODY,
  MAX_SESSION_MESSAGES,
  MAX_SESSION_SECONDS,
  Handshake,
  Session,
  deviceHandshake,
  hostHandshake,
  pad,
  unpad,
} from "../src/protocol/session";
import { codeOf } from "./helpers";

/** Two sessions over the same fresh keys: `a` seals what `b` opens and back. */
async function pair(): Promise<{ a: Session; b: Session; aSend: CipherState; bReceive: CipherState }> {
  const k1 = crypto.getRandomValues(new Uint8Array(32));
  const k2 = crypto.getRandomValues(new Uint8Array(32));
  const aSend = await CipherState.fromKey(k1);
  const bReceive = await CipherState.fromKey(k1);
  const hash = new Uint8Array(32);
  const a = new Session({ send: aSend, receive: await CipherState.fromKey(k2), handshakeHash: hash, remoteStatic: null }, 0);
  const b = new Session({ send: await CipherState.fromKey(k2), receive: bReceive, handshakeHash: hash, remoteStatic: null }, 0);
  return { a, b, aSend, bReceive };
}

describe("padding", () => {
  it("pads to every bucket and back", () => {
    for (const bucket of BUCKETS) {
      const body = new Uint8Array(bucket - 2).fill(7);
      expect(pad(body)).toHaveLength(bucket);
      expect(unpad(pad(body))).toEqual(body);
    }
    expect(MAX_BODY).toBe(65517);
  });

  it("refuses a body over the largest bucket", async () => {
    expect(await codeOf(() => pad(new Uint8Array(MAX_BODY + 1)))).toBe("too_large");
  });

  it("refuses other sizes, overlong lengths and non-zero padding", async () => {
    expect(await codeOf(() => unpad(new Uint8Array(127)))).toBe("bad_message");
    expect(await codeOf(() => unpad(new Uint8Array(129)))).toBe("bad_message");
    const overlong = new Uint8Array(128);
    overlong[1] = 127;
    expect(await codeOf(() => unpad(overlong))).toBe("bad_message");
    overlong[1] = 126;
    expect(unpad(overlong)).toHaveLength(126);
    const dirty = pad(utf8("hi"));
    dirty[127] = 1;
    expect(await codeOf(() => unpad(dirty))).toBe("bad_message");
  });
});

describe("Session", () => {
  it("carries messages both ways", async () => {
    const { a, b } = await pair();
    expect(await b.open(await a.seal({ t: "ping", n: 1 }))).toEqual({ t: "ping", n: 1 });
    expect(await a.open(await b.seal({ t: "pong", n: 1 }))).toEqual({ t: "pong", n: 1 });
    expect(await b.openBody(await a.sealBody(utf8("")))).toHaveLength(0);
  });

  it("closes on a short transport message (bad_frame)", async () => {
    const { b } = await pair();
    expect(await codeOf(b.openBody(new Uint8Array(143)))).toBe("bad_frame");
    expect(b.closed).toBe(true);
    expect(await codeOf(b.openBody(new Uint8Array(144)))).toBe("session_closed");
  });

  it("closes on a body that does not decode", async () => {
    const { a, b } = await pair();
    expect(await codeOf(b.open(await a.sealBody(utf8('{"t":"teleport"}'))))).toBe("unknown_type");
    expect(b.closed).toBe(true);
    expect(await codeOf(b.open(await a.seal({ t: "ping", n: 1 })))).toBe("session_closed");
  });

  it("refuses a body over the limit without closing", async () => {
    const { a, b } = await pair();
    expect(await codeOf(a.sealBody(new Uint8Array(MAX_BODY + 1)))).toBe("too_large");
    expect(a.closed).toBe(false);
    const largest = await a.sealBody(new Uint8Array(MAX_BODY));
    expect(largest).toHaveLength(65535);
    expect(await b.openBody(largest)).toHaveLength(MAX_BODY);
  });

  it("requires a rekey after 2^20 messages in either direction", async () => {
    const { a, b, aSend, bReceive } = await pair();
    aSend.setNonce(BigInt(MAX_SESSION_MESSAGES - 1));
    bReceive.setNonce(BigInt(MAX_SESSION_MESSAGES - 1));
    expect(await b.open(await a.seal({ t: "ping", n: 1 }))).toEqual({ t: "ping", n: 1 });
    expect(await codeOf(a.seal({ t: "ping", n: 2 }))).toBe("rekey_required");
    expect(a.closed).toBe(true);
    expect(await codeOf(a.seal({ t: "ping", n: 3 }))).toBe("session_closed");
    expect(await codeOf(b.openBody(new Uint8Array(144)))).toBe("rekey_required");
    expect(b.closed).toBe(true);
  });

  it("reports rekeyDue after 24 hours", async () => {
    const { a } = await pair();
    expect(a.rekeyDue(MAX_SESSION_SECONDS - 1)).toBe(false);
    expect(a.rekeyDue(MAX_SESSION_SECONDS)).toBe(true);
  });

  it("keeps call order under concurrency, and a failure closes before later calls run", async () => {
    const { a, b } = await pair();
    const sealed = await Promise.all([1, 2, 3].map((n) => a.seal({ t: "ping", n })));
    const opened = await Promise.all(sealed.map((c) => b.open(c)));
    expect(opened).toEqual([1, 2, 3].map((n) => ({ t: "ping", n })));
    const next = await a.seal({ t: "ping", n: 4 });
    const tampered = next.slice();
    tampered[0]! ^= 1;
    const results = await Promise.all([codeOf(b.open(tampered)), codeOf(b.open(next))]);
    expect(results).toEqual(["decrypt_failed", "session_closed"]);
  });
});

describe("Handshake", () => {
  async function ik(): Promise<{ device: Handshake; host: Handshake; room: Uint8Array }> {
    const hostKey = await generateKeyPair();
    const room = crypto.getRandomValues(new Uint8Array(16));
    return { device: await deviceHandshake(await generateKeyPair(), hostKey.publicKey, room), host: await hostHandshake(hostKey, room), room };
  }

  it("runs IK with empty payloads: 96 and 48 bytes", async () => {
    const { device, host } = await ik();
    const m1 = await device.write();
    expect(m1).toHaveLength(96);
    await host.read(m1);
    const m2 = await host.write();
    expect(m2).toHaveLength(48);
    await device.read(m2);
    expect(toHex(device.handshakeHash)).toBe(toHex(host.handshakeHash));
    const ds = device.session(1);
    const hs = host.session(1);
    expect(await hs.open(await ds.seal({ t: "hello", proto: 1, agent: "x" }))).toEqual({ t: "hello", proto: 1, agent: "x" });
  });

  it("refuses a non-empty payload and fails for good", async () => {
    const hostKey = await generateKeyPair();
    const room = new Uint8Array(16);
    const host = await hostHandshake(hostKey, room);
    const { hostId, sessionPrologue } = await import("../src/protocol/derive");
    const raw = await HandshakeState.initialize({
      protocolName: SESSION_PROTOCOL, initiator: true, prologue: sessionPrologue(room, await hostId(hostKey.publicKey)),
      s: await generateKeyPair(), rs: hostKey.publicKey,
    });
    expect(await codeOf(host.read(await raw.writeMessage(utf8("data"))))).toBe("bad_message");
    expect(host.failed).toBe(true);
    expect(await codeOf(host.write())).toBe("handshake_state");
  });

  it("refuses a truncated message 1 (bad_frame)", async () => {
    const { device, host } = await ik();
    const m1 = await device.write();
    expect(await codeOf(host.read(m1.subarray(0, 80)))).toBe("bad_frame");
  });

  it("has no session before it is done, and no turn out of order", async () => {
    const { device, host } = await ik();
    expect(await codeOf(() => device.session(0))).toBe("handshake_state");
    expect(await codeOf(() => device.handshakeHash)).toBe("handshake_state");
    expect(await codeOf(host.write())).toBe("handshake_state");
  });

  it("refuses a host key or room of the wrong size", async () => {
    const key = await generateKeyPair();
    expect(await codeOf(deviceHandshake(key, new Uint8Array(31), new Uint8Array(16)))).toBe("bad_key");
    expect(await codeOf(deviceHandshake(key, key.publicKey, new Uint8Array(15)))).toBe("bad_key");
  });
});
