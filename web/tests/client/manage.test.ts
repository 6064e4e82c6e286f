/**
 * Conversation management through the Client against the FakeHost: each
 * change is one request answered by `done`, its effect comes back as events,
 * and the cache follows (folders, `gone`); refusals reach the caller.
 */

import { describe, expect, it } from "vitest";

import type { Client } from "../../src/client/client";
import { changeRequest } from "../../src/client/pager";
import type { Message } from "../../src/protocol/messages";
import { type World, pair, startClient, until, world } from "../fakes/setup";

const ANA = "+15550100100";
const BO = "+15550100200";
const asked = (w: World, t: Message["t"]): Message[] => w.host.received.filter((m) => m.t === t);

async function ready(): Promise<{ w: World; client: Client }> {
  const w = await world();
  await pair(w);
  await w.host.connect();
  await w.host.receive(ANA, "from Ana");
  await w.host.receive(BO, "from Bo");
  await w.host.import([ANA, BO], [{ dir: "in", body: "group hello", at: 1000, sender: BO }]);
  const client = await startClient(w);
  await until(() => client.state.status?.ready, 3000, "synced");
  for (const folder of ["inbox", "pinned", "archived", "blocked"] as const) client.need({ kind: "list", folder });
  await until(async () => (await client.snapshot(null)).list === "complete", 3000, "the inbox paged");
  await until(async () => (await client.snapshot(null, null, "blocked")).list === "complete", 3000, "blocked paged");
  return { w, client };
}

function convOf(w: World, peers: string): number {
  return [...w.host.conversations.values()].find((c) => c.peers.join(",") === peers)!.id;
}

const ids = async (client: Client, folder: "inbox" | "pinned" | "archived" | "blocked"): Promise<number[]> =>
  (await client.snapshot(null, null, folder)).conversations.map((c) => c.id);

describe("conversation management", () => {
  it("sends each flag it is given and null for the rest", () => {
    expect(changeRequest({ kind: "flags", conv: 3, flags: { pinned: true, unread: false } })).toEqual({
      t: "conv_set", conv: 3, pinned: true, archived: null, muted: null, blocked: null, unread: false,
    });
    expect(changeRequest({ kind: "contact", number: ANA, name: null })).toEqual({ t: "contact", number: ANA, name: null });
  });

  it("moves a conversation between folders as the host's events say, and counts unread without blocked ones", async () => {
    const { w, client } = await ready();
    const ana = convOf(w, ANA);
    const bo = convOf(w, BO);
    expect((await client.snapshot(null)).unread).toBe(2);

    await client.manage({ kind: "flags", conv: ana, flags: { pinned: true } });
    await until(async () => (await client.snapshot(null)).pinned.length === 1, 3000, "pinned");
    let snap = await client.snapshot(null);
    expect(snap.pinned.map((c) => c.id)).toEqual([ana]);
    expect(snap.conversations.map((c) => c.id)).not.toContain(ana);

    await client.manage({ kind: "flags", conv: ana, flags: { archived: true } });
    await until(async () => (await ids(client, "archived")).includes(ana), 3000, "archived");
    snap = await client.snapshot(null);
    expect(snap.pinned).toEqual([]);
    expect(snap.all.find((c) => c.id === ana)).toMatchObject({ archived: true, pinned: false });

    await client.manage({ kind: "flags", conv: bo, flags: { blocked: true } });
    await until(async () => (await ids(client, "blocked")).includes(bo), 3000, "blocked");
    expect(await ids(client, "inbox")).not.toContain(bo);
    expect((await client.snapshot(null)).unread).toBe(1); // Bo's text no longer counts
    await w.host.receive(BO, "still writing");
    await until(async () => (await client.snapshot(null, null, "blocked")).conversations[0]?.snippet === "still writing");
    expect((await client.snapshot(null)).unread).toBe(1);

    await client.manage({ kind: "flags", conv: ana, flags: { unread: false } });
    await until(async () => (await client.snapshot(null)).unread === 0, 3000, "marked read");
    expect(asked(w, "conv_set")).toHaveLength(4);
  });

  it("drops a deleted conversation and its cached messages when the gone event comes", async () => {
    const { w, client } = await ready();
    const ana = convOf(w, ANA);
    client.need({ kind: "thread", conv: ana, ask: { kind: "newest" } });
    await until(async () => (await client.snapshot(ana)).thread?.messages.length === 1, 3000, "thread cached");
    await client.manage({ kind: "delete", conv: ana });
    await until(async () => !(await client.snapshot(null)).all.some((c) => c.id === ana), 3000, "gone");
    expect(await client.store.messages(ana)).toEqual([]);
    expect(await client.store.thread(ana)).toBeNull();
    expect(w.host.conversations.has(ana)).toBe(false);
  });

  it("names a contact everywhere it appears, and shows a refusal's reason", async () => {
    const { w, client } = await ready();
    await client.manage({ kind: "contact", number: BO, name: "Bo Smith" });
    const group = convOf(w, `${ANA},${BO}`);
    await until(async () => (await client.snapshot(null)).all.find((c) => c.id === group)?.names[1] === "Bo Smith");
    expect((await client.snapshot(null)).all.find((c) => c.id === convOf(w, BO))?.name).toBe("Bo Smith");

    for (let i = 0; i < 5; i++) {
      const conv = (await w.host.import([`+1555020000${i}`], [{ dir: "in", body: "x", at: 2000 + i }])).id;
      await client.manage({ kind: "flags", conv, flags: { pinned: true } });
    }
    await expect(client.manage({ kind: "flags", conv: group, flags: { pinned: true } }))
      .rejects.toThrow("You can pin up to 5 conversations");
    expect(w.host.conversations.get(group)?.pinned).toBe(false);
  });
});
