/**
 * Pairing flows against the FakeRelay and FakeHost test doubles: QR/text
 * offer, typed code, host link, and the ways they fail.
 */

import { describe, expect, it, vi } from "vitest";

import { Offers, type OffersState } from "../../src/client/offers";
import {
  PairingFailed, agentString, deviceName, pairByCode, pairByOffer, pairFromLink, relayFor,
} from "../../src/client/pairing";
import { pairingError } from "../../src/client/wording";
import { TextportError } from "../../src/protocol/errors";
import { PairingOffer, newCode } from "../../src/protocol/pairing";
import { until, world } from "../fakes/setup";

describe("QR / text offer (the browser made it)", () => {
  it("pairs: same confirmation code both sides, the host's key and token kept", async () => {
    const w = await world();
    const offer = PairingOffer.create(w.relay.url, { now: Date.now() / 1000, ttl: 90 });
    const codes: string[] = [];
    const device = pairByOffer(offer, w.pairingDeps, { onCode: (c) => codes.push(c) });
    await until(() => w.relay.channels.size > 0);
    const [pairing, hostSide] = await Promise.all([device, w.host.pairWithOffer(offer.toUri())]);
    expect(codes).toEqual([hostSide.code]);
    expect(codes[0]).toMatch(/^[0-9A-F]{4}-[0-9A-F]{4}$/);
    expect(pairing.hostPublic).toEqual(w.host.key.publicKey);
    expect(pairing.hostName).toBe("Test phone");
    expect(pairing.relay).toBe(w.relay.url);
    expect(w.host.requests[0]?.name).toBe("Test browser");
    expect(hostSide.device.public).toEqual(w.deviceKey.publicKey);
    // The relay saw offer{channel, ttl: 90}.
    expect(w.relay.seen.some((s) => s.frame.op === "offer" && s.frame.ttl === 90)).toBe(true);
  });

  it("the host's user declines: pairing_rejected", async () => {
    const w = await world({ confirm: () => false });
    const offer = PairingOffer.create(w.relay.url, { now: Date.now() / 1000, ttl: 90 });
    const device = pairByOffer(offer, w.pairingDeps);
    await until(() => w.relay.channels.size > 0);
    const host = w.host.pairWithOffer(offer.toUri()).catch((e: unknown) => e);
    const err = await device.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PairingFailed);
    expect((err as TextportError).code).toBe("pairing_rejected");
    expect(pairingError(err, "offer")).toBe("Pairing was declined on the host.");
    await host;
  });
});

describe("typed code", () => {
  it("pairs: same six-digit comparison code both sides", async () => {
    const w = await world();
    const code = newCode();
    const shown: [string, string][] = [];
    const device = pairByCode(code, w.relay.url, w.pairingDeps, { onCode: (c, kind) => shown.push([c, kind]) });
    await until(() => w.relay.channels.size > 0);
    const [pairing, hostSide] = await Promise.all([device, w.host.pairWithCode(code)]);
    expect(shown).toEqual([[hostSide.code, "comparison"]]);
    expect(shown[0]?.[0]).toMatch(/^[0-9]{3} [0-9]{3}$/);
    expect(pairing.hostPublic).toEqual(w.host.key.publicKey);
    expect(w.relay.seen.some((s) => s.frame.op === "offer" && s.frame.channel === `code-${code.replace("-", "")}`)).toBe(true);
  });

  it("a wrong commitment is refused (commitment_mismatch)", async () => {
    const w = await world();
    const code = newCode();
    const device = pairByCode(code, w.relay.url, w.pairingDeps).catch((e: unknown) => e);
    await until(() => w.relay.channels.size > 0);
    // A host that commits to one key and uses another: two different host handshakes.
    const { CodeHostHandshake } = await import("../../src/protocol/pairing");
    const { encodeControl, encodeData, decodeFrame } = await import("../../src/protocol/frames");
    const liar = await CodeHostHandshake.create(code, w.relay.url, w.host.key);
    const honest = await CodeHostHandshake.create(code, w.relay.url, w.host.key);
    const frames: Uint8Array[] = [];
    const socket = w.relay.factory(w.relay.url, {
      open: () => undefined, message: (d) => frames.push(d), close: () => undefined,
    });
    await until(() => true);
    socket.send(encodeControl({ op: "accept", channel: `code-${code.replace("-", "")}` }));
    await until(() => frames.length >= 1);
    socket.send(encodeData(0, honest.commitment));
    await until(() => frames.length >= 2);
    const m1 = decodeFrame(frames[1]!);
    if (m1.op !== "data") throw new Error("expected data");
    await liar.read(m1.payload);
    socket.send(encodeData(0, await liar.write()));
    const err = await device;
    expect((err as TextportError).code).toBe("commitment_mismatch");
  });
});

describe("host link (the host made the offer)", () => {
  it("pairs from the link's fragment", async () => {
    const w = await world();
    const { link, done } = await w.host.makeLink();
    const offer = PairingOffer.parse(link.slice(link.indexOf("#") + 1), {
      now: Date.now() / 1000, allowedRelays: [relayFor({ protocol: "http:", host: "127.0.0.1:8765" })],
    });
    const codes: string[] = [];
    const pairing = await pairFromLink(offer, w.pairingDeps, { onCode: (c) => codes.push(c) });
    await done;
    expect(pairing.hostPublic).toEqual(w.host.key.publicKey);
    expect(w.host.requests[0]?.code).toBe(codes[0]);
  });

  it("an expired link is refused before anything is sent", async () => {
    const w = await world();
    const { link } = await w.host.makeLink(60);
    const err = (() => {
      try {
        PairingOffer.parse(link, { now: Date.now() / 1000 + 120, allowedRelays: [w.relay.url] });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect((err as TextportError).code).toBe("pairing_expired");
    expect(pairingError(err, "link")).toBe("This pairing link expired. Run `textport pair --link` again.");
  });

  it("a link for another relay is refused", async () => {
    const w = await world();
    const { link } = await w.host.makeLink();
    let code = "";
    try {
      PairingOffer.parse(link, { now: Date.now() / 1000, allowedRelays: ["wss://elsewhere.example/v1"] });
    } catch (e) {
      code = (e as TextportError).code;
      expect(pairingError(e, "link")).toMatch(/another relay/);
    }
    expect(code).toBe("relay_not_allowed");
  });

  it.each([
    ["pairing_expired", "This pairing link expired. Run `textport pair --link` again."],
    ["pairing_used", "This pairing link was already used. Run `textport pair --link` again."],
    ["pairing_unknown", /doesn't know this pairing link/],
  ] as const)("the relay says %s", async (code, words) => {
    const w = await world();
    const { offer } = await w.host.makeLink();
    if (code === "pairing_expired") w.relay.now = () => Date.now() + 3_600_000;
    if (code === "pairing_used") {
      await pairFromLink(offer, w.pairingDeps);
    }
    if (code === "pairing_unknown") w.relay.channels.clear();
    const err = await pairFromLink(offer, w.pairingDeps).catch((e: unknown) => e);
    expect((err as TextportError).code).toBe(code);
    if (typeof words === "string") expect(pairingError(err, "link")).toBe(words);
    else expect(pairingError(err, "link")).toMatch(words);
  });

  it("an unreachable relay is said so", async () => {
    const w = await world();
    w.relay.reachable = false;
    const offer = PairingOffer.create(w.relay.url, { now: Date.now() / 1000, ttl: 90 });
    const err = await pairFromLink(offer, w.pairingDeps).catch((e: unknown) => e);
    expect(pairingError(err, "link")).toMatch(/Can't reach the relay/);
  });
});

describe("the pairing screen's offers", () => {
  it("shows a URI and a code, rotates them, pairs with whichever the host uses", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const w = await world();
      const states: OffersState[] = [];
      const paired: unknown[] = [];
      const timers: { fn: () => void; ms: number }[] = [];
      const offers = new Offers({
        ...w.pairingDeps,
        relay: w.relay.url,
        timers: {
          setTimeout: (fn, ms) => {
            const t = { fn, ms };
            timers.push(t);
            return t;
          },
          clearTimeout: (t) => {
            const i = timers.indexOf(t as never);
            if (i >= 0) timers.splice(i, 1);
          },
        },
        onState: (s) => states.push(s),
        onPaired: (p) => {
          paired.push(p);
        },
      });
      offers.start();
      const first = offers.state;
      expect(first.uri).toMatch(/^textport-pair:1\?r=ws%3A%2F%2F127\.0\.0\.1%3A8765%2Fv1&c=/);
      expect(first.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
      await until(() => w.relay.channels.size === 2);
      expect(timers.map((t) => t.ms)).toEqual([60_000]);

      // 60 s later: new offer, new code, new channels; the old ones are withdrawn.
      timers.shift()!.fn();
      const second = offers.state;
      expect(second.uri).not.toBe(first.uri);
      expect(second.code).not.toBe(first.code);
      await until(() => [...w.relay.channels.values()].filter((c) => !c.ended).length === 2 && w.relay.channels.size === 4);

      // The host types the new code.
      const host = w.host.pairWithCode(second.code!);
      await until(() => paired.length === 1, 5000, "pairing");
      expect(states.some((s) => s.stage === "confirm" && s.shown?.kind === "comparison")).toBe(true);
      expect((await host).code).toBe(states.find((s) => s.stage === "confirm")?.shown?.code);
      expect(timers).toEqual([]); // rotation stopped
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("names", () => {
  it("device name and agent", () => {
    const chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36";
    expect(deviceName(chrome)).toBe("Chrome on Linux");
    expect(deviceName("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile Safari/604.1")).toBe("Safari on iOS");
    expect(deviceName("Mozilla/5.0 (Windows NT 10.0; rv:130.0) Gecko/20100101 Firefox/130.0")).toBe("Firefox on Windows");
    expect([...agentString("x".repeat(300))].length).toBe(128);
    expect(relayFor({ protocol: "https:", host: "sms.example" })).toBe("wss://sms.example/v1");
    expect(relayFor({ protocol: "http:", host: "127.0.0.1:8765" })).toBe("ws://127.0.0.1:8765/v1");
  });
});
