/** Shared test setup: a FakeRelay, a FakeHost, a fresh IndexedDB, a paired device, its Client. */

import { IDBFactory, IDBKeyRange } from "fake-indexeddb";

import { Client, type ClientDeps } from "../../src/client/client";
import { Connection, type ConnectionDeps, type ConnectionStatus } from "../../src/client/connection";
import { Hosts } from "../../src/client/hosts";
import { type PairingDeps, pairByCode } from "../../src/client/pairing";
import { type Pairing, Store } from "../../src/client/storage";
import { Tabs } from "../../src/client/tabs";
import { type KeyPair, generateKeyPair } from "../../src/protocol/keys";
import { newCode, randomBytes } from "../../src/protocol/pairing";
import { FakeHost, type HostOptions } from "./host";
import { FakeRelay } from "./relay";

/** Wait until `check` returns something truthy (polling), or fail after `ms`. */
export async function until<T>(check: () => T | Promise<T>, ms = 3000, what = "condition"): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface World {
  relay: FakeRelay;
  host: FakeHost;
  store: Store;
  deviceKey: KeyPair;
  pairingDeps: PairingDeps;
}

export async function world(options: HostOptions = {}): Promise<World> {
  const relay = new FakeRelay();
  const host = await FakeHost.create(relay, options);
  const store = await Store.open(new IDBFactory(), IDBKeyRange);
  const deviceKey = await store.ensureDeviceKey(() => generateKeyPair(false));
  const pairingDeps: PairingDeps = {
    socket: relay.factory, now: () => Date.now(), deviceKey, name: "Test browser", agent: "vitest",
  };
  return { relay, host, store, deviceKey, pairingDeps };
}

/** Pair the device with the host by a typed code, and store the pairing. */
export async function pair(w: World): Promise<Pairing> {
  const code = newCode();
  const device = pairByCode(code, w.relay.url, w.pairingDeps);
  await until(() => w.relay.channels.size > 0, 3000, "the offer");
  const [pairing] = await Promise.all([device, w.host.pairWithCode(code)]);
  await w.store.savePairing(pairing);
  return pairing;
}

export interface Running {
  connection: Connection;
  statuses: ConnectionStatus[];
  unpaired: string[];
  changes: () => number;
  clock: { now: number };
}

/** A Connection for the paired device, started, with zero backoff and a settable clock. */
export function connect(w: World, pairing: Pairing, extra: Partial<ConnectionDeps> = {}): Running {
  const statuses: ConnectionStatus[] = [];
  const unpaired: string[] = [];
  let changes = 0;
  const clock = { now: Date.now() };
  const connection = new Connection({
    store: w.store,
    socket: w.relay.factory,
    now: () => clock.now,
    random: () => 0,
    agent: "vitest",
    deviceKey: w.deviceKey,
    pairing,
    onStatus: (s) => statuses.push(s),
    onChanged: () => changes++,
    onUnpaired: (name) => unpaired.push(name),
    ...extra,
  });
  void connection.start();
  return { connection, statuses, unpaired, changes: () => changes, clock };
}

/** A Client for the paired device in a tab of its own (it owns the connection), started. */
export async function startClient(w: World, extra: Partial<ClientDeps> = {}): Promise<Client> {
  const client = new Client({
    store: w.store,
    tabs: new Tabs({ channel: null, locks: null }),
    socket: w.relay.factory,
    now: () => Date.now(),
    random: () => 0,
    rng: randomBytes,
    userAgent: "vitest",
    generateKey: () => generateKeyPair(false),
    ...extra,
  });
  await client.init();
  return client;
}

/** The one-phone browser of the app tests: `client` in the first slot of a Hosts (hosts.ts). */
export async function oneHost(client: Client): Promise<Hosts> {
  const saved = new Map<string, string>();
  const hosts = new Hosts({
    registry: { getItem: (key) => saved.get(key) ?? null, setItem: (key, value) => saved.set(key, value) },
    open: () => Promise.resolve(client),
    drop: () => Promise.resolve(),
    rng: randomBytes,
  });
  await hosts.init();
  return hosts;
}
