/** IndexedDB cache (fake-indexeddb): pairing, cursor with events, idempotent upserts, outbox. */

import { IDBFactory } from "fake-indexeddb";
import { beforeEach, describe, expect, it } from "vitest";

import { applyAck, applyError, compose, entryStatus, messageStatus, newCmid, retry, statusText, unacknowledged } from "../../src/client/outbox";
import { type Pairing, Store } from "../../src/client/storage";
import { generateKeyPair } from "../../src/protocol/keys";
import type { ConversationRecord, MessageRecord, StoreEvent } from "../../src/protocol/messages";
import { randomBytes } from "../../src/protocol/pairing";

const PAIRING: Pairing = {
  hostPublic: new Uint8Array(32).fill(7),
  hostName: "Pixel",
  room: "AAAAAAAAAAAAAAAAAAAAAA",
  token: "B".repeat(42) + "A",
  relay: "ws://127.0.0.1:8765/v1",
  pairedAt: 1,
};

const conv = (id: number, extra: Partial<ConversationRecord> = {}): ConversationRecord => ({
  id, peers: ["+15550100100"], name: null, last_at: 1000 + id, snippet: "hi", unread: 0, hist: 0, ...extra,
});
const msg = (id: number, extra: Partial<MessageRecord> = {}): MessageRecord => ({
  id, conv: 1, dir: "in", peers: ["+15550100100"], body: `m${id}`, at: 1000 + id, state: "received",
  reason: null, cmid: null, kind: "sms", sender: "", subject: null, atts: [], ...extra,
});
const opts = { now: () => 5000, random: randomBytes };

let store: Store;
beforeEach(async () => {
  store = await Store.open(new IDBFactory());
});

describe("device key and pairing", () => {
  it("makes the device key once and keeps it (non-extractable)", async () => {
    expect(await store.deviceKey()).toBeNull();
    const first = await store.ensureDeviceKey(() => generateKeyPair(false));
    const again = await store.ensureDeviceKey(() => Promise.reject(new Error("must not generate")));
    expect(again.publicKey).toEqual(first.publicKey);
    expect(again.privateKey.extractable).toBe(false);
    expect(again.privateKey.algorithm.name).toBe("X25519");
  });

  it("stores the pairing, renames the host, forgets everything but the key", async () => {
    await store.ensureDeviceKey(() => generateKeyPair(false));
    await store.savePairing(PAIRING);
    expect(await store.pairing()).toEqual(PAIRING);
    await store.renameHost("Phone");
    expect((await store.pairing())?.hostName).toBe("Phone");
    await store.applyEvents([{ k: "conv", seq: 1, conv: conv(1) }]);
    await compose(store, { to: ["+1555"], body: "x" }, opts);
    await store.forgetPairing();
    expect(await store.pairing()).toBeNull();
    expect(await store.cursor()).toBe(0);
    expect(await store.conversations()).toEqual([]);
    expect(await store.outbox()).toEqual([]);
    expect(await store.deviceKey()).not.toBeNull();
  });
});

describe("events and the cursor", () => {
  it("applies events and stores the cursor with them", async () => {
    const events: StoreEvent[] = [
      { k: "conv", seq: 1, conv: conv(1, { unread: 1 }) },
      { k: "msg", seq: 2, msg: msg(10) },
      { k: "conv", seq: 3, conv: conv(2, { last_at: 5000 }) },
    ];
    expect(await store.applyEvents(events)).toEqual({ cursor: 3, applied: 3 });
    expect(await store.cursor()).toBe(3);
    expect((await store.conversations()).map((c) => c.id)).toEqual([2, 1]); // newest first
    expect(await store.messages(1)).toEqual([msg(10)]);
  });

  it("is idempotent: applying the same events again changes nothing", async () => {
    const events: StoreEvent[] = [
      { k: "conv", seq: 1, conv: conv(1) },
      { k: "msg", seq: 2, msg: msg(10) },
      { k: "status", seq: 3, id: 10, state: "delivered", reason: null, at: 9 },
    ];
    await store.applyEvents(events);
    const before = await store.snapshot(1);
    expect(await store.applyEvents(events)).toEqual({ cursor: 3, applied: 0 });
    expect(await store.snapshot(1)).toEqual(before);
  });

  it("upserts: a later event for the same id replaces the record", async () => {
    await store.applyEvents([
      { k: "conv", seq: 1, conv: conv(1, { unread: 1 }) },
      { k: "conv", seq: 2, conv: conv(1, { unread: 2, snippet: "again" }) },
      { k: "msg", seq: 3, msg: msg(10, { dir: "out", state: "sending" }) },
      { k: "status", seq: 4, id: 10, state: "failed", reason: "Number blocked", at: 9 },
    ]);
    expect(await store.conversations()).toEqual([conv(1, { unread: 2, snippet: "again" })]);
    expect(await store.messages(1)).toEqual([msg(10, { dir: "out", state: "failed", reason: "Number blocked" })]);
  });

  it("skips events at or below the cursor and status for unknown messages", async () => {
    await store.applyEvents([{ k: "conv", seq: 5, conv: conv(1) }]);
    const result = await store.applyEvents([
      { k: "conv", seq: 4, conv: conv(9) },
      { k: "status", seq: 6, id: 77, state: "sent", reason: null, at: 1 },
    ]);
    expect(result).toEqual({ cursor: 6, applied: 1 });
    expect((await store.conversations()).map((c) => c.id)).toEqual([1]);
  });

  it("advances the cursor on synced, never backwards; reset clears the cache but not the outbox", async () => {
    await store.applyEvents([{ k: "conv", seq: 3, conv: conv(1) }]);
    expect(await store.advanceCursor(2)).toBe(3);
    expect(await store.advanceCursor(8)).toBe(8);
    const entry = await compose(store, { to: ["+15550100100"], body: "queued" }, opts);
    await store.resetCache();
    expect(await store.cursor()).toBe(0);
    expect(await store.conversations()).toEqual([]);
    expect((await store.outbox()).map((e) => e.cmid)).toEqual([entry.cmid]);
  });

  it("marks a conversation read locally", async () => {
    await store.applyEvents([{ k: "conv", seq: 1, conv: conv(1, { unread: 3 }) }]);
    await store.markReadLocally(1);
    expect((await store.conversations())[0]?.unread).toBe(0);
  });
});

describe("outbox", () => {
  it("cmids are 32 lower-case hex characters", () => {
    const cmid = newCmid(randomBytes);
    expect(cmid).toMatch(/^[0-9a-f]{32}$/);
    expect(newCmid(randomBytes)).not.toBe(cmid);
  });

  it("compose -> queued; ack -> sending; the msg event with the cmid replaces it in one step", async () => {
    const entry = await compose(store, { to: ["+15550100100"], body: "hello" }, opts);
    expect(entryStatus(entry)).toEqual({ status: "queued", reason: null });
    expect(unacknowledged(await store.outbox())).toHaveLength(1);

    await applyAck(store, { t: "ack", cmid: entry.cmid, msg_id: 10, state: "sending", reason: null });
    const acked = await store.outboxEntry(entry.cmid);
    expect(acked?.state).toBe("sending");
    expect(acked?.msgId).toBe(10);
    expect(unacknowledged(await store.outbox())).toHaveLength(0);

    await store.applyEvents([
      { k: "conv", seq: 1, conv: conv(1) },
      { k: "msg", seq: 2, msg: msg(10, { dir: "out", body: "hello", state: "sending", cmid: entry.cmid }) },
    ]);
    const snap = await store.snapshot(1);
    expect(snap.outbox).toEqual([]);
    expect(snap.messages.map((m) => m.body)).toEqual(["hello"]);

    // A late duplicate ack does not bring the entry back.
    expect(await applyAck(store, { t: "ack", cmid: entry.cmid, msg_id: 10, state: "sending", reason: null })).toBe(false);
    expect(await store.outbox()).toEqual([]);
  });

  it("the msg event may come before the ack: still no duplicate", async () => {
    const entry = await compose(store, { to: ["+15550100100"], body: "hello" }, opts);
    await store.applyEvents([{ k: "msg", seq: 1, msg: msg(10, { dir: "out", state: "sending", cmid: entry.cmid }) }]);
    await applyAck(store, { t: "ack", cmid: entry.cmid, msg_id: 10, state: "sending", reason: null });
    expect(await store.outbox()).toEqual([]);
  });

  it("host errors and failed acks mark the entry failed with the reason; retry uses a new cmid", async () => {
    const a = await compose(store, { to: ["+15550100100"], body: "a" }, opts);
    const b = await compose(store, { to: ["+15550100100"], body: "b" }, opts);
    await applyError(store, a.cmid, "Number blocked");
    await applyAck(store, { t: "ack", cmid: b.cmid, msg_id: 3, state: "failed", reason: "No credit" });
    const entries = await store.outbox();
    expect(entries.map((e) => statusText(entryStatus(e))).sort()).toEqual(["failed: No credit", "failed: Number blocked"]);
    expect(unacknowledged(entries)).toEqual([]);

    const again = await retry(store, a.cmid, opts);
    expect(again?.cmid).not.toBe(a.cmid);
    expect(again?.state).toBe("queued");
    expect((await store.outbox()).map((e) => e.body).sort()).toEqual(["a", "b"]);
    expect(await store.outboxEntry(a.cmid)).toBeNull();
  });

  it("status of the host's messages", () => {
    expect(statusText(messageStatus(msg(1, { dir: "out", state: "sent" })))).toBe("sent");
    expect(statusText(messageStatus(msg(1, { dir: "out", state: "delivered" })))).toBe("delivered");
    expect(statusText(messageStatus(msg(1, { dir: "out", state: "failed", reason: "Number blocked" })))).toBe(
      "failed: Number blocked");
    expect(messageStatus(msg(1, { dir: "out", state: "unknown" })).status).toBe("failed");
  });
});
