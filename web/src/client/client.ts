/**
 * The client as the views see it: pairing state, connection status, and the
 * actions (compose, read, retry, search, what history a view needs). It wires
 * storage, tabs, the connection and the pager: the tab that holds the Web Lock
 * runs the Connection and asks the host for pages; every tab renders from
 * IndexedDB, hears about changes over the BroadcastChannel, and forwards its
 * needs and searches to the owner there.
 */

import { toHex } from "../protocol/bytes";
import { TextportError } from "../protocol/errors";
import type { KeyPair } from "../protocol/keys";
import type { Capabilities, DeviceRecord, Folder, Position, Results, StoreEvent } from "../protocol/messages";
import { PairingOffer, type Random } from "../protocol/pairing";
import { Connection, type ConnectionStatus, RequestFailed } from "./connection";
import { compose, retry } from "./outbox";
import { type Change, type Need, Pager } from "./pager";
import { type PairingProgress, agentString, deviceName, pairFromLink } from "./pairing";
import { type SessionMarker, memoryMarker } from "./session";
import { type SocketFactory, type Timers, realTimers } from "./socket";
import type { AttachmentCache, OutboxEntry, Pairing, Snapshot, Store } from "./storage";
import type { Tabs } from "./tabs";
import { pairingError } from "./wording";

/** How long a tab waits for the owner tab to answer its search (ms). */
export const SEARCH_TIMEOUT = 20_000;

export type Phase = "loading" | "pairing" | "linking" | "paired";

/** A host-initiated link being used: what the "linking" screen shows. */
export interface LinkState {
  readonly stage: "connecting" | "confirm" | "failed";
  readonly code: string | null;
  readonly error: string | null;
}

export interface ClientState {
  readonly phase: Phase;
  readonly pairing: Pairing | null;
  readonly status: ConnectionStatus | null;
  readonly caps: Capabilities | null;
  /** "This browser was unpaired from <host>" after a revocation. */
  readonly unpairedFrom: string | null;
  readonly link: LinkState | null;
  /** Bumped on every change of the cache or outbox: views re-read. */
  readonly version: number;
  /** "New device paired: …", until dismissed. */
  readonly deviceNotice: string | null;
  /** Bumped when a device was paired or unpaired: the devices page asks again. */
  readonly devicesVersion: number;
}

export interface ClientDeps {
  readonly store: Store;
  readonly tabs: Tabs;
  readonly socket: SocketFactory;
  readonly timers?: Timers;
  readonly now: () => number;
  readonly random: () => number;
  readonly rng: Random;
  readonly userAgent: string;
  readonly generateKey: () => Promise<KeyPair>;
  /** Whether this browser session is still the one that made a session-only pairing (session.ts). */
  readonly session?: SessionMarker;
  readonly onLog?: (message: string) => void;
}

export class Client {
  readonly #deps: ClientDeps;
  #state: ClientState = {
    phase: "loading", pairing: null, status: null, caps: null, unpairedFrom: null, link: null, version: 0,
    deviceNotice: null, devicesVersion: 0,
  };
  readonly #listeners = new Set<(state: ClientState) => void>();
  #deviceKey: KeyPair | null = null;
  #owner = false;
  #connection: Connection | null = null;
  readonly #pager: Pager;
  /** Searches forwarded to the owner tab, by id. */
  readonly #searches = new Map<string, { resolve(results: Results): void; reject(err: Error): void }>();
  /** Changes forwarded to the owner tab, by id. */
  readonly #changes = new Map<string, { resolve(): void; reject(err: Error): void }>();
  /** Listeners to the live events this tab's connection applies (notify.ts). */
  readonly #live = new Set<(events: readonly StoreEvent[]) => void>();
  /** Device lists asked of the owner tab, by id. */
  readonly #deviceLists = new Map<string, { resolve(devices: readonly DeviceRecord[]): void; reject(err: Error): void }>();
  readonly #session: SessionMarker;
  /** "Remember this browser": false pairs for this browser session only. */
  #remember = true;

  constructor(deps: ClientDeps) {
    this.#deps = deps;
    this.#session = deps.session ?? memoryMarker();
    this.#pager = new Pager({
      store: deps.store,
      onChanged: () => this.#changed(true),
      ...(deps.onLog ? { onLog: deps.onLog } : {}),
    });
  }

  get state(): ClientState {
    return this.#state;
  }

  get store(): Store {
    return this.#deps.store;
  }

  get deviceName(): string {
    return deviceName(this.#deps.userAgent);
  }

  subscribe(listener: (state: ClientState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(change: Partial<ClientState>): void {
    this.#state = { ...this.#state, ...change };
    for (const listener of this.#listeners) listener(this.#state);
  }

  #changed(broadcast: boolean): void {
    this.#set({ version: this.#state.version + 1 });
    if (broadcast) this.#deps.tabs.post({ type: "changed" });
  }

  /** Load the key and pairing, listen to other tabs, and ask for the connection lock. */
  async init(): Promise<void> {
    const { store, tabs } = this.#deps;
    let pairing = await store.pairing();
    if (pairing?.session === true && !this.#session.present()) {
      // The browser session that made this pairing ended: forget it, key and all.
      await store.forgetPairing();
      await store.forgetDeviceKey();
      pairing = null;
    }
    this.#deviceKey = await store.ensureDeviceKey(this.#deps.generateKey);
    this.#set({ phase: pairing === null ? "pairing" : "paired", pairing });
    tabs.listen((message) => {
      switch (message.type) {
        case "changed":
          this.#changed(false);
          break;
        case "outbox":
          void this.#connection?.flush();
          break;
        case "read":
          this.#connection?.markRead(message.conv);
          break;
        case "status":
          if (!this.#owner) this.#set({ status: message.status });
          break;
        case "status?":
          if (this.#owner && this.#state.status !== null) tabs.post({ type: "status", status: this.#state.status });
          break;
        case "pairing":
        case "unpaired":
          void this.#reloadPairing(message.type === "unpaired" ? message.hostName : null);
          break;
        case "need":
          if (this.#owner) this.#pager.need(message.need);
          break;
        case "search":
          if (this.#owner) void this.#answerSearch(message.id, message.query, message.before);
          break;
        case "manage":
          if (this.#owner) void this.#answerManage(message.id, message.change);
          break;
        case "devices?":
          if (this.#owner) void this.#answerDevices(message.id);
          break;
        case "devices": {
          const waiting = this.#deviceLists.get(message.id);
          this.#deviceLists.delete(message.id);
          if (message.devices !== null) waiting?.resolve(message.devices);
          else waiting?.reject(new RequestFailed(message.error ?? "no device list", "session_closed"));
          break;
        }
        case "device-changed":
          this.#deviceChanged(message.change, message.name);
          break;
        case "managed": {
          const waiting = this.#changes.get(message.id);
          this.#changes.delete(message.id);
          if (message.error === null) waiting?.resolve();
          else waiting?.reject(new RequestFailed(message.error, "bad_message"));
          break;
        }
        case "results": {
          const waiting = this.#searches.get(message.id);
          this.#searches.delete(message.id);
          if (message.results !== null) waiting?.resolve(message.results);
          else waiting?.reject(new RequestFailed(message.error ?? "search failed", "session_closed"));
          break;
        }
      }
    });
    tabs.own(() => {
      this.#owner = true;
      this.#connect();
    });
    if (!this.#owner) tabs.post({ type: "status?" });
  }

  async #reloadPairing(unpairedFrom: string | null): Promise<void> {
    const pairing = await this.#deps.store.pairing();
    if (pairing === null) {
      this.#disconnect();
      this.#set({
        phase: this.#state.phase === "linking" ? "linking" : "pairing",
        pairing: null,
        status: null,
        ...(unpairedFrom !== null ? { unpairedFrom } : {}),
      });
    } else {
      if (this.#state.pairing?.token !== pairing.token) this.#disconnect();
      this.#set({ phase: "paired", pairing, unpairedFrom: null, link: null });
      this.#connect();
    }
    this.#changed(false);
  }

  #disconnect(): void {
    this.#connection?.stop();
    this.#connection = null;
    this.#pager.offline();
  }

  /** Run the connection if this tab owns it and there is a pairing. */
  #connect(): void {
    const pairing = this.#state.pairing;
    if (!this.#owner || pairing === null || this.#deviceKey === null) return;
    if (this.#connection !== null) return;
    const connection = new Connection({
      store: this.#deps.store,
      socket: this.#deps.socket,
      ...(this.#deps.timers ? { timers: this.#deps.timers } : {}),
      now: this.#deps.now,
      random: this.#deps.random,
      agent: agentString(this.#deps.userAgent),
      deviceKey: this.#deviceKey,
      pairing,
      onStatus: (status) => {
        if (this.#connection !== connection) return;
        // Synced (ready): the pager has its connection before any view hears "ready" and
        // asks it for something (the devices page did, and was told "not connected").
        if (status.ready) this.#pager.online(connection);
        else this.#pager.offline();
        this.#set({ status });
        this.#deps.tabs.post({ type: "status", status });
      },
      onChanged: () => this.#changed(true),
      onLive: (events) => {
        if (this.#connection === connection) for (const listener of this.#live) listener(events);
      },
      onWelcome: (welcome) => this.#set({ caps: welcome.caps }),
      onReset: () => this.#pager.reset(),
      onDeviceChanged: ({ change, device }) => {
        if (this.#connection !== connection) return;
        this.#deviceChanged(change, device.name);
        this.#deps.tabs.post({ type: "device-changed", change, name: device.name });
      },
      onUnpaired: (hostName) => {
        if (this.#connection !== connection) return;
        this.#connection = null;
        this.#set({ phase: "pairing", pairing: null, status: null, unpairedFrom: hostName });
        this.#changed(false);
        this.#deps.tabs.post({ type: "unpaired", hostName });
      },
      ...(this.#deps.onLog ? { onLog: this.#deps.onLog } : {}),
    });
    this.#connection = connection;
    this.#set({ status: connection.status });
    void connection.start();
  }

  /**
   * Live events as this tab's connection applies them: only the tab that owns
   * the connection hears any, so one tab notifies (notify.ts).
   */
  onLive(listener: (events: readonly StoreEvent[]) => void): () => void {
    this.#live.add(listener);
    return () => this.#live.delete(listener);
  }

  /** The browser came online or the page became visible: reconnect now. */
  kick(): void {
    this.#connection?.kick();
  }

  /** What pairing needs: this device's key, name and agent, and whether to remember it. */
  pairingDeps(): { deviceKey: KeyPair; name: string; agent: string; session: () => boolean } {
    if (this.#deviceKey === null) throw new TextportError("not initialised", "internal");
    return {
      deviceKey: this.#deviceKey,
      name: this.deviceName,
      agent: agentString(this.#deps.userAgent),
      session: () => !this.#remember,
    };
  }

  get remember(): boolean {
    return this.#remember;
  }

  /** "Remember this browser" (the default) or pair for this browser session only. */
  setRemember(remember: boolean): void {
    this.#remember = remember;
  }

  #deviceChanged(change: "paired" | "unpaired", name: string): void {
    this.#set({
      devicesVersion: this.#state.devicesVersion + 1,
      ...(change === "paired" ? { deviceNotice: `New device paired: ${name}` } : {}),
    });
  }

  dismissDeviceNotice(): void {
    this.#set({ deviceNotice: null });
  }

  /** The host's paired devices, this one marked `current` (the devices page). */
  devices(): Promise<readonly DeviceRecord[]> {
    if (this.#owner) return this.#pager.devices();
    const id = toHex(this.#deps.rng(8));
    const timers = this.#deps.timers ?? realTimers;
    return new Promise((resolve, reject) => {
      const timer = timers.setTimeout(() => {
        this.#deviceLists.delete(id);
        reject(new RequestFailed("the tab connected to your phone did not answer", "session_closed"));
      }, SEARCH_TIMEOUT);
      this.#deviceLists.set(id, {
        resolve: (devices) => {
          timers.clearTimeout(timer);
          resolve(devices);
        },
        reject: (err) => {
          timers.clearTimeout(timer);
          reject(err);
        },
      });
      this.#deps.tabs.post({ type: "devices?", id });
    });
  }

  async #answerDevices(id: string): Promise<void> {
    try {
      const devices = await this.#pager.devices();
      this.#deps.tabs.post({ type: "devices", id, devices, error: null });
    } catch (err) {
      this.#deps.tabs.post({ type: "devices", id, devices: null, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Unpair a device (this one too): resolves once the host committed it. */
  revoke(deviceId: string): Promise<void> {
    return this.manage({ kind: "revoke", deviceId });
  }

  /** A pairing finished (any of the three ways): keep it and connect. */
  async paired(pairing: Pairing): Promise<void> {
    this.#disconnect(); // a new pairing replaces an old one
    if (pairing.session === true) this.#session.set();
    await this.#deps.store.savePairing(pairing);
    this.#set({ phase: "paired", pairing, unpairedFrom: null, link: null });
    this.#deps.tabs.post({ type: "pairing" });
    this.#changed(false);
    this.#connect();
  }

  /**
   * The page was opened with a host's pairing link in its fragment (the caller
   * has already removed it from the address bar): its relay must be this page's
   * `relay`. Or the user pasted a link to add another phone (hosts.ts): "any",
   * the link names that phone's own relay.
   */
  async pairWithLink(fragment: string, relay: string | "any"): Promise<void> {
    let offer: PairingOffer;
    try {
      offer = PairingOffer.parse(fragment, { now: this.#deps.now() / 1000, allowedRelays: relay === "any" ? "any" : [relay] });
    } catch (err) {
      this.#set({ phase: "linking", link: { stage: "failed", code: null, error: pairingError(err, "link") } });
      return;
    }
    this.#set({ phase: "linking", link: { stage: "connecting", code: null, error: null } });
    const progress: PairingProgress = {
      onCode: (code) => this.#set({ link: { stage: "confirm", code, error: null } }),
    };
    try {
      const pairing = await pairFromLink(offer, {
        socket: this.#deps.socket,
        ...(this.#deps.timers ? { timers: this.#deps.timers } : {}),
        now: this.#deps.now,
        ...this.pairingDeps(),
      }, progress);
      await this.paired(pairing);
    } catch (err) {
      this.#set({ link: { stage: "failed", code: this.#state.link?.code ?? null, error: pairingError(err, "link") } });
    }
  }

  /** Leave the failed link screen for the normal pairing screen (or the paired view). */
  dismissLink(): void {
    this.#set({ phase: this.#state.pairing === null ? "pairing" : "paired", link: null });
  }

  dismissUnpaired(): void {
    this.#set({ unpairedFrom: null });
  }

  /** `folder`'s list, the pinned, the outbox and `conv`'s segment holding `anchor` (null: its newest). */
  snapshot(conv: number | null, anchor: Position | null = null, folder: Folder = "inbox"): Promise<Snapshot> {
    return this.#deps.store.snapshot(conv, anchor, folder);
  }

  attachment(att: number): Promise<AttachmentCache | null> {
    return this.#deps.store.attachment(att);
  }

  /** A view needs history it does not have: page it here, or have the owner tab do it. */
  need(need: Need): void {
    if (this.#owner) this.#pager.need(need);
    else this.#deps.tabs.post({ type: "need", need });
  }

  /** Search every message on the host: one page of hits, newest first, older than the hit `before`. */
  search(query: string, before: number | null = null): Promise<Results> {
    if (this.#owner) return this.#pager.search(query, before);
    const id = toHex(this.#deps.rng(8));
    const timers = this.#deps.timers ?? realTimers;
    return new Promise((resolve, reject) => {
      const timer = timers.setTimeout(() => {
        this.#searches.delete(id);
        reject(new RequestFailed("the tab connected to your phone did not answer", "session_closed"));
      }, SEARCH_TIMEOUT);
      this.#searches.set(id, {
        resolve: (results) => {
          timers.clearTimeout(timer);
          resolve(results);
        },
        reject: (err) => {
          timers.clearTimeout(timer);
          reject(err);
        },
      });
      this.#deps.tabs.post({ type: "search", id, query, before });
    });
  }

  async #answerSearch(id: string, query: string, before: number | null): Promise<void> {
    try {
      const results = await this.#pager.search(query, before);
      this.#deps.tabs.post({ type: "results", id, results, error: null });
    } catch (err) {
      this.#deps.tabs.post({ type: "results", id, results: null, error: err instanceof Error ? err.message : String(err) });
    }
  }

  /**
   * Change a conversation on the host (pin, archive, mute, block, mark, delete)
   * or name a contact: resolves once the host committed it, rejects with its
   * reason (e.g. a sixth pin) or when there is no connection. The new state
   * arrives as events, here as on every other device.
   */
  manage(change: Change): Promise<void> {
    if (this.#owner) return this.#pager.manage(change);
    const id = toHex(this.#deps.rng(8));
    const timers = this.#deps.timers ?? realTimers;
    return new Promise((resolve, reject) => {
      const timer = timers.setTimeout(() => {
        this.#changes.delete(id);
        reject(new RequestFailed("the tab connected to your phone did not answer", "session_closed"));
      }, SEARCH_TIMEOUT);
      this.#changes.set(id, {
        resolve: () => {
          timers.clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          timers.clearTimeout(timer);
          reject(err);
        },
      });
      this.#deps.tabs.post({ type: "manage", id, change });
    });
  }

  async #answerManage(id: string, change: Change): Promise<void> {
    try {
      await this.#pager.manage(change);
      this.#deps.tabs.post({ type: "managed", id, error: null });
    } catch (err) {
      this.#deps.tabs.post({ type: "managed", id, error: err instanceof Error ? err.message : String(err) });
    }
  }

  #outboxChanged(): void {
    this.#changed(true);
    if (this.#owner) void this.#connection?.flush();
    else this.#deps.tabs.post({ type: "outbox" });
  }

  /**
   * Write a text to the outbox (durably), then have the owner tab send it; `at`
   * (ms) schedules it: the host keeps it until then.
   */
  async send(to: readonly string[], body: string, at: number | null = null): Promise<OutboxEntry> {
    const entry = await compose(this.#deps.store, { to, body, at }, { now: this.#deps.now, random: this.#deps.rng });
    this.#outboxChanged();
    return entry;
  }

  async retry(cmid: string): Promise<void> {
    await retry(this.#deps.store, cmid, { now: this.#deps.now, random: this.#deps.rng });
    this.#outboxChanged();
  }

  /** Cancel the host's scheduled text `msgId`; rejects with the host's reason when it is no longer waiting. */
  unschedule(msgId: number): Promise<void> {
    return this.manage({ kind: "unschedule", msgId });
  }

  async discard(cmid: string): Promise<void> {
    await this.#deps.store.removeOutbox(cmid);
    this.#changed(true);
  }

  /** The user opened a conversation: unread 0 here at once, and tell the host. */
  async markRead(conv: number): Promise<void> {
    await this.#deps.store.markReadLocally(conv);
    this.#changed(true);
    if (this.#owner) this.#connection?.markRead(conv);
    else this.#deps.tabs.post({ type: "read", conv });
  }

  /** Stop for good, connection, tabs and cache: its host slot is being removed (hosts.ts). */
  close(): void {
    this.#disconnect();
    this.#deps.tabs.close();
    this.#deps.store.close();
  }

  /** Forget the pairing here (the host still lists this browser until revoked there). */
  async forget(): Promise<void> {
    this.#disconnect();
    await this.#deps.store.forgetPairing();
    this.#set({ phase: "pairing", pairing: null, status: null });
    this.#changed(false);
    this.#deps.tabs.post({ type: "pairing" });
  }
}
