/**
 * The browser's IndexedDB cache (database "textport").
 *
 * Stores:
 * - `device`: the device key, a non-extractable X25519 CryptoKey and its public half;
 * - `meta`: the pairing, the sync `cursor` (the last applied event `seq`), per
 *   folder, `list:<folder>`: how far that folder's conversation list is paged, and
 *   per conversation `draft:<peers>`: the text being written there;
 * - `conversations`, `messages`: the host's records, upserted by id (messages also
 *   indexed by their keyset position `[conv, at, id]`);
 * - `threads`: per conversation, the segments of its messages cached without gaps
 *   (keyset.ts) and the `hist` they were paged under;
 * - `attachments`: attachment bytes fetched from the host, or why they could not be;
 * - `outbox`: texts composed here, keyed by `cmid`, until the host's copy arrives.
 *
 * The cursor is written in the same transaction as the events it covers, and a
 * message with a cmid (event or page) removes that outbox entry in that same
 * transaction, so no reader ever sees a text twice (docs/protocol.md section 9).
 * A page is applied only if the cache still ends where the page was asked from,
 * so a reset or a `hist` change in between never leaves a gap.
 *
 * Folders (inbox, pinned, archived, blocked) are not stored apart: a record's
 * flags say which one it is in (`folderOf`), so a `conv` event that archives a
 * conversation moves it at once; each folder shows its records from the newest
 * down to where that folder is paged. A `gone` event drops the conversation,
 * its messages and its thread's segments.
 */

import type { KeyPair } from "../protocol/keys";
import {
  type ConvPage,
  type ConversationRecord,
  FOLDERS,
  type Folder,
  type MessageRecord,
  type Position,
  type StoreEvent,
  type ThreadPage,
} from "../protocol/messages";
import {
  type Segment,
  compare,
  conversationPosition,
  merge,
  messagePosition,
  samePosition,
  segmentAt,
} from "./keyset";

export const DB_NAME = "textport";
export const DB_VERSION = 3;

/** A thread's `hist` when its pages came before its conversation record: unknown. */
const UNKNOWN_HIST = -1;

/** The folder a conversation is listed in (docs/protocol.md section 9, "Folders"). */
export function folderOf(conv: ConversationRecord): Folder {
  return conv.blocked ? "blocked" : conv.archived ? "archived" : conv.pinned ? "pinned" : "inbox";
}

/** Drafts live in `meta` under `draft:<peers, sorted>`, one per conversation. */
function draftKey(peers: readonly string[]): string {
  return `draft:${[...peers].sort().join(",")}`;
}

function listKey(folder: Folder): string {
  return `list:${folder}`;
}

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
  /** Paired for this browser session only: forgotten, key and all, when it ends (session.ts). */
  readonly session?: boolean;
  /**
   * The host's text lifetime (ms) from its last `welcome` (`caps.text_ttl_ms`):
   * a text queued here longer than this fails without the host (outbox.ts
   * `expire`). Absent or null: not known yet, or an older host that does not say.
   */
  readonly textTtlMs?: number | null;
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
  /** When to send it (ms): the host keeps it until then. Absent or null: now. */
  readonly at?: number | null;
}

/** How far the conversation list is paged: from the newest down to `low` (null: all of it). */
export interface ListCache {
  readonly low: Position | null;
}

/** The cached spans of one conversation's messages. */
export interface ThreadCache {
  readonly conv: number;
  /** The conversation's `hist` when these were paged (UNKNOWN_HIST: not known then). */
  readonly hist: number;
  readonly segments: readonly Segment[];
}

/** An attachment's bytes, or the host's reason for not giving them. */
export type AttachmentCache =
  | { readonly att: number; readonly type: string; readonly data: Uint8Array<ArrayBuffer> }
  | { readonly att: number; readonly error: string };

/** What a thread page was asked for, so what it covers once it comes. */
export type ThreadAsk =
  | { readonly kind: "newest" }
  /** The page before the segment that starts at `low`. */
  | { readonly kind: "older"; readonly low: Position }
  /** The page after the segment that ends at `high`. */
  | { readonly kind: "newer"; readonly high: Position }
  /** The page that ends with a search hit at `at` (`before` just after it). */
  | { readonly kind: "around"; readonly at: Position };

/** "unpaged": nothing asked yet (or since a reset); "partial": more pages to come. */
export type ListState = "unpaged" | "partial" | "complete";

/** One open thread: its record (if cached), the segment shown and its messages, oldest first. */
export interface ThreadSnapshot {
  readonly conversation: ConversationRecord | null;
  /** The segment holding the anchor (or the newest), null until its first page came. */
  readonly segment: Segment | null;
  readonly messages: readonly MessageRecord[];
}

/** What one view needs, read in one transaction (so consistent). */
export interface Snapshot {
  /** The folder's conversation list as far as it is paged, newest first. */
  readonly conversations: readonly ConversationRecord[];
  readonly list: ListState;
  /** The pinned conversations as far as paged (shown above the inbox), newest first. */
  readonly pinned: readonly ConversationRecord[];
  readonly pinnedList: ListState;
  /** Every cached conversation, whatever its folder (to find one by id or number). */
  readonly all: readonly ConversationRecord[];
  /** Unread texts in every cached conversation (blocked ones are never unread). */
  readonly unread: number;
  readonly outbox: readonly OutboxEntry[];
  /** The conversation asked for (null when none was). */
  readonly thread: ThreadSnapshot | null;
}

type StoreName = "device" | "meta" | "conversations" | "messages" | "threads" | "attachments" | "outbox";
const ALL: StoreName[] = ["device", "meta", "conversations", "messages", "threads", "attachments", "outbox"];
/** What a reset, a new pairing or forgetting it drops. */
const HISTORY: StoreName[] = ["conversations", "messages", "threads", "attachments"];

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

function listState(list: ListCache | undefined): ListState {
  return list === undefined ? "unpaged" : list.low === null ? "complete" : "partial";
}

/** The records of `folder` from its newest down to where it is paged. */
function paged(all: readonly ConversationRecord[], folder: Folder, list: ListCache | undefined): ConversationRecord[] {
  if (list === undefined) return [];
  const low = list.low;
  return all.filter((c) => folderOf(c) === folder && (low === null || compare(conversationPosition(c), low) >= 0))
    .sort(byRecency);
}

/** Forget how far every folder is paged. */
function dropLists(meta: IDBObjectStore): void {
  meta.delete("list"); // version 2's single list
  for (const folder of FOLDERS) meta.delete(listKey(folder));
}

/** Drop a deleted conversation with its messages and segments. */
async function dropConversation(tx: IDBTransaction, conv: number): Promise<void> {
  tx.objectStore("conversations").delete(conv);
  tx.objectStore("threads").delete(conv);
  const messages = tx.objectStore("messages");
  for (const id of await request(messages.index("conv").getAllKeys(conv))) messages.delete(id);
}

function byRecency(a: ConversationRecord, b: ConversationRecord): number {
  return b.last_at - a.last_at || b.id - a.id;
}

function byTime(a: MessageRecord, b: MessageRecord): number {
  return a.at - b.at || a.id - b.id;
}

/** Messages of `conv` from `low` to `high` in the position index (null: open). */
function span(keyRange: typeof IDBKeyRange, conv: number, segment: Segment): IDBKeyRange {
  return keyRange.bound(
    segment.low === null ? [conv] : [conv, ...segment.low],
    segment.high === null ? [conv, Infinity] : [conv, ...segment.high],
  );
}

/**
 * Upsert a conversation record. A `hist` other than the one its messages were
 * cached under means messages were added out of time order (an import): drop
 * them and their segments, so the thread is paged again.
 */
async function putConversation(tx: IDBTransaction, record: ConversationRecord): Promise<void> {
  const conversations = tx.objectStore("conversations");
  const threads = tx.objectStore("threads");
  const [existing, thread] = await Promise.all([
    request(conversations.get(record.id)) as Promise<ConversationRecord | undefined>,
    request(threads.get(record.id)) as Promise<ThreadCache | undefined>,
  ]);
  if ((existing !== undefined && existing.hist !== record.hist) || (thread !== undefined && thread.hist !== record.hist)) {
    threads.delete(record.id);
    const messages = tx.objectStore("messages");
    for (const id of await request(messages.index("conv").getAllKeys(record.id))) messages.delete(id);
  }
  conversations.put(record);
}

/** Store a message; the host's copy of a text composed here replaces its outbox entry. */
function putMessage(tx: IDBTransaction, message: MessageRecord): void {
  tx.objectStore("messages").put(message);
  if (message.cmid !== null) tx.objectStore("outbox").delete(message.cmid);
}

/**
 * The segments of a thread once `page` (answering `ask`) is in, or null when the
 * cache no longer ends where it was asked from (or the page says more but is empty).
 */
function withPage(segments: readonly Segment[], ask: ThreadAsk, page: ThreadPage): Segment[] | null {
  const oldest = page.msgs.at(-1);
  const newest = page.msgs[0];
  if (page.more && (oldest === undefined || newest === undefined)) return null;
  const low = page.more && oldest !== undefined ? messagePosition(oldest) : null;
  switch (ask.kind) {
    case "newest":
      return merge(segments, { low, high: null });
    case "around":
      return merge(segments, { low, high: ask.at });
    case "older": {
      const from = segments.find((s) => samePosition(s.low, ask.low));
      return from === undefined ? null : merge(segments.filter((s) => s !== from), { low, high: from.high });
    }
    case "newer": {
      const from = segments.find((s) => samePosition(s.high, ask.high));
      const high = page.more && newest !== undefined ? messagePosition(newest) : null;
      return from === undefined ? null : merge(segments.filter((s) => s !== from), { low: from.low, high });
    }
  }
}

export class Store {
  private constructor(
    private readonly db: IDBDatabase,
    private readonly keyRange: typeof IDBKeyRange,
  ) {}

  /** Open (and create or upgrade) the database; `keyRange` is the same implementation's IDBKeyRange. */
  static open(
    factory: IDBFactory = globalThis.indexedDB,
    keyRange: typeof IDBKeyRange = globalThis.IDBKeyRange,
    name = DB_NAME,
  ): Promise<Store> {
    return new Promise((resolve, reject) => {
      const req = factory.open(name, DB_VERSION);
      req.onupgradeneeded = (event) => {
        const db = req.result;
        const tx = req.transaction!;
        if (event.oldVersion < 1) {
          db.createObjectStore("device");
          db.createObjectStore("meta");
          db.createObjectStore("conversations", { keyPath: "id" });
          db.createObjectStore("messages", { keyPath: "id" }).createIndex("conv", "conv");
          db.createObjectStore("outbox", { keyPath: "cmid" });
        }
        if (event.oldVersion < 2) {
          tx.objectStore("messages").createIndex("position", ["conv", "at", "id"]);
          db.createObjectStore("threads", { keyPath: "conv" });
          db.createObjectStore("attachments", { keyPath: "att" });
          // A version 1 cache came from a full replay and lacks the records' new fields:
          // start afresh from the host's reset (the outbox stays).
          tx.objectStore("conversations").clear();
          tx.objectStore("messages").clear();
          tx.objectStore("meta").put(0, "cursor");
        }
        if (event.oldVersion >= 1 && event.oldVersion < 3) {
          // Version 2 records lack the flags and names, and its list was one folder:
          // start afresh from the host's reset (the outbox stays).
          for (const name of ["conversations", "messages", "threads"] as const) tx.objectStore(name).clear();
          dropLists(tx.objectStore("meta"));
          tx.objectStore("meta").put(0, "cursor");
        }
      };
      req.onsuccess = () => {
        const db = req.result;
        // Another tab upgrading the schema: let it, this tab reloads its data later.
        db.onversionchange = () => db.close();
        resolve(new Store(db, keyRange));
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
    const tx = this.tx(["meta", "outbox", ...HISTORY], "readwrite", true);
    for (const name of ["outbox", ...HISTORY] as const) tx.objectStore(name).clear();
    dropLists(tx.objectStore("meta"));
    tx.objectStore("meta").put(0, "cursor");
    tx.objectStore("meta").put(pairing, "pairing");
    await finished(tx);
  }

  /** Keep what the host's `welcome` says: its name and its text lifetime (either may change). */
  async updateHost(hostName: string, textTtlMs: number | null): Promise<void> {
    const tx = this.tx(["meta"], "readwrite");
    const meta = tx.objectStore("meta");
    const pairing = (await request(meta.get("pairing"))) as Pairing | undefined;
    if (pairing !== undefined && (pairing.hostName !== hostName || (pairing.textTtlMs ?? null) !== textTtlMs)) {
      meta.put({ ...pairing, hostName, textTtlMs }, "pairing");
    }
    await finished(tx);
  }

  /** Forget the device key too (a session-only pairing ended): the next start makes a new one. */
  async forgetDeviceKey(): Promise<void> {
    const tx = this.tx(["device"], "readwrite", true);
    tx.objectStore("device").clear();
    await finished(tx);
  }

  /** Forget the pairing and everything it brought; keep only the device key. */
  async forgetPairing(): Promise<void> {
    const tx = this.tx(["meta", "outbox", ...HISTORY], "readwrite", true);
    for (const name of ["meta", "outbox", ...HISTORY] as const) tx.objectStore(name).clear();
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
    const tx = this.tx(["meta", "conversations", "messages", "threads", "outbox"], "readwrite");
    const meta = tx.objectStore("meta");
    const messages = tx.objectStore("messages");
    let cursor = ((await request(meta.get("cursor"))) as number | undefined) ?? 0;
    let applied = 0;
    for (const event of events) {
      if (event.seq <= cursor) continue;
      switch (event.k) {
        case "conv":
          await putConversation(tx, event.conv);
          break;
        case "msg":
          putMessage(tx, event.msg);
          break;
        case "status": {
          const message = (await request(messages.get(event.id))) as MessageRecord | undefined;
          if (message !== undefined) messages.put({ ...message, state: event.state, reason: event.reason });
          break;
        }
        case "gone":
          await dropConversation(tx, event.conv);
          break;
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

  /**
   * The host's `reset{seq}`: drop every cached conversation, message and
   * attachment, and how far they were paged; the cursor becomes `seq`. The outbox stays.
   */
  async reset(seq: number): Promise<void> {
    const tx = this.tx(["meta", ...HISTORY], "readwrite");
    for (const name of HISTORY) tx.objectStore(name).clear();
    dropLists(tx.objectStore("meta"));
    tx.objectStore("meta").put(seq, "cursor");
    await finished(tx);
  }

  /**
   * A page of `folder`'s conversation list asked for `before` (null: the first
   * page). False (nothing written) when the list no longer ends there.
   */
  async applyConvPage(before: Position | null, page: ConvPage, folder: Folder = "inbox"): Promise<boolean> {
    const tx = this.tx(["meta", "conversations", "messages", "threads"], "readwrite");
    const meta = tx.objectStore("meta");
    const list = (await request(meta.get(listKey(folder)))) as ListCache | undefined;
    const last = page.convs.at(-1);
    const fits = before === null ? list === undefined : list !== undefined && samePosition(list.low, before);
    if (!fits || (page.more && last === undefined)) {
      tx.abort();
      return false;
    }
    for (const record of page.convs) await putConversation(tx, record);
    meta.put({ low: page.more && last !== undefined ? conversationPosition(last) : null } satisfies ListCache, listKey(folder));
    await finished(tx);
    return true;
  }

  /**
   * A page of `conv`'s messages that answers `ask`. False (nothing written)
   * when the thread's cache no longer ends where the page was asked from.
   */
  async applyThreadPage(conv: number, ask: ThreadAsk, page: ThreadPage): Promise<boolean> {
    const tx = this.tx(["conversations", "messages", "threads", "outbox"], "readwrite");
    const threads = tx.objectStore("threads");
    const [record, cached] = await Promise.all([
      request(tx.objectStore("conversations").get(conv)) as Promise<ConversationRecord | undefined>,
      request(threads.get(conv)) as Promise<ThreadCache | undefined>,
    ]);
    const thread: ThreadCache = cached ?? { conv, hist: record?.hist ?? UNKNOWN_HIST, segments: [] };
    const segments = withPage(thread.segments, ask, page);
    if (segments === null) {
      tx.abort();
      return false;
    }
    for (const message of page.msgs) putMessage(tx, message);
    threads.put({ ...thread, segments } satisfies ThreadCache);
    await finished(tx);
    return true;
  }

  /** How far `folder`'s conversation list is paged (null: not at all). */
  async list(folder: Folder = "inbox"): Promise<ListCache | null> {
    return (await this.read<ListCache>("meta", listKey(folder))) ?? null;
  }

  async thread(conv: number): Promise<ThreadCache | null> {
    return (await this.read<ThreadCache>("threads", conv)) ?? null;
  }

  // ------------------------------------------------------------ attachments

  async attachment(att: number): Promise<AttachmentCache | null> {
    return (await this.read<AttachmentCache>("attachments", att)) ?? null;
  }

  async putAttachment(entry: AttachmentCache): Promise<void> {
    const tx = this.tx(["attachments"], "readwrite");
    tx.objectStore("attachments").put(entry);
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

  /**
   * The paged conversation list, the outbox and, for `conv`, the segment that
   * holds `anchor` (a search hit; null: the newest) with its messages: one transaction.
   */
  async snapshot(conv: number | null, anchor: Position | null = null, folder: Folder = "inbox"): Promise<Snapshot> {
    const tx = this.tx(["meta", "conversations", "messages", "threads", "outbox"], "readonly");
    const meta = tx.objectStore("meta");
    const [list, pinnedList, conversations, outbox, thread] = await Promise.all([
      request(meta.get(listKey(folder))) as Promise<ListCache | undefined>,
      request(meta.get(listKey("pinned"))) as Promise<ListCache | undefined>,
      request(tx.objectStore("conversations").getAll()) as Promise<ConversationRecord[]>,
      request(tx.objectStore("outbox").getAll()) as Promise<OutboxEntry[]>,
      conv === null ? Promise.resolve(null) : this.#thread(tx, conv, anchor),
    ]);
    return {
      conversations: paged(conversations, folder, list),
      list: listState(list),
      pinned: paged(conversations, "pinned", pinnedList),
      pinnedList: listState(pinnedList),
      all: conversations.sort(byRecency),
      unread: conversations.reduce((sum, c) => sum + (c.blocked ? 0 : c.unread), 0),
      outbox: outbox.sort((a, b) => a.createdAt - b.createdAt || (a.cmid < b.cmid ? -1 : 1)),
      thread,
    };
  }

  async #thread(tx: IDBTransaction, conv: number, anchor: Position | null): Promise<ThreadSnapshot> {
    const [record, cached] = await Promise.all([
      request(tx.objectStore("conversations").get(conv)) as Promise<ConversationRecord | undefined>,
      request(tx.objectStore("threads").get(conv)) as Promise<ThreadCache | undefined>,
    ]);
    const segment = cached === undefined ? null : segmentAt(cached.segments, anchor);
    const messages = segment === null
      ? []
      : ((await request(tx.objectStore("messages").index("position").getAll(span(this.keyRange, conv, segment)))) as MessageRecord[]);
    return { conversation: record ?? null, segment, messages };
  }

  // ------------------------------------------------------------ outbox

  async outbox(): Promise<OutboxEntry[]> {
    const tx = this.tx(["outbox"], "readonly");
    const all = (await request(tx.objectStore("outbox").getAll())) as OutboxEntry[];
    return all.sort((a, b) => a.createdAt - b.createdAt || (a.cmid < b.cmid ? -1 : 1));
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

  // ------------------------------------------------------------ drafts

  /** The text being written to `peers` (a conversation's participants), "" when none. */
  async draft(peers: readonly string[]): Promise<string> {
    return (await this.read<string>("meta", draftKey(peers))) ?? "";
  }

  /** Keep (or, when blank, drop) the text being written to `peers`: it survives a reload. */
  async saveDraft(peers: readonly string[], body: string): Promise<void> {
    const tx = this.tx(["meta"], "readwrite");
    if (body.trim() === "") tx.objectStore("meta").delete(draftKey(peers));
    else tx.objectStore("meta").put(body, draftKey(peers));
    await finished(tx);
  }

  /** Everything (for tests and "forget this browser"). */
  async clearAll(): Promise<void> {
    const tx = this.tx(ALL, "readwrite", true);
    for (const name of ALL) tx.objectStore(name).clear();
    await finished(tx);
  }
}
