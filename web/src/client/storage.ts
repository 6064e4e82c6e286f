/**
 * The browser's IndexedDB cache (database "textport").
 *
 * Stores:
 * - `device`: the device key, a non-extractable X25519 CryptoKey and its public half;
 * - `meta`: the pairing and the sync `cursor` (the last applied event `seq`);
 * - `conversations`, `messages`: the host's records, upserted by id;
 * - `outbox`: texts composed here, keyed by `cmid`, until the host's copy arrives.
 *
 * The cursor is written in the same transaction as the events it covers, and a
 * `msg` event that carries a cmid removes that outbox entry in that same
 * transaction, so no reader ever sees a text twice (docs/protocol.md section 9).
 */

import type { KeyPair } from "../protocol/keys";
import type { ConversationRecord, MessageRecord, StoreEvent } from "../protocol/messages";

export const DB_NAME = "textport";
export const DB_VERSION = 1;

/** What pairing leaves behind: enough to join the room and run the session handshake. */
export interface Pairing {
  /** The host's static X25519 public key (32 bytes). */
  readonly hostPublic: Uint8Array;
  readonly hostName: string;
  /** base64url of the 16-byte room. */
  readonly room: string;
  /** base64url of the 32-byte relay token. */
  readonly token: string;
  readonly relay: string;
  /** When the pairing was made, ms since the epoch. */
  readonly pairedAt: number;
}

/** queued: not acknowledged yet; sending: the host has it; failed: refused, with a reason. */
export type OutboxState = "queued" | "sending" | "failed";

export interface OutboxEntry {
  /** 32 lower-case hex characters, the host's dedupe key. */
  readonly cmid: string;
  readonly to: readonly string[];
  readonly body: string;
  /** ms since the epoch. */
  readonly createdAt: number;
  readonly state: OutboxState;
  readonly reason: string | null;
  /** The host's message id, from its ack. */
  readonly msgId: number | null;
}

/** What one view needs, read in one transaction (so consistent). */
export interface Snapshot {
  readonly conversations: readonly ConversationRecord[];
  readonly outbox: readonly OutboxEntry[];
  /** The messages of the conversation asked for (empty when none was). */
  readonly messages: readonly MessageRecord[];
}

type StoreName = "device" | "meta" | "conversations" | "messages" | "outbox";
const ALL: StoreName[] = ["device", "meta", "conversations", "messages", "outbox"];

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error("IndexedDB request failed"));
  });
}

function finished(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error("IndexedDB transaction failed"));
    tx.onabort = () => reject(tx.error ?? new Error("IndexedDB transaction aborted"));
  });
}

function byRecency(a: ConversationRecord, b: ConversationRecord): number {
  return b.last_at - a.last_at || b.id - a.id;
}

function byTime(a: MessageRecord, b: MessageRecord): number {
  return a.at - b.at || a.id - b.id;
}

export class Store {
  private constructor(private readonly db: IDBDatabase) {}

  /** Open (and create or upgrade) the database. */
  static open(factory: IDBFactory = globalThis.indexedDB, name = DB_NAME): Promise<Store> {
    return new Promise((resolve, reject) => {
      const req = factory.open(name, DB_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains("device")) db.createObjectStore("device");
        if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta");
        if (!db.objectStoreNames.contains("conversations")) db.createObjectStore("conversations", { keyPath: "id" });
        if (!db.objectStoreNames.contains("messages")) {
          db.createObjectStore("messages", { keyPath: "id" }).createIndex("conv", "conv");
        }
        if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "cmid" });
      };
      req.onsuccess = () => {
        const db = req.result;
        // Another tab upgrading the schema: let it, this tab reloads its data later.
        db.onversionchange = () => db.close();
        resolve(new Store(db));
      };
      req.onerror = () => reject(req.error ?? new Error("cannot open IndexedDB"));
      req.onblocked = () => reject(new Error("IndexedDB is blocked by another tab"));
    });
  }

  close(): void {
    this.db.close();
  }

  private tx(stores: StoreName[], mode: IDBTransactionMode, strict = false): IDBTransaction {
    return strict
      ? this.db.transaction(stores, mode, { durability: "strict" })
      : this.db.transaction(stores, mode);
  }

  private async read<T>(store: StoreName, key: IDBValidKey): Promise<T | undefined> {
    const tx = this.tx([store], "readonly");
    return (await request(tx.objectStore(store).get(key))) as T | undefined;
  }

  // ------------------------------------------------------------ device key

  async deviceKey(): Promise<KeyPair | null> {
    return (await this.read<KeyPair>("device", "key")) ?? null;
  }

  /**
   * The device key, made by `generate` and stored on first use. When two tabs
   * race, the first stored key wins and both use it.
   */
  async ensureDeviceKey(generate: () => Promise<KeyPair>): Promise<KeyPair> {
    const existing = await this.deviceKey();
    if (existing !== null) return existing;
    const fresh = await generate();
    const tx = this.tx(["device"], "readwrite", true);
    const stored = tx.objectStore("device");
    const current = (await request(stored.get("key"))) as KeyPair | undefined;
    if (current === undefined) stored.put({ privateKey: fresh.privateKey, publicKey: fresh.publicKey }, "key");
    await finished(tx);
    return current ?? fresh;
  }

  // ------------------------------------------------------------ pairing

  async pairing(): Promise<Pairing | null> {
    return (await this.read<Pairing>("meta", "pairing")) ?? null;
  }

  /** Store a new pairing; a cache from an earlier pairing is dropped with it. */
  async savePairing(pairing: Pairing): Promise<void> {
    const tx = this.tx(["meta", "conversations", "messages", "outbox"], "readwrite", true);
    tx.objectStore("conversations").clear();
    tx.objectStore("messages").clear();
    tx.objectStore("outbox").clear();
    tx.objectStore("meta").put(0, "cursor");
    tx.objectStore("meta").put(pairing, "pairing");
    await finished(tx);
  }

  /** Update the host's name (it may change in `welcome`). */
  async renameHost(hostName: string): Promise<void> {
    const tx = this.tx(["meta"], "readwrite");
    const meta = tx.objectStore("meta");
    const pairing = (await request(meta.get("pairing"))) as Pairing | undefined;
    if (pairing !== undefined && pairing.hostName !== hostName) meta.put({ ...pairing, hostName }, "pairing");
    await finished(tx);
  }

  /** Forget the pairing and everything it brought; keep only the device key. */
  async forgetPairing(): Promise<void> {
    const tx = this.tx(["meta", "conversations", "messages", "outbox"], "readwrite", true);
    for (const name of ["meta", "conversations", "messages", "outbox"] as const) tx.objectStore(name).clear();
    await finished(tx);
  }

  // ------------------------------------------------------------ sync

  async cursor(): Promise<number> {
    return (await this.read<number>("meta", "cursor")) ?? 0;
  }

  /**
   * Apply events in order, in one transaction with the new cursor. Events at
   * or below the stored cursor are skipped (they are already applied); the
   * rest are idempotent upserts. Returns the cursor and how many were applied.
   */
  async applyEvents(events: readonly StoreEvent[]): Promise<{ cursor: number; applied: number }> {
    const tx = this.tx(["meta", "conversations", "messages", "outbox"], "readwrite");
    const meta = tx.objectStore("meta");
    const conversations = tx.objectStore("conversations");
    const messages = tx.objectStore("messages");
    const outbox = tx.objectStore("outbox");
    let cursor = ((await request(meta.get("cursor"))) as number | undefined) ?? 0;
    let applied = 0;
    for (const event of events) {
      if (event.seq <= cursor) continue;
      switch (event.k) {
        case "conv":
          conversations.put(event.conv);
          break;
        case "msg":
          messages.put(event.msg);
          // The host's copy replaces the local one, in this same transaction.
          if (event.msg.cmid !== null) outbox.delete(event.msg.cmid);
          break;
        case "status": {
          const message = (await request(messages.get(event.id))) as MessageRecord | undefined;
          if (message !== undefined) messages.put({ ...message, state: event.state, reason: event.reason });
          break;
        }
      }
      cursor = event.seq;
      applied += 1;
    }
    if (applied > 0) meta.put(cursor, "cursor");
    await finished(tx);
    return { cursor, applied };
  }

  /** Move the cursor forward to `seq` (the host's `synced`), never back. */
  async advanceCursor(seq: number): Promise<number> {
    const tx = this.tx(["meta"], "readwrite");
    const meta = tx.objectStore("meta");
    const cursor = ((await request(meta.get("cursor"))) as number | undefined) ?? 0;
    if (seq > cursor) meta.put(seq, "cursor");
    await finished(tx);
    return Math.max(seq, cursor);
  }

  /** The host's `reset`: drop the cached conversations and messages, cursor 0. The outbox stays. */
  async resetCache(): Promise<void> {
    const tx = this.tx(["meta", "conversations", "messages"], "readwrite");
    tx.objectStore("conversations").clear();
    tx.objectStore("messages").clear();
    tx.objectStore("meta").put(0, "cursor");
    await finished(tx);
  }

  /** The user opened a conversation: show it as read before the host confirms. */
  async markReadLocally(conv: number): Promise<void> {
    const tx = this.tx(["conversations"], "readwrite");
    const store = tx.objectStore("conversations");
    const record = (await request(store.get(conv))) as ConversationRecord | undefined;
    if (record !== undefined && record.unread !== 0) store.put({ ...record, unread: 0 });
    await finished(tx);
  }

  // ------------------------------------------------------------ reading

  async conversations(): Promise<ConversationRecord[]> {
    const tx = this.tx(["conversations"], "readonly");
    const all = (await request(tx.objectStore("conversations").getAll())) as ConversationRecord[];
    return all.sort(byRecency);
  }

  async messages(conv: number): Promise<MessageRecord[]> {
    const tx = this.tx(["messages"], "readonly");
    const all = (await request(tx.objectStore("messages").index("conv").getAll(conv))) as MessageRecord[];
    return all.sort(byTime);
  }

  /** Conversations, outbox and one conversation's messages, from one transaction. */
  async snapshot(conv: number | null): Promise<Snapshot> {
    const tx = this.tx(["conversations", "messages", "outbox"], "readonly");
    const [conversations, outbox, messages] = await Promise.all([
      request(tx.objectStore("conversations").getAll()) as Promise<ConversationRecord[]>,
      request(tx.objectStore("outbox").getAll()) as Promise<OutboxEntry[]>,
      conv === null
        ? Promise.resolve([] as MessageRecord[])
        : (request(tx.objectStore("messages").index("conv").getAll(conv)) as Promise<MessageRecord[]>),
    ]);
    return {
      conversations: conversations.sort(byRecency),
      outbox: outbox.sort((a, b) => a.createdAt - b.createdAt || (a.cmid < b.cmid ? -1 : 1)),
      messages: messages.sort(byTime),
    };
  }

  // ------------------------------------------------------------ outbox

  async outbox(): Promise<OutboxEntry[]> {
    return (await this.snapshot(null)).outbox.slice();
  }

  async outboxEntry(cmid: string): Promise<OutboxEntry | null> {
    return (await this.read<OutboxEntry>("outbox", cmid)) ?? null;
  }

  /** Write a new entry durably ("strict"): it must survive a crash before the first send. */
  async addOutbox(entry: OutboxEntry): Promise<void> {
    const tx = this.tx(["outbox"], "readwrite", true);
    tx.objectStore("outbox").add(entry);
    await finished(tx);
  }

  /** Change an entry if it is still there (the host's copy may have replaced it). */
  async updateOutbox(cmid: string, change: (entry: OutboxEntry) => OutboxEntry): Promise<boolean> {
    const tx = this.tx(["outbox"], "readwrite", true);
    const store = tx.objectStore("outbox");
    const entry = (await request(store.get(cmid))) as OutboxEntry | undefined;
    if (entry !== undefined) store.put(change(entry));
    await finished(tx);
    return entry !== undefined;
  }

  async removeOutbox(cmid: string): Promise<void> {
    const tx = this.tx(["outbox"], "readwrite", true);
    tx.objectStore("outbox").delete(cmid);
    await finished(tx);
  }

  /** Everything (for tests and "forget this browser"). */
  async clearAll(): Promise<void> {
    const tx = this.tx(ALL, "readwrite", true);
    for (const name of ALL) tx.objectStore(name).clear();
    await finished(tx);
  }
}
