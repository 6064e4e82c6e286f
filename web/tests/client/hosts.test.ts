/**
 * Several hosts in one browser (hosts.ts): each slot is its own Client with its
 * own IndexedDB, paired with its own FakeHost on its own FakeRelay, so the two
 * phones share nothing. The registry is an in-memory localStorage.
 */

import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { describe, expect, it } from "vitest";

import { Client } from "../../src/client/client";
import { FIRST_SLOT, Hosts, REGISTRY_KEY, type KeyValue, readRegistry, slotNames } from "../../src/client/hosts";
import { Store } from "../../src/client/storage";
import { Tabs } from "../../src/client/tabs";
import { generateKeyPair } from "../../src/protocol/keys";
import { newCode, randomBytes } from "../../src/protocol/pairing";
import { pairByCode } from "../../src/client/pairing";
import { type World, pair, until, world } from "../fakes/setup";

function memory(initial: Record<string, string> = {}): KeyValue & { saved: Map<string, string> } {
  const saved = new Map(Object.entries(initial));
  return { saved, getItem: (key) => saved.get(key) ?? null, setItem: (key, value) => void saved.set(key, value) };
}

describe("the registry", () => {
  it("reads nothing, or anything unreadable, as the one first slot", () => {
    for (const stored of [null, "{", "[]", '{"slots": 3}', '{"slots": ["../x", "ABCDEF12"], "active": "zz"}']) {
      const registry = readRegistry(memory(stored === null ? {} : { [REGISTRY_KEY]: stored }));
      expect(registry).toEqual({ slots: [FIRST_SLOT], active: FIRST_SLOT });
    }
  });

  it("keeps valid slot ids once each, in order, and an active one it lists", () => {
    const kv = memory({ [REGISTRY_KEY]: JSON.stringify({ slots: ["main", "0a1b2c3d", "main", "nope"], active: "0a1b2c3d" }) });
    expect(readRegistry(kv)).toEqual({ slots: ["main", "0a1b2c3d"], active: "0a1b2c3d" });
    const stale = memory({ [REGISTRY_KEY]: JSON.stringify({ slots: ["0a1b2c3d"], active: "main" }) });
    expect(readRegistry(stale)).toEqual({ slots: ["0a1b2c3d"], active: "0a1b2c3d" });
  });

  it("keeps the first slot on the names a one-phone browser always used", () => {
    expect(slotNames(FIRST_SLOT)).toEqual({
      db: "textport", channel: "textport", lock: "textport-connection", cookie: "textport_session",
    });
    expect(slotNames("0a1b2c3d")).toEqual({
      db: "textport-0a1b2c3d", channel: "textport-0a1b2c3d", lock: "textport-connection-0a1b2c3d",
      cookie: "textport_session_0a1b2c3d",
    });
  });
});

/** Two phones, each on its own relay; slot "main" starts paired with the first. */
async function twoPhones(): Promise<{
  phones: World[];
  hosts: Hosts;
  kv: ReturnType<typeof memory>;
  dropped: string[];
  stores: Map<string, Store>;
}> {
  const phones = [await world({ name: "Pixel" }), await world({ name: "Office modem" })];
  for (const phone of phones) await phone.host.connect();
  await phones[0]!.store.savePairing(await pair(phones[0]!));
  const kv = memory();
  const dropped: string[] = [];
  const stores = new Map<string, Store>();
  let next = 0;
  const hosts = new Hosts({
    registry: kv,
    open: async (id) => {
      // The first slot opens the first phone's paired cache; a new one gets an empty database.
      const store = id === FIRST_SLOT ? phones[0]!.store : await Store.open(new IDBFactory(), IDBKeyRange);
      stores.set(id, store);
      const client = new Client({
        store,
        tabs: new Tabs({ channel: null, locks: null }),
        socket: (url, handlers) => phones[id === FIRST_SLOT ? 0 : 1]!.relay.factory(url, handlers),
        now: () => Date.now(),
        random: () => 0,
        rng: randomBytes,
        userAgent: "vitest",
        generateKey: () => generateKeyPair(false),
      });
      await client.init();
      return client;
    },
    drop: (id) => {
      dropped.push(id);
      return Promise.resolve();
    },
    rng: (n) => Uint8Array.from({ length: n }, () => 0xa0 + next++),
  });
  await hosts.init();
  return { phones, hosts, kv, dropped, stores };
}

describe("Hosts", () => {
  it("starts with the first slot, paired as before", async () => {
    const { hosts } = await twoPhones();
    expect(hosts.state.hosts.map((h) => h.id)).toEqual([FIRST_SLOT]);
    expect(hosts.active.client.state.phase).toBe("paired");
    expect(hosts.active.client.state.pairing?.hostName).toBe("Pixel");
    expect(hosts.removable(FIRST_SLOT)).toBe(false);
  });

  it("adds a phone in a slot of its own, pairs it, and switches between the two", async () => {
    const { phones, hosts, kv, stores } = await twoPhones();
    const added = await hosts.add();
    const id = hosts.state.active;
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(added.state.phase).toBe("pairing");
    expect(readRegistry(kv)).toEqual({ slots: [FIRST_SLOT, id], active: id });
    // Asking again while that one waits to be paired shows it rather than adding a third.
    expect(await hosts.add()).toBe(added);
    expect(hosts.state.hosts).toHaveLength(2);

    // Paired as the pairing screen does it: with this slot's own device key.
    const office = phones[1]!;
    const code = newCode();
    const device = pairByCode(code, office.relay.url, { socket: office.relay.factory, now: () => Date.now(), ...added.pairingDeps() });
    await until(() => office.relay.channels.size > 0, 3000, "the offer");
    const [pairing] = await Promise.all([device, office.host.pairWithCode(code)]);
    await added.paired(pairing);
    expect(await stores.get(id)!.pairing()).toEqual(pairing);
    expect(await phones[0]!.store.pairing()).not.toEqual(pairing);
    await until(() => added.state.status?.ready === true, 3000, "the second phone synced");
    expect(added.state.pairing?.hostName).toBe("Office modem");
    expect(hosts.removable(id)).toBe(false);

    // Each phone's texts reach its own slot only.
    await phones[1]!.host.receive("+15550101", "to the office");
    await until(() => hosts.state.hosts.find((h) => h.id === id)?.unread === 1, 3000, "the office's unread count");
    expect(hosts.state.hosts.find((h) => h.id === FIRST_SLOT)?.unread).toBe(0);
    expect((await stores.get(FIRST_SLOT)!.conversations()).map((c) => c.snippet)).not.toContain("to the office");

    hosts.select(FIRST_SLOT);
    expect(hosts.active.id).toBe(FIRST_SLOT);
    expect(readRegistry(kv).active).toBe(FIRST_SLOT);
    await until(() => hosts.active.client.state.status?.ready === true, 3000, "the first phone synced");
    await phones[0]!.host.receive("+15550102", "to the pixel");
    await until(() => hosts.state.hosts.find((h) => h.id === FIRST_SLOT)?.unread === 1, 3000, "the pixel's unread count");
    expect(hosts.state.hosts.find((h) => h.id === id)?.unread).toBe(1);
  });

  it("removes a phone that was never paired, deletes its database and shows a paired one", async () => {
    const { hosts, kv, dropped } = await twoPhones();
    const added = await hosts.add();
    const id = hosts.state.active;
    expect(hosts.removable(id)).toBe(true);
    await hosts.remove(id);
    expect(dropped).toEqual([id]);
    expect(hosts.state.hosts.map((h) => h.id)).toEqual([FIRST_SLOT]);
    expect(hosts.active.id).toBe(FIRST_SLOT);
    expect(readRegistry(kv)).toEqual({ slots: [FIRST_SLOT], active: FIRST_SLOT });
    // Its client is closed: its database refuses work.
    await expect(added.store.conversations()).rejects.toThrow();
    // The last slot, or a paired one, stays.
    await hosts.remove(FIRST_SLOT);
    expect(hosts.state.hosts).toHaveLength(1);
    expect(dropped).toEqual([id]);
  });

  it("follows another tab that added or removed a phone", async () => {
    const { hosts, kv } = await twoPhones();
    kv.setItem(REGISTRY_KEY, JSON.stringify({ slots: [FIRST_SLOT, "0c0ffee0"], active: FIRST_SLOT }));
    await hosts.sync();
    expect(hosts.state.hosts.map((h) => h.id)).toEqual([FIRST_SLOT, "0c0ffee0"]);
    expect(hosts.active.id).toBe(FIRST_SLOT);
    const other = hosts.state.hosts[1]!.client;
    kv.setItem(REGISTRY_KEY, JSON.stringify({ slots: [FIRST_SLOT], active: FIRST_SLOT }));
    await hosts.sync();
    expect(hosts.state.hosts.map((h) => h.id)).toEqual([FIRST_SLOT]);
    await expect(other.store.conversations()).rejects.toThrow();
  });
});
