/**
 * The outbox's expiry (fake-indexeddb, a real Store): a text waits at most the
 * host's text lifetime from when the person pressed Send, then fails here with
 * a reason a person can read and is never sent; what a queued text says while
 * the host is away; the `created` a send carries.
 */

import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { beforeEach, describe, expect, it } from "vitest";

import { hostAway } from "../../src/client/connection";
import {
  WAITING_NOTE,
  applyAck,
  compose,
  entryStatus,
  expire,
  expiresAt,
  nextExpiry,
  retry,
  sendMessage,
  statusText,
  unacknowledged,
} from "../../src/client/outbox";
import { Store } from "../../src/client/storage";
import { durationWords, unreachableReason } from "../../src/client/wording";
import { randomBytes } from "../../src/protocol/pairing";

const DAY = 86_400_000;
const TYPED = 1_790_000_000_000;
const TO = ["+15550100100"];

let store: Store;
let now: number;
const opts = { now: () => now, random: randomBytes };

beforeEach(async () => {
  store = await Store.open(new IDBFactory(), IDBKeyRange);
  now = TYPED;
});

describe("expiry", () => {
  it("a queued text fails once the lifetime has passed since Send, not a moment before, and is never sent", async () => {
    const entry = await compose(store, { to: TO, body: "are you up?" }, opts);
    expect(expiresAt(entry, DAY)).toBe(TYPED + DAY);
    expect(nextExpiry(await store.outbox(), DAY)).toBe(TYPED + DAY);

    expect((await expire(store, TYPED + DAY - 1, DAY)).failed).toBe(0);
    expect((await store.outboxEntry(entry.cmid))?.state).toBe("queued");

    const expired = await expire(store, TYPED + DAY, DAY);
    expect(expired.failed).toBe(1);
    const failed = await store.outboxEntry(entry.cmid);
    expect(expired.outbox).toEqual([failed]); // the outbox as it is now
    expect(failed).toMatchObject({ state: "failed", body: "are you up?" });
    expect(statusText(entryStatus(failed!))).toBe(
      "failed: Not sent: your phone was out of reach for longer than 1 day after you pressed Send.");
    expect(unacknowledged(await store.outbox())).toEqual([]);
    expect(nextExpiry(await store.outbox(), DAY)).toBeNull();
    expect((await expire(store, TYPED + 2 * DAY, DAY)).failed).toBe(0); // once
  });

  it("only queued entries expire: one the host acknowledged is the host's to finish", async () => {
    const acked = await compose(store, { to: TO, body: "acked" }, opts);
    await applyAck(store, { t: "ack", cmid: acked.cmid, msg_id: 4, state: "sending", reason: null });
    now += 1000;
    const waiting = await compose(store, { to: TO, body: "waiting" }, opts);
    expect(nextExpiry(await store.outbox(), DAY)).toBe(waiting.createdAt + DAY);
    expect((await expire(store, TYPED + 3 * DAY, DAY)).failed).toBe(1);
    expect((await store.outboxEntry(acked.cmid))?.state).toBe("sending");
    expect((await store.outboxEntry(waiting.cmid))?.state).toBe("failed");
  });

  it("a scheduled text counts from its time, and says so when it fails", async () => {
    const at = TYPED + 2 * 3_600_000;
    const entry = await compose(store, { to: TO, body: "later", at }, opts);
    const ttl = 3_600_000;
    expect(expiresAt(entry, ttl)).toBe(at + ttl);
    expect((await expire(store, at + ttl - 1, ttl)).failed).toBe(0);
    expect((await expire(store, at + ttl, ttl)).failed).toBe(1);
    expect((await store.outboxEntry(entry.cmid))?.reason).toBe(
      "Not sent: your phone was out of reach for longer than 1 hour after the time you scheduled it for.");
  });

  it("retrying an expired text makes a new text, with a new Send time", async () => {
    const entry = await compose(store, { to: TO, body: "again" }, opts);
    now = TYPED + DAY;
    await expire(store, now, DAY);
    now += 5000;
    const again = await retry(store, entry.cmid, opts);
    expect(again).toMatchObject({ state: "queued", body: "again", createdAt: now });
    expect(again!.cmid).not.toBe(entry.cmid);
    expect(sendMessage(again!)).toMatchObject({ t: "send", cmid: again!.cmid, created: now });
    expect((await expire(store, now + DAY - 1, DAY)).failed).toBe(0);
  });

  it("a send carries when the person pressed Send", async () => {
    const entry = await compose(store, { to: TO, body: "hi" }, opts);
    expect(sendMessage(entry)).toEqual({ t: "send", cmid: entry.cmid, to: TO, body: "hi", at: null, created: TYPED });
  });
});

describe("what a queued text says", () => {
  it("queued, and that it waits for the phone while the host is away", async () => {
    const entry = await compose(store, { to: TO, body: "hi" }, opts);
    expect(statusText(entryStatus(entry))).toBe("queued");
    expect(entryStatus(entry, true)).toEqual({ status: "queued", reason: null, note: WAITING_NOTE });
    expect(statusText(entryStatus(entry, true))).toBe("queued · Will send when your phone reconnects");
  });

  it("the host is away when the relay cannot be reached or the host is not at it, not while connecting", () => {
    expect(hostAway(null)).toBe(false);
    expect(hostAway({ relay: "connecting", hostOnline: null, ready: false })).toBe(false);
    expect(hostAway({ relay: "up", hostOnline: true, ready: false })).toBe(false);
    expect(hostAway({ relay: "up", hostOnline: true, ready: true })).toBe(false);
    expect(hostAway({ relay: "up", hostOnline: false, ready: false })).toBe(true);
    expect(hostAway({ relay: "unreachable", hostOnline: null, ready: false })).toBe(true);
  });

  it("durations read as their largest whole unit, as the host writes them", () => {
    expect(durationWords(DAY)).toBe("1 day");
    expect(durationWords(3 * DAY)).toBe("3 days");
    expect(durationWords(36 * 3_600_000)).toBe("36 hours");
    expect(durationWords(90 * 60_000)).toBe("90 minutes");
    expect(durationWords(61_000)).toBe("61 seconds");
    expect(durationWords(1000)).toBe("1 second");
    expect(durationWords(2500)).toBe("3 seconds");
    expect(durationWords(1)).toBe("1 second");
    expect(unreachableReason(5000)).toBe(
      "Not sent: your phone was out of reach for longer than 5 seconds after you pressed Send.");
  });
});
