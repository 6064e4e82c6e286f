/**
 * IndexedDB cache (fake-indexeddb): pairing, cursor with events, idempotent upserts,
 * outbox, pages with what they cover (no gaps), hist, attachments, the version 1 upgrade.
 */

import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { beforeEach, describe, expect, it } from "vitest";

import { applyAck, applyError, compose, entryStatus, messageStatus, newCmid, retry, statusText, unacknowledged } from "../../src/client/outbox";
import { DB_NAME, type Pairing, Store } from "../../src/client/storage";
import { generateKeyPair } from "../../src/protocol/keys";
import type { ConversationRecord, MessageRecord, StoreEvent, ThreadPage } from "../../src/protocol/messages";
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
  id, peers: ["+15550100100"], name: null, last_at: 1000 + id, snippet: "hi", unread: 0, hist: 0,
  pinned: false, archived: false, muted: false, blocked: false, names: [null], ...extra,
});
const msg = (id: number, extra: Partial<MessageRecord> = {}): MessageRecord => ({
  id, conv: 1, dir: "in", peers: ["+15550100100"], body: `m${id}`, at: 1000 + id, state: "received",
  reason: null, cmid: null, kind: "sms", sender: "", subject: null, atts: [], parts: 1, missing: [], ...extra,
});
const opts = { now: () => 5000, random: randomBytes };

let store: Store;
beforeEach(async () => {
  store = await Store.open(new IDBFactory(), IDBKeyRange);
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

  it("stores the pairing, keeps the host's name and text lifetime, forgets everything but the key", async () => {
    await store.ensureDeviceKey(() => generateKeyPair(false));
    await store.savePairing(PAIRING);
    expect(await store.pairing()).toEqual(PAIRING);
    await store.updateHost("Phone", 3_600_000);
    expect(await store.pairing()).toEqual({ ...PAIRING, hostName: "Phone", textTtlMs: 3_600_000 });
    await store.updateHost("Phone", null); // an older host says nothing: nothing is assumed
    expect((await store.pairing())?.textTtlMs).toBeNull();
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
    const before = [await store.conversations(), await store.messages(1)];
    expect(await store.applyEvents(events)).toEqual({ cursor: 3, applied: 0 });
    expect([await store.conversations(), await store.messages(1)]).toEqual(before);
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
    await store.applyEvents([{ k: "conv", seq: 3, conv: conv(1) }, { k: "msg", seq: 4, msg: msg(10) }]);
    expect(await store.advanceCursor(2)).toBe(4);
    expect(await store.advanceCursor(8)).toBe(8);
    expect(await store.applyConvPage(null, { t: "conv_page", qid: 1, convs: [conv(1)], more: true })).toBe(true);
    await store.putAttachment({ att: 5, type: "image/png", data: new Uint8Array([1]) });
    const entry = await compose(store, { to: ["+15550100100"], body: "queued" }, opts);
    await store.reset(1234);
    expect(await store.cursor()).toBe(1234);
    expect(await store.conversations()).toEqual([]);
    expect(await store.messages(1)).toEqual([]);
    expect(await store.list()).toBeNull();
    expect(await store.attachment(5)).toBeNull();
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
    expect(await store.outbox()).toEqual([]);
    expect((await store.messages(1)).map((m) => m.body)).toEqual(["hello"]);

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

describe("pages", () => {
  const page = (msgs: MessageRecord[], more: boolean): ThreadPage => ({ t: "thread_page", qid: 1, conv: 1, msgs, more });
  /** Messages `from`..`to` of conversation 1, newest first, as the host pages them. */
  const msgs = (from: number, to: number): MessageRecord[] =>
    Array.from({ length: to - from + 1 }, (_, i) => msg(to - i));
  const shown = async (anchor: [number, number] | null = null): Promise<number[]> =>
    ((await store.snapshot(1, anchor)).thread?.messages ?? []).map((m) => m.id);

  it("the conversation list: first page, next pages from where it ends, nothing shown below it", async () => {
    expect((await store.snapshot(null)).list).toBe("unpaged");
    // A live event before any page: cached, but the list is not shown until paged.
    await store.applyEvents([{ k: "conv", seq: 1, conv: conv(9) }]);
    expect((await store.snapshot(null)).conversations).toEqual([]);
    expect(await store.applyConvPage(null, { t: "conv_page", qid: 1, convs: [conv(9), conv(8)], more: true })).toBe(true);
    expect(await store.list()).toEqual({ low: [1008, 8] });
    // A conversation further down, cached by an event (e.g. read on another device), stays hidden.
    await store.applyEvents([{ k: "conv", seq: 2, conv: conv(3) }]);
    let snap = await store.snapshot(null);
    expect([snap.list, snap.conversations.map((c) => c.id)]).toEqual(["partial", [9, 8]]);
    // A page asked for from another end is refused (the list moved on, or was reset).
    expect(await store.applyConvPage([5, 5], { t: "conv_page", qid: 2, convs: [conv(1)], more: false })).toBe(false);
    expect(await store.applyConvPage(null, { t: "conv_page", qid: 2, convs: [conv(1)], more: false })).toBe(false);
    expect(await store.applyConvPage([1008, 8], { t: "conv_page", qid: 3, convs: [conv(3), conv(1)], more: false })).toBe(true);
    snap = await store.snapshot(null);
    expect([snap.list, snap.conversations.map((c) => c.id)]).toEqual(["complete", [9, 8, 3, 1]]);
  });

  it("a thread: the newest page, then older ones until the first; events extend the newest", async () => {
    expect((await store.snapshot(1)).thread).toEqual({ conversation: null, segment: null, messages: [] });
    await store.applyEvents([{ k: "conv", seq: 1, conv: conv(1) }, { k: "msg", seq: 2, msg: msg(31) }]);
    expect(await shown()).toEqual([]); // not paged yet
    expect(await store.applyThreadPage(1, { kind: "newest" }, page(msgs(21, 31), true))).toBe(true);
    expect(await shown()).toEqual(range(21, 31));
    expect(await store.applyThreadPage(1, { kind: "older", low: [1021, 21] }, page(msgs(11, 20), true))).toBe(true);
    // An answer for an end the thread no longer has is refused: no gap.
    expect(await store.applyThreadPage(1, { kind: "older", low: [1021, 21] }, page(msgs(1, 5), true))).toBe(false);
    expect(await store.applyThreadPage(1, { kind: "older", low: [1011, 11] }, page(msgs(1, 10), false))).toBe(true);
    await store.applyEvents([{ k: "msg", seq: 3, msg: msg(32) }]);
    expect(await shown()).toEqual(range(1, 32));
    expect((await store.thread(1))?.segments).toEqual([{ low: null, high: null }]);
  });

  it("a search hit: the page ending with it, then newer pages until it meets the newest", async () => {
    await store.applyEvents([{ k: "conv", seq: 1, conv: conv(1) }]);
    await store.applyThreadPage(1, { kind: "newest" }, page(msgs(80, 99), true));
    await store.applyThreadPage(1, { kind: "around", at: [1030, 30] }, page(msgs(20, 30), true));
    expect(await shown([1030, 30])).toEqual(range(20, 30));
    expect(await shown()).toEqual(range(80, 99));
    expect(await store.applyThreadPage(1, { kind: "newer", high: [1030, 30] }, page(msgs(31, 60), true))).toBe(true);
    expect(await shown([1030, 30])).toEqual(range(20, 60));
    expect(await store.applyThreadPage(1, { kind: "newer", high: [1060, 60] }, page(msgs(61, 90), true))).toBe(true);
    // They overlap now: one segment, shown whichever way the thread is opened.
    expect(await shown([1030, 30])).toEqual(range(20, 99));
    expect(await shown()).toEqual(range(20, 99));
  });

  it("a page holding the host's copy of a text composed here replaces its outbox entry", async () => {
    const entry = await compose(store, { to: ["+15550100100"], body: "mine" }, opts);
    await store.applyThreadPage(1, { kind: "newest" }, page([msg(5, { dir: "out", body: "mine", cmid: entry.cmid })], false));
    expect(await store.outbox()).toEqual([]);
    expect(await shown()).toEqual([5]);
  });

  it("hist: a conversation record with another hist drops its cached messages and segments", async () => {
    await store.applyEvents([{ k: "conv", seq: 1, conv: conv(1) }]);
    await store.applyThreadPage(1, { kind: "newest" }, page(msgs(1, 5), false));
    await store.applyEvents([{ k: "conv", seq: 2, conv: conv(1, { unread: 1 }) }]); // same hist: kept
    expect(await shown()).toEqual(range(1, 5));
    await store.applyEvents([{ k: "conv", seq: 3, conv: conv(1, { hist: 1 }) }]);
    expect(await store.messages(1)).toEqual([]);
    expect(await store.thread(1)).toBeNull();
    // Pages of a thread whose record was not cached yet are dropped when it comes with its hist.
    await store.applyThreadPage(2, { kind: "newest" }, { ...page([msg(40, { conv: 2 })], false), conv: 2 });
    expect((await store.thread(2))?.hist).toBe(-1);
    expect(await store.applyConvPage(null, { t: "conv_page", qid: 1, convs: [conv(2)], more: false })).toBe(true);
    expect(await store.thread(2)).toBeNull();
  });

  it("attachments: bytes or the reason they are missing", async () => {
    await store.putAttachment({ att: 3, type: "image/png", data: new Uint8Array([1, 2, 3]) });
    await store.putAttachment({ att: 4, error: "gone" });
    expect(await store.attachment(3)).toEqual({ att: 3, type: "image/png", data: new Uint8Array([1, 2, 3]) });
    expect(await store.attachment(4)).toEqual({ att: 4, error: "gone" });
    expect(await store.attachment(5)).toBeNull();
  });
});

describe("upgrade", () => {
  it("from version 1: the cache built by replay goes (reset follows), the pairing and outbox stay", async () => {
    const factory = new IDBFactory();
    await new Promise<void>((resolve, reject) => {
      const req = factory.open(DB_NAME, 1);
      req.onupgradeneeded = () => {
        const db = req.result;
        db.createObjectStore("device");
        const meta = db.createObjectStore("meta");
        db.createObjectStore("conversations", { keyPath: "id" }).put({ id: 1 });
        db.createObjectStore("messages", { keyPath: "id" }).createIndex("conv", "conv");
        db.createObjectStore("outbox", { keyPath: "cmid" }).put({ cmid: "ab".repeat(16) });
        meta.put(PAIRING, "pairing");
        meta.put(77, "cursor");
      };
      req.onsuccess = () => {
        req.result.close();
        resolve();
      };
      req.onerror = () => reject(req.error);
    });
    const upgraded = await Store.open(factory, IDBKeyRange);
    expect(await upgraded.pairing()).toEqual(PAIRING);
    expect(await upgraded.cursor()).toBe(0);
    expect(await upgraded.conversations()).toEqual([]);
    expect((await upgraded.outbox()).map((e) => e.cmid)).toEqual(["ab".repeat(16)]);
    upgraded.close();
  });

  it("from version 2: records without flags and the one-folder list go, the pairing and outbox stay", async () => {
    const factory = new IDBFactory();
    await new Promise<void>((resolve, reject) => {
      const req = factory.open(DB_NAME, 2);
      req.onupgradeneeded = () => {
        const db = req.result;
        db.createObjectStore("device");
        const meta = db.createObjectStore("meta");
        db.createObjectStore("conversations", { keyPath: "id" }).put({ id: 1, peers: ["+15550100100"], last_at: 5 });
        const messages = db.createObjectStore("messages", { keyPath: "id" });
        messages.createIndex("conv", "conv");
        messages.createIndex("position", ["conv", "at", "id"]);
        messages.put({ id: 3, conv: 1, at: 5 });
        db.createObjectStore("threads", { keyPath: "conv" }).put({ conv: 1, hist: 0, segments: [] });
        db.createObjectStore("attachments", { keyPath: "att" });
        db.createObjectStore("outbox", { keyPath: "cmid" }).put({ cmid: "ab".repeat(16) });
        meta.put(PAIRING, "pairing");
        meta.put(77, "cursor");
        meta.put({ low: null }, "list");
      };
      req.onsuccess = () => {
        req.result.close();
        resolve();
      };
      req.onerror = () => reject(req.error);
    });
    const upgraded = await Store.open(factory, IDBKeyRange);
    expect(await upgraded.pairing()).toEqual(PAIRING);
    expect(await upgraded.cursor()).toBe(0);
    expect(await upgraded.conversations()).toEqual([]);
    expect(await upgraded.messages(1)).toEqual([]);
    expect(await upgraded.thread(1)).toBeNull();
    expect(await upgraded.list()).toBeNull();
    expect((await upgraded.snapshot(null)).list).toBe("unpaged");
    expect((await upgraded.outbox()).map((e) => e.cmid)).toEqual(["ab".repeat(16)]);
    upgraded.close();
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
