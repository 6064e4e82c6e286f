/**
 * One tab owns the connection (Web Locks), the others render from IndexedDB
 * and hand their sends, history needs and searches to the owner over the
 * BroadcastChannel. Fake lock
 * manager and channel here; the IndexedDB is shared between the two "tabs".
 */

import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { describe, expect, it } from "vitest";

import { Client } from "../../src/client/client";
import { Store } from "../../src/client/storage";
import { type Channel, type Locks, Tabs, parseTabMessage } from "../../src/client/tabs";
import { generateKeyPair } from "../../src/protocol/keys";
import { randomBytes } from "../../src/protocol/pairing";
import { pair, until, world } from "../fakes/setup";

/** A BroadcastChannel bus: a message reaches every other member, asynchronously. */
class Bus {
  readonly members = new Set<FakeChannel>();
  channel(): FakeChannel {
    const channel = new FakeChannel(this);
    this.members.add(channel);
    return channel;
  }
}

class FakeChannel implements Channel {
  readonly listeners: ((event: MessageEvent) => void)[] = [];
  constructor(readonly bus: Bus) {}
  postMessage(message: unknown): void {
    const data = structuredClone(message);
    for (const other of this.bus.members) {
      if (other !== this) setTimeout(() => other.listeners.forEach((l) => l({ data } as MessageEvent)), 0);
    }
  }
  addEventListener(_type: "message", listener: (event: MessageEvent) => void): void {
    this.listeners.push(listener);
  }
  close(): void {
    this.bus.members.delete(this);
  }
}

/** Exclusive named locks, granted in request order; `release(holder)` plays "the tab closed". */
class FakeLocks {
  readonly queue: { grant: () => void; tab: string }[] = [];
  holder: string | null = null;
  forTab(tab: string): Locks {
    return {
      request: (_name, callback) => {
        const grant = (): void => {
          this.holder = tab;
          void callback(null);
        };
        if (this.holder === null) grant();
        else this.queue.push({ grant, tab });
        return new Promise(() => undefined);
      },
    };
  }
  release(): void {
    this.holder = null;
    this.queue.shift()?.grant();
  }
}

describe("tab messages", () => {
  it("accepts only well-formed messages", () => {
    expect(parseTabMessage({ type: "changed" })).toEqual({ type: "changed" });
    expect(parseTabMessage({ type: "read", conv: 3 })).toEqual({ type: "read", conv: 3 });
    expect(parseTabMessage({ type: "read", conv: "3" })).toBeNull();
    expect(parseTabMessage({ type: "evil" })).toBeNull();
    expect(parseTabMessage(null)).toBeNull();
    expect(parseTabMessage("changed")).toBeNull();
  });

  it("checks needs and searches from other tabs", () => {
    const thread = { type: "need", need: { kind: "thread", conv: 3, ask: { kind: "older", low: [5, 6] } } };
    expect(parseTabMessage(thread)).toEqual(thread);
    expect(parseTabMessage({ type: "need", need: { kind: "list" } })).not.toBeNull();
    expect(parseTabMessage({ type: "need", need: { kind: "attachment", att: 4 } })).not.toBeNull();
    expect(parseTabMessage({ type: "need", need: { kind: "thread", conv: 3, ask: { kind: "older", low: [5] } } })).toBeNull();
    expect(parseTabMessage({ type: "need", need: { kind: "attachment", att: -1 } })).toBeNull();
    expect(parseTabMessage({ type: "need", need: { kind: "everything" } })).toBeNull();
    expect(parseTabMessage({ type: "search", id: "a", query: "x", before: null })).not.toBeNull();
    expect(parseTabMessage({ type: "search", id: "a", query: 5, before: null })).toBeNull();
    expect(parseTabMessage({ type: "results", id: "a", results: null, error: "offline" })).not.toBeNull();
    expect(parseTabMessage({ type: "results", id: "a", results: { hits: [] }, error: null })).not.toBeNull();
    expect(parseTabMessage({ type: "results", id: "a", results: null, error: null })).toBeNull();
  });

  it("without Web Locks every tab owns its connection", () => {
    let owned = false;
    new Tabs({ channel: null, locks: null }).own(() => (owned = true));
    expect(owned).toBe(true);
  });
});

describe("two tabs", () => {
  it("only the lock holder connects; the other's text is sent by the owner; the next tab takes over", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    const factory = new IDBFactory();
    const bus = new Bus();
    const locks = new FakeLocks();
    const seed = await Store.open(factory, IDBKeyRange);
    await seed.ensureDeviceKey(async () => w.deviceKey);
    await seed.savePairing(pairing);

    const tab = async (name: string): Promise<Client> => {
      const client = new Client({
        store: await Store.open(factory, IDBKeyRange),
        tabs: new Tabs({ channel: bus.channel(), locks: locks.forTab(name) }),
        socket: w.relay.factory,
        now: () => Date.now(),
        random: () => 0,
        rng: randomBytes,
        userAgent: "test",
        generateKey: () => generateKeyPair(false),
      });
      await client.init();
      return client;
    };
    const a = await tab("a");
    const b = await tab("b");
    await until(() => a.state.status?.ready, 3000, "owner ready");
    await until(() => b.state.status?.ready, 3000, "status relayed to the other tab");
    expect(w.relay.links(w.host.room)).toHaveLength(1); // one socket for the two tabs

    await b.send(["+15550100100"], "from tab b");
    await until(() => w.host.received.some((m) => m.t === "send"), 3000, "owner sent it");
    await until(() => b.state.version > 0 && w.host.messages.size === 1);
    await until(async () => (await b.snapshot(null)).outbox.length === 0, 3000, "host copy in tab b");

    // History b needs is paged by the owner; b's search goes through it too.
    await w.host.receive("+15550100200", "find me");
    b.need({ kind: "list" });
    await until(async () => (await b.snapshot(null)).conversations.length === 2, 3000, "the list paged for b");
    expect(w.host.received.filter((m) => m.t === "convs")).toHaveLength(1);
    const found = await b.search("find");
    expect(found.hits.map((h) => h.snippet)).toEqual(["\u0002find\u0003 me"]);
    // b's change to a conversation is carried out by the owner too, and b's list follows.
    const conv = [...w.host.conversations.values()].find((c) => c.snippet === "find me")!;
    await b.manage({ kind: "flags", conv: conv.id, flags: { archived: true } });
    expect(w.host.conversations.get(conv.id)?.archived).toBe(true);
    await until(async () => (await b.snapshot(null)).conversations.length === 1, 3000, "archived leaves b's inbox");
    await expect(b.manage({ kind: "delete", conv: 999 })).rejects.toThrow("there is no such conversation");

    // Tab a closes: b takes the lock and connects.
    locks.release();
    await until(() => w.relay.conns.filter((c) => c.role === "device").length === 2, 3000, "b connects");
    expect(locks.holder).toBe("b");
  });
});
