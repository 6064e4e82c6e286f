/** Pairing: offers, relay URL checks (Python's verdicts), typed codes, commitment checks. */

import { describe, expect, it } from "vitest";

import { toHex } from "../src/protocol/bytes";
import { b64url, unb64url } from "../src/protocol/derive";
import { generateKeyPair } from "../src/protocol/noise";
import {
  CODE_ALPHABET,
  CodeDeviceHandshake,
  CodeHostHandshake,
  PairingOffer,
  checkRelay,
  codeChannel,
  confirmationCode,
  newCode,
  offerHandshake,
} from "../src/protocol/pairing";
import { codeOf } from "./helpers";

const RELAY = "ws://127.0.0.1:8750/v1";
const NOW = 1_790_000_000;
const zeros = (n: number): Uint8Array => new Uint8Array(n);

/** [relay, verdict of pairing.py `_check_relay`] (Python 3.11.7). */
const RELAYS: readonly (readonly [string, string])[] = [
  ["ws://127.0.0.1:8750/v1", "ok"],
  ["wss://relay.example", "ok"],
  ["wss://relay.example/", "ok"],
  ["ws://[::1]:8750/v1", "ok"],
  ["ws://[::1", "bad_pairing_code"],
  ["ws://::1]", "bad_pairing_code"],
  ["ws://[v1.x]/", "ok"],
  ["ws://[vg.x]/", "bad_pairing_code"],
  ["ws://[1.2.3.4]/", "bad_pairing_code"],
  ["ws://[::ffff:1.2.3.4]/", "ok"],
  ["ws://[::ffff:01.2.3.4]/", "bad_pairing_code"],
  ["ws://[1:2:3:4:5:6:7:8]/", "ok"],
  ["ws://[1:2:3:4:5:6:7:8:9]/", "bad_pairing_code"],
  ["ws://[1::2::3]/", "bad_pairing_code"],
  ["ws://[::1%eth0]/", "ok"],
  ["ws://[::1%]/", "bad_pairing_code"],
  ["ws://[:1]/", "bad_pairing_code"],
  ["ws://[1:]/", "bad_pairing_code"],
  ["ws://[::]/", "ok"],
  ["ws://[1::]/", "ok"],
  ["ws://[::12345]/", "bad_pairing_code"],
  ["ws://[g::1]/", "bad_pairing_code"],
  ["ws://[1:2:3:4:5:6:7::]/", "ok"],
  ["ws://[1:2:3:4:5:6:7:8::]/", "bad_pairing_code"],
  ["ws://u@h/", "ok"],
  ["ws://u@/", "bad_pairing_code"],
  ["ws://:80/", "bad_pairing_code"],
  ["ws://h:/", "ok"],
  ["ws://h\uff03x/", "bad_pairing_code"],
  ["ws://h\u2100x/", "bad_pairing_code"],
  ["ws://\u00e9.example/", "ok"],
  ["ws://h /v1", "bad_pairing_code"],
  ["http://h/", "bad_pairing_code"],
  ["ws:/h", "bad_pairing_code"],
  ["ws://h?x", "bad_pairing_code"],
  ["ws://h#x", "bad_pairing_code"],
  ["ws://h/" + "p".repeat(505), "ok"],
  ["ws://h/" + "p".repeat(506), "bad_pairing_code"],
  ["ws://h/\u0085", "bad_pairing_code"],
  ["ws://h/\u001c", "bad_pairing_code"],
  ["ws://h/\ufeff", "ok"],
  ["wss://[1:2:3:4:5:6:1.2.3.4]/", "ok"],
  ["ws://[1:2:3:4:5:6:7:1.2.3.4]/", "bad_pairing_code"],
  ["WS://h/", "bad_pairing_code"],
  ["ws://h:x/", "ok"],
  // Python's `$` also matches before a final "\n" and accepts this one (see the report).
  ["ws://h/v1\n", "bad_pairing_code"],
];

function offerUri(fields: Record<string, string>, prefix = "textport-pair:1?"): string {
  return prefix + Object.entries(fields).map(([k, v]) => `${k}=${v}`).join("&");
}

const GOOD = {
  r: encodeURIComponent(RELAY),
  c: b64url(zeros(16)),
  s: b64url(zeros(32)),
  e: String(NOW + 60),
};

async function parseCode(uri: string, now = NOW, allowed = [RELAY]): Promise<string> {
  return codeOf(() => PairingOffer.parse(uri, { now, allowedRelays: allowed }));
}

describe("relay URLs", () => {
  it.each(RELAYS)("%j: %s", async (relay, verdict) => {
    expect(await codeOf(() => checkRelay(relay))).toBe(verdict);
  });
});

describe("PairingOffer", () => {
  it("creates an offer that parses back, and checks its relay", async () => {
    let n = 0;
    const rng = (k: number): Uint8Array => new Uint8Array(k).fill(++n);
    const offer = PairingOffer.create("wss://relay.example/x(1)!", { now: NOW + 0.9, ttl: 60, rng });
    expect(offer.expires).toBe(NOW + 60);
    expect(offer.toUri()).toBe(
      "textport-pair:1?r=wss%3A%2F%2Frelay.example%2Fx%281%29%21&c=AQEBAQEBAQEBAQEBAQEBAQ"
      + "&s=AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI&e=1790000060");
    const back = PairingOffer.parse(offer.toUri(), { now: NOW, allowedRelays: ["wss://relay.example/x(1)!"] });
    expect(toHex(back.secret)).toBe(toHex(offer.secret));
    expect(await codeOf(() => PairingOffer.create("http://x/", { now: NOW, ttl: 60 }))).toBe("bad_pairing_code");
  });

  it("does not show its secret in JSON or keys", () => {
    const offer = PairingOffer.create(RELAY, { now: NOW, ttl: 60 });
    expect(JSON.stringify(offer)).not.toContain(b64url(offer.secret));
    expect(Object.keys(offer)).not.toContain("secret");
  });

  it("checks expiry: now <= e <= now + 3600", async () => {
    expect(await parseCode(offerUri({ ...GOOD, e: String(NOW) }))).toBe("ok");
    expect(await parseCode(offerUri({ ...GOOD, e: String(NOW - 1) }))).toBe("pairing_expired");
    expect(await parseCode(offerUri({ ...GOOD, e: String(NOW + 3600) }))).toBe("ok");
    expect(await parseCode(offerUri({ ...GOOD, e: String(NOW + 3601) }))).toBe("bad_pairing_code");
    expect(await parseCode(offerUri({ ...GOOD, e: "0" + String(NOW) }))).toBe("ok");
    expect(await parseCode(offerUri({ ...GOOD, e: "+" + String(NOW) }))).toBe("bad_pairing_code");
    expect(await parseCode(offerUri({ ...GOOD, e: "9".repeat(400) }))).toBe("bad_pairing_code");
  });

  it("reads the query like Python's parse_qsl(strict_parsing=True, max_num_fields=8)", async () => {
    expect(await parseCode(offerUri({ x: "1", ...GOOD }))).toBe("ok");
    expect(await parseCode(offerUri({ ...GOOD, c: "AAAA" }) + `&c=${GOOD.c}`)).toBe("ok"); // the last one wins
    expect(await parseCode(offerUri(GOOD) + "&")).toBe("bad_pairing_code"); // an empty field
    expect(await parseCode(offerUri(GOOD) + "&x")).toBe("bad_pairing_code"); // no "="
    expect(await parseCode(offerUri(GOOD) + "&x=")).toBe("ok"); // empty values are dropped
    expect(await parseCode(offerUri(GOOD) + "&a=1&b=2&c2=3&d=4")).toBe("ok"); // 8 fields
    expect(await parseCode(offerUri(GOOD) + "&a=1&b=2&c2=3&d=4&f=5")).toBe("bad_pairing_code"); // 9
    expect(await parseCode(offerUri({ ...GOOD, s: GOOD.s + "=" }))).toBe("bad_pairing_code");
    expect(await parseCode(offerUri({ ...GOOD, r: RELAY }))).toBe("ok"); // unencoded is fine too
    expect(await parseCode(offerUri({ ...GOOD, r: "ws%3A%2F%2F127.0.0.1%3A8750%2fv1" }))).toBe("ok");
  });

  it("takes the URI from a link's fragment, trims Python white space, and limits the length", async () => {
    expect(await parseCode(`\u0085 https://host/#${offerUri(GOOD)}\u3000`)).toBe("ok");
    expect(await parseCode(`\ufeff${offerUri(GOOD)}`)).toBe("bad_pairing_code"); // U+FEFF is not white space in Python
    expect(await parseCode(offerUri(GOOD) + "&x=" + "y".repeat(1024))).toBe("bad_pairing_code");
  });

  it("reports the version, the scheme, the relay", async () => {
    expect(await parseCode(offerUri(GOOD, "textport-pair:2?"))).toBe("version_mismatch");
    expect(await parseCode(offerUri(GOOD, "textport-pair:?"))).toBe("version_mismatch");
    expect(await parseCode(offerUri(GOOD, "Textport-pair:1?"))).toBe("bad_pairing_code");
    expect(await parseCode(offerUri(GOOD), NOW, ["wss://other"])).toBe("relay_not_allowed");
  });
});

describe("offer handshake", () => {
  it("runs XXpsk0 (48, 96, 64 bytes) and both sides show the same confirmation code", async () => {
    const offer = PairingOffer.create(RELAY, { now: NOW, ttl: 60 });
    const reader = await offerHandshake(offer, await generateKeyPair(), { madeOffer: false });
    const maker = await offerHandshake(offer, await generateKeyPair(), { madeOffer: true });
    const sizes: number[] = [];
    for (const [writer, reader_] of [[reader, maker], [maker, reader], [reader, maker]] as const) {
      const message = await writer.write();
      sizes.push(message.length);
      await reader_.read(message);
    }
    expect(sizes).toEqual([48, 96, 64]);
    const code = await confirmationCode(reader);
    expect(code).toMatch(/^[0-9A-F]{4}-[0-9A-F]{4}$/);
    expect(await confirmationCode(maker)).toBe(code);
  });

  it("has no confirmation code before the end", async () => {
    const offer = PairingOffer.create(RELAY, { now: NOW, ttl: 60 });
    const reader = await offerHandshake(offer, await generateKeyPair(), { madeOffer: false });
    expect(await codeOf(confirmationCode(reader))).toBe("handshake_state");
  });
});

describe("typed codes", () => {
  it("makes XXXX-XXXX codes from the alphabet, from 40 random bits", () => {
    expect(newCode(() => zeros(5))).toBe("0000-0000");
    expect(newCode(() => new Uint8Array(5).fill(0xff))).toBe("ZZZZ-ZZZZ");
    expect(newCode(() => Uint8Array.of(0, 0, 0, 0, 33))).toBe("0000-0011");
    for (let i = 0; i < 20; i++) {
      const code = newCode();
      expect(code).toMatch(new RegExp(`^[${CODE_ALPHABET}]{4}-[${CODE_ALPHABET}]{4}$`));
      expect(codeChannel(code)).toBe("code-" + code.replace("-", ""));
    }
  });

  async function codePair(code = "K7QF-3M9X") {
    const host = await CodeHostHandshake.create(code, RELAY, await generateKeyPair());
    const device = await CodeDeviceHandshake.create(code.toLowerCase(), RELAY, await generateKeyPair());
    return { host, device };
  }

  it("runs commitment + XX and both sides show the same comparison code", async () => {
    const { host, device } = await codePair();
    expect(host.commitment).toHaveLength(36);
    expect(await codeOf(device.write())).toBe("handshake_state"); // wait for the commitment
    device.readCommitment(host.commitment);
    expect(await codeOf(() => device.readCommitment(host.commitment))).toBe("handshake_state");
    expect(await codeOf(host.comparisonCode())).toBe("handshake_state");
    await host.read(await device.write());
    await device.read(await host.write());
    await host.read(await device.write());
    const code = await host.comparisonCode();
    expect(code).toMatch(/^[0-9]{3} [0-9]{3}$/);
    expect(await device.comparisonCode()).toBe(code);
    expect(toHex(host.handshakeHash)).toBe(toHex(device.handshakeHash));
  });

  it("refuses another commitment version (version_mismatch)", async () => {
    const { host, device } = await codePair();
    const other = host.commitment.slice();
    other[3] = 0x32; // "TPC2"
    expect(await codeOf(() => device.readCommitment(other))).toBe("version_mismatch");
    expect(device.failed).toBe(true);
    const { device: d2 } = await codePair();
    expect(await codeOf(() => d2.readCommitment(host.commitment.subarray(0, 35)))).toBe("version_mismatch");
  });

  it("refuses a host key that does not match the commitment (commitment_mismatch)", async () => {
    const { host, device } = await codePair();
    const { host: impostor } = await codePair();
    device.readCommitment(impostor.commitment);
    await host.read(await device.write());
    expect(await codeOf(device.read(await host.write()))).toBe("commitment_mismatch");
    expect(device.failed).toBe(true);
    expect(await codeOf(device.write())).toBe("handshake_state");
  });

  it("fails when the two sides typed different codes", async () => {
    const host = await CodeHostHandshake.create("K7QF-3M9X", RELAY, await generateKeyPair());
    const device = await CodeDeviceHandshake.create("K7QF-3M9Y", RELAY, await generateKeyPair());
    device.readCommitment(host.commitment);
    await host.read(await device.write());
    expect(await codeOf(device.read(await host.write()))).toBe("decrypt_failed");
  });

  it("refuses a malformed code up front", async () => {
    expect(await codeOf(CodeDeviceHandshake.create("K7QF-3M9U", RELAY, await generateKeyPair()))).toBe("bad_pairing_code");
  });
});

describe("base64url", () => {
  it("round-trips every length and refuses the rest like derive.py", async () => {
    for (let n = 0; n < 40; n++) {
      const data = crypto.getRandomValues(new Uint8Array(n));
      expect(toHex(unb64url(b64url(data), n))).toBe(toHex(data));
      expect(b64url(data)).toBe(Buffer.from(data).toString("base64url"));
    }
    for (const bad of ["A", "AB==", "AB=", "A+B/", "AB\n", "AB", "ÀB"]) {
      expect(await codeOf(() => unb64url(bad)), bad).toBe("bad_message");
    }
    expect(toHex(unb64url("AA"))).toBe("00");
    expect(await codeOf(() => unb64url("AB"))).toBe("bad_message"); // non-zero trailing bits
    expect(await codeOf(() => unb64url("AA", 2))).toBe("bad_message");
  });
});
