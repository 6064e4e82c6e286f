/**
 * The connection against the FakeRelay and FakeHost test doubles: sync,
 * live events, gaps, reset instead of replay, requests matched by qid, the
 * outbox (no duplicates, resend after synced, texts past the host's lifetime
 * failed here and never sent), presence, reconnects, a restarted relay that
 * does not know the room yet, and revocation.
 */

import { describe, expect, it } from "vitest";

import { PING_INTERVAL, UNAUTHORIZED_GRACE, hostAway } from "../../src/client/connection";
import { compose } from "../../src/client/outbox";
import type { Capabilities, Convs, Message, Thread } from "../../src/protocol/messages";
import { randomBytes } from "../../src/protocol/pairing";
import { connect, pair, until, world } from "../fakes/setup";

const opts = { now: () => Date.now(), random: randomBytes };
const CAPS: Capabilities = {
  delivery_reports: true, mms: false, max_parts: 10, dual_sim: false, incoming: "events", text_ttl_ms: null,
};
const sends = (received: readonly Message[]): Message[] => received.filter((m) => m.t === "send");

describe("sync", () => {
  it("a first start is reset, not replayed: cursor = seq, sync{since: seq}, then live events", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    await w.host.receive("+15550100100", "one", "Alice");
    await w.host.receive("+15550100200", "two");
    const run = connect(w, pairing);
    await until(() => run.connection.status.ready, 3000, "synced");
    expect(w.host.received.slice(0, 3)).toEqual([
      { t: "hello", proto: 1, agent: "vitest" },
      { t: "sync", since: 0, limit: 500 },
      { t: "sync", since: w.host.seq, limit: 500 },
    ]);
    expect(await w.store.cursor()).toBe(w.host.seq);
    expect(await w.store.conversations()).toEqual([]); // history comes in pages, not events

    await w.host.receive("+15550100200", "three");
    await until(async () => (await w.store.cursor()) === w.host.seq, 3000, "live event");
    expect((await w.store.conversations()).map((c) => c.snippet)).toEqual(["three"]);
    run.connection.stop();
  });

  it("a host with no events at all syncs from 0 without a reset", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    const run = connect(w, pairing);
    await until(() => run.connection.status.ready);
    expect(w.host.received.filter((m) => m.t === "sync")).toEqual([{ t: "sync", since: 0, limit: 500 }]);
    run.connection.stop();
  });

  it("resumes from its cursor on reconnect (the cursor is the ack): missed events come as batches", async () => {
    const w = await world({ batchSize: 2 });
    const pairing = await pair(w);
    await w.host.connect();
    const run = connect(w, pairing);
    await until(() => run.connection.status.ready);
    await w.host.receive("+15550100100", "one");
    await until(async () => (await w.store.cursor()) === w.host.seq);
    const cursor = await w.store.cursor();
    run.connection.stop();
    await w.host.receive("+15550100100", "two");
    await w.host.receive("+15550100100", "three");
    const again = connect(w, pairing);
    await until(() => again.connection.status.ready);
    const syncs = w.host.received.filter((m) => m.t === "sync");
    expect(syncs.at(-1)).toEqual({ t: "sync", since: cursor, limit: 500 });
    expect(await w.store.cursor()).toBe(w.host.seq);
    const conv = (await w.store.conversations())[0]!;
    expect((await w.store.messages(conv.id)).map((m) => m.body)).toEqual(["one", "two", "three"]);
    again.connection.stop();
  });

  it("gap -> resync: every event ends up applied, once", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    await w.host.receive("+15550100200", "before"); // so the cursor is not 0 (sync{since: 0} is a reset)
    const run = connect(w, pairing);
    await until(() => run.connection.status.ready);
    // Make two events without pushing them, then push skipping the first one.
    const links = [...w.host.links.values()];
    for (const link of links) link.synced = false;
    await w.host.receive("+15550100100", "lost and found");
    for (const link of links) link.synced = true;
    const firstNew = w.host.seq - 1;
    await w.host.push({ skip: firstNew });
    await until(async () => (await w.store.cursor()) === w.host.seq, 3000, "resync");
    const syncs = w.host.received.filter((m) => m.t === "sync");
    expect(syncs.at(-1)).toEqual({ t: "sync", since: firstNew - 1, limit: 500 });
    const conv = (await w.store.conversations())[0]!;
    expect((await w.store.messages(conv.id)).map((m) => m.body)).toEqual(["lost and found"]);
    run.connection.stop();
  });

  it("reset: a cursor ahead of the host, or too far behind, drops the cache and continues from its seq", async () => {
    const w = await world({ replayLimit: 3 });
    const pairing = await pair(w);
    await w.host.connect();
    await w.host.receive("+15550100100", "kept by the host");
    await w.store.applyEvents([{ k: "conv", seq: 50, conv: {
      id: 999, peers: ["+15550100999"], name: null, last_at: 1, snippet: "stale", unread: 0, hist: 0,
      pinned: false, archived: false, muted: false, blocked: false, names: [null] } }]);
    const entry = await compose(w.store, { to: ["+15550100100"], body: "stays" }, opts);
    const resets: number[] = [];
    const seq = w.host.seq;
    const run = connect(w, pairing, { onReset: () => resets.push(1) });
    await until(() => run.connection.status.ready);
    const syncs = w.host.received.filter((m) => m.t === "sync").map((m) => (m as { since: number }).since);
    expect(syncs).toEqual([50, seq]);
    expect(resets).toHaveLength(1);
    expect((await w.store.conversations()).find((c) => c.id === 999)).toBeUndefined();
    await until(async () => (await w.store.outboxEntry(entry.cmid)) === null, 3000, "the host's copy");
    run.connection.stop();

    // Away for more than replayLimit events: reset again, not a replay.
    for (const body of ["a", "b", "c", "d"]) await w.host.receive("+15550100200", body);
    const again = connect(w, pairing);
    await until(() => again.connection.status.ready);
    expect(w.host.received.filter((m) => m.t === "sync").slice(-2).map((m) => (m as { since: number }).since))
      .toEqual([w.host.seq - 12, w.host.seq]); // a conv, a msg and a conv event per text
    expect((await w.store.conversations()).map((c) => c.snippet)).toEqual([]);
    again.connection.stop();
  });
});

describe("requests", () => {
  it("match answers by qid, in arrival order with events; error{ref: qid} refuses one and the session goes on", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    await w.host.receive("+15550100100", "hello");
    const run = connect(w, pairing);
    await until(() => run.connection.status.ready);
    const pages: string[] = [];
    const list = run.connection.request<Convs>(
      { t: "convs", folder: "inbox", before: null, limit: 10 }, (page) => {
        pages.push(`convs ${page.convs.length} ${page.more}`);
      });
    const refused = run.connection.request<Thread>(
      { t: "thread", conv: 12345, before: null, after: null, limit: 10 }, () => {
        pages.push("never");
      });
    await list;
    await expect(refused).rejects.toMatchObject({ code: "bad_message" });
    expect(pages).toEqual(["convs 1 false"]);
    const qids = w.host.received.filter((m) => m.t === "convs" || m.t === "thread").map((m) => (m as { qid: number }).qid);
    expect(new Set(qids).size).toBe(2);
    expect(run.connection.status.ready).toBe(true);
    run.connection.stop();
  });

  it("fail when the session ends before the answer, and at once without a session", async () => {
    const w = await world({ holdPages: true });
    const pairing = await pair(w);
    await w.host.connect();
    const run = connect(w, pairing);
    await until(() => run.connection.status.ready);
    const waiting = run.connection.request<Convs>(
      { t: "convs", folder: "inbox", before: null, limit: 10 }, () => undefined);
    await until(() => w.host.received.some((m) => m.t === "convs"));
    run.connection.stop();
    await expect(waiting).rejects.toMatchObject({ code: "session_closed" });
    await expect(run.connection.request<Convs>(
      { t: "convs", folder: "inbox", before: null, limit: 10 }, () => undefined)).rejects.toMatchObject({ code: "session_closed" });
  });
});

describe("outbox", () => {
  it("send -> ack (sending) -> msg event with the cmid replaces the entry -> status events", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    const run = connect(w, pairing);
    await until(() => run.connection.status.ready);
    const entry = await compose(w.store, { to: ["+15550100100"], body: "hello there" }, opts);
    await run.connection.flush();
    await until(async () => (await w.store.outbox()).length === 0, 3000, "host copy");
    const conv = (await w.store.conversations())[0]!;
    const messages = await w.store.messages(conv.id);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ body: "hello there", cmid: entry.cmid, state: "sending", dir: "out" });
    await w.host.setState(messages[0]!.id, "sent");
    await w.host.setState(messages[0]!.id, "delivered");
    await until(async () => (await w.store.messages(conv.id))[0]?.state === "delivered");
    expect(sends(w.host.received)).toHaveLength(1);
    run.connection.stop();
  });

  it("a text written while the host is offline waits, is sent after synced, exactly once on screen", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect(); // the room and its tokens stay at the relay after the host leaves
    w.host.disconnect();
    const run = connect(w, pairing);
    await until(() => run.connection.status.relay === "up" && run.connection.status.hostOnline === false);
    const entry = await compose(w.store, { to: ["+15550100100"], body: "wait for it" }, opts);
    await run.connection.flush(); // not ready: nothing goes out
    expect(sends(w.host.received)).toHaveLength(0);
    expect((await w.store.outbox())[0]?.state).toBe("queued");

    await w.host.connect(); // presence{online:true} -> handshake -> sync -> resend
    await until(async () => (await w.store.outbox()).length === 0, 3000, "delivery");
    expect(sends(w.host.received).map((m) => (m as { cmid: string }).cmid)).toEqual([entry.cmid]);
    const conv = (await w.store.conversations())[0]!.id;
    expect((await w.store.messages(conv)).filter((m) => m.body === "wait for it")).toHaveLength(1);
    expect(await w.store.outbox()).toHaveLength(0);
    run.connection.stop();
  });

  it("an unacked entry is sent again after reconnecting; the host dedupes on the cmid", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    // The host acks but its events never reach the device (the link dies first).
    const run = connect(w, pairing);
    await until(() => run.connection.status.ready);
    const entry = await compose(w.store, { to: ["+15550100100"], body: "twice?" }, opts);
    w.host.options.refuseSends = null;
    // Kill the device's socket before flushing: the entry stays queued.
    for (const conn of w.relay.links(w.host.room)) w.relay.kill(conn);
    await until(() => !run.connection.status.ready);
    await until(() => run.connection.status.ready, 3000, "reconnect");
    await until(async () => (await w.store.outbox()).length === 0);
    // Sent again on the new session and deduped by the host: one message.
    expect(sends(w.host.received).filter((m) => (m as { cmid: string }).cmid === entry.cmid).length).toBeGreaterThanOrEqual(1);
    expect([...w.host.messages.values()].filter((m) => m.cmid === entry.cmid)).toHaveLength(1);
    run.connection.stop();
  });

  it("a host error for a send marks the entry failed with the host's message", async () => {
    const w = await world({ refuseSends: { code: "invalid_number", message: "Number blocked" } });
    const pairing = await pair(w);
    await w.host.connect();
    const run = connect(w, pairing);
    await until(() => run.connection.status.ready);
    const entry = await compose(w.store, { to: ["+15550100100"], body: "nope" }, opts);
    await run.connection.flush();
    await until(async () => (await w.store.outboxEntry(entry.cmid))?.state === "failed");
    expect((await w.store.outboxEntry(entry.cmid))?.reason).toBe("Number blocked");
    expect(run.connection.status.ready).toBe(true); // the session goes on
    run.connection.stop();
  });

  it("a text carries when it was typed; the host's text lifetime from welcome is kept with the pairing", async () => {
    const w = await world({ caps: { ...CAPS, text_ttl_ms: 7_200_000 } });
    const pairing = await pair(w);
    await w.host.connect();
    const run = connect(w, pairing, { now: () => Date.now() });
    await until(() => run.connection.status.ready);
    expect((await w.store.pairing())?.textTtlMs).toBe(7_200_000);
    const entry = await compose(w.store, { to: ["+15550100100"], body: "typed now" }, opts);
    await run.connection.flush();
    await until(() => sends(w.host.received).length === 1, 3000, "the send");
    expect(sends(w.host.received)[0]).toMatchObject({ cmid: entry.cmid, created: entry.createdAt, at: null });
    run.connection.stop();
  });

  it("a text typed while the host is away fails by itself once the host's lifetime passes, and is never sent", async () => {
    const w = await world({ caps: { ...CAPS, text_ttl_ms: 1000 } });
    const pairing = await pair(w);
    await w.host.connect();
    const run = connect(w, pairing, { now: () => Date.now() });
    await until(() => run.connection.status.ready);
    w.host.disconnect();
    await until(() => run.connection.status.hostOnline === false, 3000, "the host away");
    const entry = await compose(w.store, { to: ["+15550100100"], body: "too late" }, opts);
    await run.connection.flush(); // what the client does after compose: not ready, so it only sets the timer
    expect((await w.store.outboxEntry(entry.cmid))?.state).toBe("queued");
    const changes = run.changes();
    // No host, no reconnect: the timer alone fails it.
    const failed = await until(async () => {
      const current = await w.store.outboxEntry(entry.cmid);
      return current?.state === "failed" ? current : null;
    }, 3000, "failed without the host");
    expect(Date.now() - entry.createdAt).toBeGreaterThanOrEqual(1000);
    expect(failed.reason).toBe("Not sent: your phone was out of reach for longer than 1 second after you pressed Send.");
    expect(run.changes()).toBeGreaterThan(changes); // the views re-read

    await w.host.connect();
    await until(() => run.connection.status.ready, 3000, "the host back");
    await run.connection.flush();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(sends(w.host.received)).toEqual([]);
    expect(await w.store.outboxEntry(entry.cmid)).toMatchObject({ state: "failed", reason: failed.reason });
    run.connection.stop();
  });

  it("a text that expired while the browser was closed fails at start, before the host is back; a fresh one is sent", async () => {
    const w = await world({ caps: { ...CAPS, text_ttl_ms: 3_600_000 } });
    const pairing = await pair(w);
    await w.host.connect();
    const first = connect(w, pairing, { now: () => Date.now() });
    await until(() => first.connection.status.ready);
    first.connection.stop(); // the browser closes
    w.host.disconnect();
    const old = await compose(w.store, { to: ["+15550100100"], body: "typed yesterday" }, {
      now: () => Date.now() - 3_600_000, random: randomBytes,
    });
    const fresh = await compose(w.store, { to: ["+15550100100"], body: "typed now" }, opts);
    const run = connect(w, { ...pairing, textTtlMs: null }, { now: () => Date.now() }); // an old copy of the pairing
    await until(async () => (await w.store.outboxEntry(old.cmid))?.state === "failed", 3000, "failed at start");
    expect((await w.store.outboxEntry(fresh.cmid))?.state).toBe("queued");
    await w.host.connect();
    await until(async () => (await w.store.outboxEntry(fresh.cmid)) === null, 3000, "the fresh one delivered");
    expect(sends(w.host.received).map((m) => (m as { cmid: string }).cmid)).toEqual([fresh.cmid]);
    expect((await w.store.outboxEntry(old.cmid))?.state).toBe("failed");
    run.connection.stop();
  });

  it("an older host that says no lifetime: nothing expires here (the host decides)", async () => {
    const w = await world({ caps: { ...CAPS, text_ttl_ms: null } });
    const pairing = await pair(w);
    await w.host.connect();
    const run = connect(w, pairing, { now: () => Date.now() });
    await until(() => run.connection.status.ready);
    expect((await w.store.pairing())?.textTtlMs ?? null).toBeNull();
    w.host.disconnect();
    await until(() => run.connection.status.hostOnline === false);
    const old = await compose(w.store, { to: ["+15550100100"], body: "old" }, { now: () => 1, random: randomBytes });
    await run.connection.flush();
    await w.host.connect();
    await until(async () => (await w.store.outboxEntry(old.cmid)) === null, 3000, "sent");
    expect(sends(w.host.received)).toHaveLength(1);
    run.connection.stop();
  });

  it("read{conv} goes to the host; the host's conv event confirms unread 0", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    const msg = await w.host.receive("+15550100100", "unread");
    const run = connect(w, pairing);
    await until(() => run.connection.status.ready);
    run.connection.markRead(msg.conv);
    await until(() => w.host.received.some((m) => m.t === "read"));
    await until(async () => (await w.store.conversations())[0]?.unread === 0);
    run.connection.stop();
  });
});

describe("presence and reconnects", () => {
  it("host offline and back: status follows, a new session syncs", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    const run = connect(w, pairing);
    await until(() => run.connection.status.ready);
    w.host.disconnect();
    await until(() => run.connection.status.hostOnline === false && !run.connection.status.ready);
    await w.host.connect();
    await until(() => run.connection.status.ready);
    expect(w.host.received.filter((m) => m.t === "hello")).toHaveLength(2);
    run.connection.stop();
  });

  it("relay unreachable: says so, and connects when it is back", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    w.relay.reachable = false;
    const run = connect(w, pairing);
    await until(() => run.connection.status.relay === "unreachable");
    w.relay.reachable = true;
    run.connection.kick();
    await until(() => run.connection.status.ready);
    expect(run.connection.status.relay).toBe("up");
    run.connection.stop();
  });

  it("pings the host; a host that stops answering is left and reconnected to", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    const fast = {
      setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms === PING_INTERVAL ? 20 : ms),
      clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
    const run = connect(w, pairing, { timers: fast });
    await until(() => run.connection.status.ready);
    await until(() => w.host.received.filter((m) => m.t === "ping").length >= 2, 3000, "pings answered");
    expect(w.host.received.filter((m) => m.t === "hello")).toHaveLength(1);
    w.host.options.ignorePings = true;
    await until(() => w.host.received.filter((m) => m.t === "hello").length === 2, 3000, "reconnect");
    run.connection.stop();
  });

  it("a tampered frame closes the session; the device reconnects and resumes", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    const run = connect(w, pairing);
    await until(() => run.connection.status.ready);
    const device = w.relay.links(w.host.room)[0]!;
    const { encodeData } = await import("../../src/protocol/frames");
    device.handlers.message(encodeData(0, new Uint8Array(200).fill(1)));
    await until(() => w.host.received.filter((m) => m.t === "hello").length === 2, 3000, "reconnect");
    await until(() => run.connection.status.ready);
    run.connection.stop();
  });
});

describe("a restarted relay that does not know the room", () => {
  const joins = (w: Awaited<ReturnType<typeof world>>): number => w.relay.seen.filter((s) => s.frame.op === "join").length;
  /**
   * Wait for `check`, waking the connection as it goes: after a refusal it asks again
   * only seconds later (a kick, as the page regaining focus does, cuts that short).
   */
  const kicking = (run: ReturnType<typeof connect>, check: () => boolean, what: string): Promise<boolean> =>
    until(() => {
      run.connection.kick();
      return check();
    }, 5000, what);
  const twoMoreJoins = async (w: Awaited<ReturnType<typeof world>>, run: ReturnType<typeof connect>, what: string): Promise<void> => {
    const start = joins(w);
    await kicking(run, () => joins(w) >= start + 2, what);
  };

  it("room_unknown past the unauthorized grace: pairing, cache and outbox kept, host offline; the host back, it syncs and sends", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    const run = connect(w, pairing);
    await until(() => run.connection.status.ready);
    await w.host.receive("+15550100100", "cached before the restart");
    await until(async () => (await w.store.conversations()).length === 1, 3000, "the cache");

    w.host.disconnect(); // the phone is off ...
    w.relay.restart(); // ... and the relay restarts: it knows no room now
    await twoMoreJoins(w, run, "two refused joins");
    expect(run.connection.status).toEqual({ relay: "up", hostOnline: false, ready: false });
    expect(hostAway(run.connection.status)).toBe(true); // the "phone offline" banner
    run.clock.now += 3 * UNAUTHORIZED_GRACE; // refused for longer than the grace, over more attempts
    await twoMoreJoins(w, run, "more refused joins");
    expect(run.unpaired).toEqual([]);
    expect(await w.store.pairing()).not.toBeNull();
    expect((await w.store.conversations()).map((c) => c.snippet)).toEqual(["cached before the restart"]);
    expect(run.connection.status).toEqual({ relay: "up", hostOnline: false, ready: false });

    const entry = await compose(w.store, { to: ["+15550100200"], body: "queued while the relay forgot" }, opts);
    await run.connection.flush(); // not ready: it waits
    expect(sends(w.host.received)).toHaveLength(0);
    expect((await w.store.outboxEntry(entry.cmid))?.state).toBe("queued");

    await w.host.connect(); // claims the room, registers the tokens again
    await kicking(run, () => run.connection.status.ready, "synced with the host");
    await until(async () => (await w.store.outboxEntry(entry.cmid)) === null, 3000, "the queued text sent");
    expect(sends(w.host.received).map((m) => (m as { cmid: string }).cmid)).toEqual([entry.cmid]);
    expect(run.unpaired).toEqual([]);
    expect((await w.store.conversations()).some((c) => c.snippet === "cached before the restart")).toBe(true);
    run.connection.stop();
  });

  it("room_unknown starts the unauthorized grace over; an unauthorized that then lasts still unpairs", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    await w.host.revoke(w.deviceKey.publicKey); // the token is gone from the room
    const run = connect(w, pairing);
    await until(() => joins(w) === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(run.unpaired).toEqual([]); // unauthorized once: the grace starts

    w.host.disconnect();
    w.relay.restart();
    run.clock.now += UNAUTHORIZED_GRACE + 1;
    run.connection.kick();
    await until(() => run.connection.status.hostOnline === false, 3000, "room_unknown: the host away");
    expect(run.unpaired).toEqual([]);

    await w.host.connect(); // the room again, without this device's token
    const before = joins(w);
    await until(() => joins(w) > before, 3000, "a join refused as unauthorized");
    await new Promise((r) => setTimeout(r, 30));
    expect(run.unpaired).toEqual([]); // the grace started over at this refusal
    run.clock.now += UNAUTHORIZED_GRACE + 1;
    run.connection.kick();
    await until(() => run.unpaired.length === 1, 3000, "unpaired");
    expect(await w.store.pairing()).toBeNull();
  });
});

describe("revocation", () => {
  it("bye{revoked} on a live session: the pairing is forgotten, the key kept", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    await w.host.receive("+15550100100", "secret");
    const run = connect(w, pairing);
    await until(() => run.connection.status.ready);
    await w.host.revoke(w.deviceKey.publicKey);
    await until(() => run.unpaired.length === 1);
    expect(run.unpaired).toEqual(["Test phone"]);
    expect(await w.store.pairing()).toBeNull();
    expect(await w.store.conversations()).toEqual([]);
    expect((await w.store.deviceKey())?.publicKey).toEqual(w.deviceKey.publicKey);
  });

  it("revoked while away: the relay refuses the token; after the grace period it counts as unpaired", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    await w.host.revoke(w.deviceKey.publicKey);
    const run = connect(w, pairing);
    await until(() => w.relay.seen.some((s) => s.frame.op === "join"));
    await new Promise((r) => setTimeout(r, 30));
    expect(run.unpaired).toEqual([]); // one refusal is not enough (a restarted relay says the same)
    run.clock.now += UNAUTHORIZED_GRACE + 1;
    run.connection.kick();
    await until(() => run.unpaired.length === 1);
    expect(await w.store.pairing()).toBeNull();
  });

  it("the host refusing the key (not_paired) ends the pairing", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect(); // registers the token at the relay
    w.host.devices.length = 0; // ... but the host forgot this device
    const run = connect(w, pairing);
    await until(() => run.unpaired.length === 1);
    expect(await w.store.pairing()).toBeNull();
  });
});
