/**
 * Several hosts in one browser: two phones, or a phone and an office modem.
 *
 * Each host has a slot of its own: its own IndexedDB database, device key,
 * connection lock, tab channel and session cookie (`slotNames`), so hosts
 * share nothing, not a key and not a cached text, and each slot runs its own
 * Client, connected to its own host's relay. The first slot keeps the names a
 * one-host browser has always used ("textport"), so an existing pairing
 * carries on untouched.
 *
 * Which slots exist and which one is shown live in localStorage under
 * `textport-hosts` (slot ids only, nothing secret). Other tabs follow through
 * the page's `storage` event (`sync`). A slot is removed only while unpaired
 * (adding a phone and cancelling, or after the host unpaired this browser),
 * and never the last one; removing deletes its database.
 */

import { toHex } from "../protocol/bytes";
import type { Random } from "../protocol/pairing";
import type { Client } from "./client";
import { COOKIE } from "./session";
import { DB_NAME } from "./storage";
import { CHANNEL_NAME, LOCK_NAME } from "./tabs";

export const FIRST_SLOT = "main";
export const REGISTRY_KEY = "textport-hosts";
const SLOT_ID = /^[0-9a-f]{8}$/;
/** The least time (ms) between two counts of one phone's unread texts. */
const RECOUNT_GAP = 250;

/** Where one slot keeps its things. */
export interface SlotNames {
  readonly db: string;
  readonly channel: string;
  readonly lock: string;
  readonly cookie: string;
}

export function slotNames(id: string): SlotNames {
  if (id === FIRST_SLOT) return { db: DB_NAME, channel: CHANNEL_NAME, lock: LOCK_NAME, cookie: COOKIE };
  return { db: `${DB_NAME}-${id}`, channel: `${CHANNEL_NAME}-${id}`, lock: `${LOCK_NAME}-${id}`, cookie: `${COOKIE}_${id}` };
}

/** The little of localStorage this needs. */
export interface KeyValue {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface Registry {
  readonly slots: readonly string[];
  readonly active: string;
}

/** The slots and the shown one; anything unreadable reads as the one first slot. */
export function readRegistry(kv: KeyValue): Registry {
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(kv.getItem(REGISTRY_KEY) ?? "null");
  } catch {
    parsed = null;
  }
  const slots: string[] = [];
  let active: string | null = null;
  if (typeof parsed === "object" && parsed !== null) {
    const record = parsed as { slots?: unknown; active?: unknown };
    if (Array.isArray(record.slots)) {
      for (const id of record.slots) {
        if (typeof id === "string" && (id === FIRST_SLOT || SLOT_ID.test(id)) && !slots.includes(id)) slots.push(id);
      }
    }
    if (typeof record.active === "string") active = record.active;
  }
  if (slots.length === 0) slots.push(FIRST_SLOT);
  return { slots, active: active !== null && slots.includes(active) ? active : slots[0]! };
}

function writeRegistry(kv: KeyValue, registry: Registry): void {
  try {
    kv.setItem(REGISTRY_KEY, JSON.stringify(registry));
  } catch {
    // storage refused (some private modes): the phones last as long as this page
  }
}

export interface HostView {
  readonly id: string;
  readonly client: Client;
  /** Unread texts in this host's cache (blocked conversations never count). */
  readonly unread: number;
}

export interface HostsState {
  readonly hosts: readonly HostView[];
  readonly active: string;
}

export interface HostsDeps {
  readonly registry: KeyValue;
  /** A Client for this slot, initialised. */
  readonly open: (id: string) => Promise<Client>;
  /** Delete a removed slot's database (its Client is closed by then). */
  readonly drop: (id: string) => Promise<void>;
  readonly rng: Random;
}

export class Hosts {
  readonly #deps: HostsDeps;
  #state: HostsState = { hosts: [], active: FIRST_SLOT };
  readonly #listeners = new Set<(state: HostsState) => void>();
  readonly #unsubscribe = new Map<string, () => void>();
  /** Slots being opened, so that a `sync` during an `add` opens nothing twice. */
  readonly #opening = new Map<string, Promise<void>>();

  constructor(deps: HostsDeps) {
    this.#deps = deps;
  }

  get state(): HostsState {
    return this.#state;
  }

  /** The slot on screen. */
  get active(): HostView {
    return this.#state.hosts.find((host) => host.id === this.#state.active) ?? this.#state.hosts[0]!;
  }

  subscribe(listener: (state: HostsState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Open every slot the registry names. */
  async init(): Promise<void> {
    await this.sync();
  }

  /** Follow the registry (another tab added or removed a slot): open new slots, close gone ones. */
  async sync(): Promise<void> {
    const registry = readRegistry(this.#deps.registry);
    for (const host of this.#state.hosts) {
      if (!registry.slots.includes(host.id)) this.#close(host.id);
    }
    await Promise.all(registry.slots.map((id) => this.#open(id)));
    const order = new Map(registry.slots.map((id, index) => [id, index]));
    const hosts = this.#state.hosts
      .filter((host) => order.has(host.id))
      .sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    this.#set({ hosts, active: registry.slots.includes(this.#state.active) ? this.#state.active : registry.active });
  }

  /**
   * A slot for another phone, shown at once (its pairing screen). A slot that
   * is already waiting to be paired is reused rather than adding another.
   */
  async add(): Promise<Client> {
    const waiting = this.#state.hosts.find((host) => host.client.state.phase === "pairing");
    if (waiting !== undefined) {
      this.select(waiting.id);
      return waiting.client;
    }
    const id = toHex(this.#deps.rng(4));
    const registry = readRegistry(this.#deps.registry);
    writeRegistry(this.#deps.registry, { slots: [...registry.slots, id], active: id });
    await this.#open(id);
    this.#set({ active: id });
    return this.#host(id)!.client;
  }

  /** Show this slot. */
  select(id: string): void {
    if (this.#host(id) === undefined || id === this.#state.active) return;
    const registry = readRegistry(this.#deps.registry);
    writeRegistry(this.#deps.registry, { slots: registry.slots, active: id });
    this.#set({ active: id });
  }

  /** Whether this slot may be removed: it is not paired, and it is not the only one. */
  removable(id: string): boolean {
    const host = this.#host(id);
    return host !== undefined && host.client.state.phase !== "paired" && this.#state.hosts.length > 1;
  }

  /** Remove an unpaired slot and delete its database; the first other slot is shown. */
  async remove(id: string): Promise<void> {
    if (!this.removable(id)) return;
    const registry = readRegistry(this.#deps.registry);
    const slots = registry.slots.filter((slot) => slot !== id);
    const next = this.#state.hosts.find((host) => host.id !== id && host.client.state.phase === "paired")?.id ?? slots[0]!;
    writeRegistry(this.#deps.registry, { slots, active: next });
    this.#close(id);
    this.#set({ active: next });
    await this.#deps.drop(id);
  }

  #host(id: string): HostView | undefined {
    return this.#state.hosts.find((host) => host.id === id);
  }

  #open(id: string): Promise<void> {
    if (this.#host(id) !== undefined) return Promise.resolve();
    let opening = this.#opening.get(id);
    if (opening === undefined) {
      opening = this.#deps.open(id).then(
        (client) => {
          this.#opening.delete(id);
          this.#set({ hosts: [...this.#state.hosts, { id, client, unread: 0 }] });
          this.#watch(id, client);
        },
        (err: unknown) => {
          this.#opening.delete(id);
          throw err;
        },
      );
      this.#opening.set(id, opening);
    }
    return opening;
  }

  /** Keep the slot's unread count and state current. */
  #watch(id: string, client: Client): void {
    let version = -1;
    let counting = false;
    let again = false;
    const count = async (): Promise<void> => {
      if (counting) {
        again = true;
        return;
      }
      counting = true;
      do {
        again = false;
        const unread = client.state.phase !== "paired" ? 0 : (await client.store.conversations())
          .reduce((sum, conv) => sum + (conv.blocked ? 0 : conv.unread), 0);
        this.#update(id, { unread });
        // A burst of events (a sync) is counted again once, a little later, not per event.
        if (again) await new Promise((resolve) => setTimeout(resolve, RECOUNT_GAP));
      } while (again);
      counting = false;
    };
    const changed = (): void => {
      if (client.state.version !== version) {
        version = client.state.version;
        void count().catch(() => {
          counting = false; // the database was closed under it (the slot was removed)
        });
      } else {
        this.#update(id, {});
      }
    };
    this.#unsubscribe.set(id, client.subscribe(changed));
    changed();
  }

  #update(id: string, change: Partial<HostView>): void {
    if (this.#host(id) === undefined) return;
    this.#set({ hosts: this.#state.hosts.map((host) => (host.id === id ? { ...host, ...change } : host)) });
  }

  #close(id: string): void {
    const host = this.#host(id);
    if (host === undefined) return;
    this.#unsubscribe.get(id)?.();
    this.#unsubscribe.delete(id);
    host.client.close();
    this.#set({ hosts: this.#state.hosts.filter((other) => other.id !== id) });
  }

  #set(change: Partial<HostsState>): void {
    this.#state = { ...this.#state, ...change };
    for (const listener of this.#listeners) listener(this.#state);
  }
}
