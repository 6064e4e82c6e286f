/**
 * The interop harness's device (harness/device.ts), driven here by the
 * TypeScript host side; the Python suite drives the same commands through
 * dist-harness/node.js and the browser page.
 */

import { describe, expect, it } from "vitest";

import { createDevice } from "../harness/device";
import { fromHex, toHex, utf8 } from "../src/protocol/bytes";
import { generateKeyPair } from "../src/protocol/keys";
import { decodeMessage, encodeMessage } from "../src/protocol/messages";
import { CodeHostHandshake, PairingOffer, confirmationCode, offerHandshake } from "../src/protocol/pairing";
import { hostHandshake } from "../src/protocol/session";

const RELAY = "ws://127.0.0.1:8750/v1";
const NOW = Math.floor(Date.now() / 1000);

function field(result: Record<string, unknown>, name: string): string {
  const value = result[name];
  if (typeof value !== "string") throw new Error(`no ${name} in ${JSON.stringify(result)}`);
  return value;
}

describe("harness device", () => {
  it("runs a session: IK, then seal and open", async () => {
    const device = createDevice();
    const hostKey = await generateKeyPair();
    const room = crypto.getRandomValues(new Uint8Array(16));
    const devicePublic = field(await device.call("device_public", {}), "public");
    const m1 = field(await device.call("session_start", { host_public: toHex(hostKey.publicKey), room: toHex(room) }), "message");
    const host = await hostHandshake(hostKey, room);
    await host.read(fromHex(m1));
    expect(toHex(host.remoteStatic!)).toBe(devicePublic);
    expect(await device.call("session_finish", { message: toHex(await host.write()) })).toEqual({});
    const session = host.session(NOW);
    const body = '{"t":"send","cmid":"0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f","to":["+15550100"],"body":"hi 😅","at":null,"created":null}';
    const sealed = field(await device.call("seal", { body }), "ciphertext");
    expect(new TextDecoder().decode(encodeMessage(await session.open(fromHex(sealed))))).toBe(body);
    const pong = await session.seal({ t: "pong", n: 7 });
    expect(await device.call("open", { ciphertext: toHex(pong) })).toEqual({ body: '{"t":"pong","n":7}' });
    // A replay fails and closes the session.
    expect(await device.call("open", { ciphertext: toHex(pong) })).toMatchObject({ error: { code: "decrypt_failed" } });
    expect(await device.call("seal", { body: '{"t":"ping","n":1}' })).toMatchObject({ error: { code: "session_closed" } });
  });

  it("makes an offer and pairs with the host reading it", async () => {
    const device = createDevice();
    const uri = field(await device.call("offer_make", { relay: RELAY, now: NOW }), "uri");
    const offer = PairingOffer.parse(uri, { now: NOW, allowedRelays: [RELAY] });
    expect(offer.expires).toBe(NOW + 60);
    const host = await offerHandshake(offer, await generateKeyPair(), { madeOffer: false });
    const m2 = field(await device.call("offer_read", { message: toHex(await host.write()) }), "message");
    await host.read(fromHex(m2));
    const finish = await device.call("offer_finish", { message: toHex(await host.write()) });
    expect(finish).toEqual({ confirmation_code: await confirmationCode(host) });
    const session = host.session(NOW);
    const sealed = field(await device.call("seal", { body: '{"t":"pair_request","name":"n","agent":"a"}' }), "ciphertext");
    expect(await session.open(fromHex(sealed))).toEqual({ t: "pair_request", name: "n", agent: "a", session: false });
  });

  it("pairs by typed code and shows the host's comparison code", async () => {
    const device = createDevice();
    const code = field(await device.call("code_new", { relay: RELAY }), "code");
    expect(code).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    const host = await CodeHostHandshake.create(code, RELAY, await generateKeyPair());
    const m1 = field(await device.call("code_commit", { message: toHex(host.commitment) }), "message");
    await host.read(fromHex(m1));
    const result = await device.call("code_read", { message: toHex(await host.write()) });
    await host.read(fromHex(field(result, "message")));
    expect(result["comparison_code"]).toBe(await host.comparisonCode());
    const session = host.session(NOW);
    const ping = await session.seal({ t: "ping", n: 1 });
    expect(await device.call("open", { ciphertext: toHex(ping) })).toEqual({ body: '{"t":"ping","n":1}' });
  });

  it("answers every failure with {error: {code, message}} and never throws", async () => {
    const device = createDevice();
    const error = async (cmd: string, args: Record<string, unknown>): Promise<unknown> =>
      ((await device.call(cmd, args)) as { error?: { code: string } }).error?.code;
    expect(await error("fly", {})).toBe("internal");
    expect(await error("seal", { body: '{"t":"ping","n":1}' })).toBe("internal"); // no session yet
    expect(await error("offer_read", { message: "00" })).toBe("internal"); // no handshake yet
    expect(await error("session_start", { host_public: "zz", room: "00" })).toBe("internal");
    expect(await error("session_start", { host_public: "00".repeat(31), room: "00".repeat(16) })).toBe("bad_key");
    expect(await error("offer_make", { relay: "http://x/", now: NOW })).toBe("bad_pairing_code");
    await device.call("code_new", { relay: RELAY });
    expect(await error("code_commit", { message: toHex(utf8("TPC2")) + "00".repeat(32) })).toBe("version_mismatch");
    await device.call("session_start", { host_public: "00".repeat(32), room: "00".repeat(16) }).then((r) =>
      expect(r).toMatchObject({ error: { code: "bad_key" } })); // a low-order host key
    expect(decodeMessage(utf8('{"t":"ping","n":1}'))).toEqual({ t: "ping", n: 1 });
  });
});
