/**
 * History on demand, through the Client against the FakeHost: the list and
 * threads paged with keyset positions (no duplicates, no gaps, ties in time),
 * a search hit's pages meeting the newest, hist, attachment chunks, and what
 * happens to requests across reconnects and resets.
 */

import { describe, expect, it } from "vitest";

import type { Client } from "../../src/client/client";
import { LIST_PAGE, THREAD_PAGE } from "../../src/client/pager";
import type { Segment } from "../../src/client/keyset";
import { CHUNK_BYTES, type Message, type Position } from "../../src/protocol/messages";
import type { HistoryMessage } from "../fakes/host";
import { type World, pair, startClient, until, world } from "../fakes/setup";

const number = (i: number): string => `+1555010${String(i).padStart(4, "0")}`;
const asked = (w: World, t: Message["t"]): Message[] => w.host.received.filter((m) => m.t === t);

async function paired(options: Parameters<typeof world>[0] = {}): Promise<World> {
  const w = await world(options);
  await pair(w);
  await w.host.connect();
  return w;
}

async function ready(w: World): Promise<Client> {
  const client = await startClient(w);
  await until(() => client.state.status?.ready, 3000, "synced");
  return client;
}

/** 140 texts, three to a millisecond (ties in time are ordered by id). */
const history = (count = 140, at = 5_000_000): HistoryMessage[] =>
  Array.from({ length: count }, (_, i) => ({ dir: i % 2 ? "in" : "out", body: `text ${i}`, at: at + Math.floor(i / 3) * 1000 }));

async function segment(client: Client, conv: number, anchor: Position | null = null): Promise<Segment | null> {
  return (await client.snapshot(conv, anchor)).thread?.segment ?? null;
}

/** Scroll to the top of a thread until its first message, as the view does. */
async function pageToFirst(client: Client, conv: number, anchor: Position | null = null): Promise<void> {
  for (;;) {
    const shown = await segment(client, conv, anchor);
    if (shown === null) throw new Error("nothing to page from");
    const low = shown.low;
    if (low === null) return;
    client.need({ kind: "thread", conv, ask: { kind: "older", low } });
    await until(async () => (await segment(client, conv, anchor))?.low !== low, 3000, "an older page");
  }
}

describe("the conversation list", () => {
  it("comes 50 at a time after the reset, in the host's order, without duplicates when one moves up", async () => {
    const w = await paired();
    for (let i = 0; i < 120; i++) await w.host.import([number(i)], [{ dir: "in", body: `hello ${i}`, at: 1_000_000 + i * 1000 }]);
    const client = await ready(w);
    expect((await client.snapshot(null)).list).toBe("unpaged");

    client.need({ kind: "list" });
    client.need({ kind: "list" }); // the same need twice is one request
    await until(async () => (await client.snapshot(null)).conversations.length === LIST_PAGE);
    expect(asked(w, "convs")).toHaveLength(1);
    // A text in a conversation not paged yet: it moves to the top, and is not listed twice later.
    await w.host.receive(number(3), "news");
    await until(async () => (await client.snapshot(null)).conversations[0]?.snippet === "news");
    while ((await client.snapshot(null)).list !== "complete") {
      const before = asked(w, "convs").length;
      client.need({ kind: "list" });
      await until(() => asked(w, "convs").length > before && w.host.received.length > 0);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ids = (await client.snapshot(null)).conversations.map((c) => c.id);
    const expected = [...w.host.conversations.values()]
      .sort((a, b) => b.last_at - a.last_at || b.id - a.id).map((c) => c.id);
    expect(ids).toEqual(expected);
    expect(asked(w, "convs").map((m) => (m as { limit: number }).limit)).toEqual([50, 50, 50]);
  });
});

describe("a thread", () => {
  it("pages newest first, then older as asked: exactly the host's messages, in order", async () => {
    const w = await paired();
    const conv = await w.host.import([number(1)], history());
    const client = await ready(w);
    client.need({ kind: "thread", conv: conv.id, ask: { kind: "newest" } });
    await until(() => segment(client, conv.id));
    expect((await client.snapshot(conv.id)).thread?.messages).toHaveLength(THREAD_PAGE);
    await pageToFirst(client, conv.id);
    const shown = (await client.snapshot(conv.id)).thread!.messages.map((m) => m.id);
    expect(shown).toEqual(w.host.thread(conv.id).map((m) => m.id));
    expect(asked(w, "thread")).toHaveLength(3);
  });

  it("around a search hit: the page ending with it, then newer pages until it joins the newest", async () => {
    const w = await paired();
    const conv = await w.host.import([number(1)], history(300));
    const client = await ready(w);
    client.need({ kind: "thread", conv: conv.id, ask: { kind: "newest" } });
    await until(() => segment(client, conv.id));

    const { hits } = await client.search("text 100");
    const hit = hits.find((h) => h.snippet.includes("text 100\u0003"))!;
    const at: Position = [hit.at, hit.msg_id];
    client.need({ kind: "thread", conv: hit.conv, ask: { kind: "around", at } });
    await until(() => segment(client, conv.id, at));
    expect(asked(w, "thread").at(-1)).toMatchObject({ before: [hit.at, hit.msg_id + 1], after: null });
    const around = (await client.snapshot(conv.id, at)).thread!.messages;
    expect(around.at(-1)?.id).toBe(hit.msg_id); // the hit is in, and is the newest of its page
    expect(around).toHaveLength(THREAD_PAGE);

    for (;;) {
      const shown = (await segment(client, conv.id, at))!;
      if (shown.high === null) break;
      const high = shown.high;
      client.need({ kind: "thread", conv: conv.id, ask: { kind: "newer", high } });
      await until(async () => (await segment(client, conv.id, at))?.high !== high, 3000, "a newer page");
    }
    const joined = (await client.snapshot(conv.id, at)).thread!;
    expect(joined.segment).toEqual(await segment(client, conv.id)); // one segment now
    const all = w.host.thread(conv.id).map((m) => m.id);
    expect(joined.messages.map((m) => m.id)).toEqual(all.slice(all.indexOf(around[0]!.id)));
  });

  it("hist: an import into it drops what was cached; the newest page is asked for again", async () => {
    const w = await paired();
    const conv = await w.host.import([number(1)], history(10));
    const client = await ready(w);
    client.need({ kind: "thread", conv: conv.id, ask: { kind: "newest" } });
    await until(() => segment(client, conv.id));
    await w.host.import([number(1)], [{ dir: "in", body: "from the backup", at: 4_000_000 }]);
    await until(async () => (await segment(client, conv.id)) === null, 3000, "dropped");
    client.need({ kind: "thread", conv: conv.id, ask: { kind: "newest" } });
    await until(() => segment(client, conv.id));
    const shown = (await client.snapshot(conv.id)).thread!.messages.map((m) => m.body);
    expect(shown[0]).toBe("from the backup");
    expect(shown).toHaveLength(11);
  });

  it("an unknown conversation is refused (error{ref: qid}) and not asked for again this session", async () => {
    const w = await paired();
    await w.host.receive(number(1), "hi");
    const client = await ready(w);
    client.need({ kind: "thread", conv: 4242, ask: { kind: "newest" } });
    await until(() => asked(w, "thread").length === 1);
    await new Promise((r) => setTimeout(r, 30));
    client.need({ kind: "thread", conv: 4242, ask: { kind: "newest" } });
    await new Promise((r) => setTimeout(r, 30));
    expect(asked(w, "thread")).toHaveLength(1);
    expect(client.state.status?.ready).toBe(true);
  });
});

describe("attachments", () => {
  it("come in chunks of at most 45 000 bytes until their total, and stay cached", async () => {
    const w = await paired();
    const picture = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7) & 0xff);
    const conv = await w.host.import([number(1)], [{
      dir: "in", body: "", at: 1000, atts: [{ type: "image/jpeg", name: "IMG_1.jpg", data: picture }],
    }]);
    const client = await ready(w);
    const att = w.host.thread(conv.id)[0]!.atts[0]!.id;
    client.need({ kind: "attachment", att });
    await until(() => client.attachment(att), 3000, "the bytes");
    expect(await client.attachment(att)).toEqual({ att, type: "image/jpeg", data: picture });
    expect(asked(w, "fetch").map((m) => (m as { offset: number }).offset)).toEqual([0, CHUNK_BYTES, 2 * CHUNK_BYTES]);
    client.need({ kind: "attachment", att });
    await new Promise((r) => setTimeout(r, 30));
    expect(asked(w, "fetch")).toHaveLength(3);
  });

  it("one the host cannot give is cached with its reason", async () => {
    const w = await paired();
    await w.host.receive(number(1), "hi");
    const client = await ready(w);
    client.need({ kind: "attachment", att: 777 });
    await until(() => client.attachment(777));
    expect(await client.attachment(777)).toEqual({ att: 777, error: "there is no such attachment" });
  });
});

describe("requests across sessions", () => {
  it("a need whose session ends before its answer is asked again once synced", async () => {
    const w = await paired({ holdPages: true });
    const conv = await w.host.import([number(1)], history(5));
    const client = await ready(w);
    client.need({ kind: "thread", conv: conv.id, ask: { kind: "newest" } });
    await until(() => asked(w, "thread").length === 1);
    for (const link of w.relay.links(w.host.room)) w.relay.kill(link);
    await until(() => !client.state.status?.ready);
    await w.host.release(); // too late: that link is gone
    await until(() => client.state.status?.ready, 3000, "reconnected");
    await until(() => segment(client, conv.id), 3000, "asked again");
    expect(asked(w, "thread")).toHaveLength(2);
  });

  it("a reset voids the answers still due: the cache stays empty until asked again", async () => {
    const w = await paired({ holdPages: true });
    const conv = await w.host.import([number(1)], history(5));
    const client = await ready(w);
    client.need({ kind: "thread", conv: conv.id, ask: { kind: "newest" } });
    await until(() => asked(w, "thread").length === 1);
    // The host lost its events (a restored store): the next sync is answered with a reset.
    const cursor = await w.store.cursor();
    w.host.truncate();
    await w.host.sendAll({ t: "event", event: { k: "status", seq: cursor + 5, id: 1, state: "sent", reason: null, at: 1 } });
    await until(() => asked(w, "sync").length >= 3, 3000, "resync");
    await until(async () => (await w.store.cursor()) === 0, 3000, "reset");
    await w.host.release();
    await new Promise((r) => setTimeout(r, 50));
    expect(await w.store.thread(conv.id)).toBeNull();
    client.need({ kind: "thread", conv: conv.id, ask: { kind: "newest" } });
    await until(() => segment(client, conv.id), 3000, "asked again after the reset");
  });
});
