/**
 * History on demand: what the views need, asked of the host as pages (the tab
 * that owns the connection only; other tabs forward their needs, tabs.ts).
 *
 *   list {folder}          the next page of a folder's conversations (`convs`, 50 at a time)
 *   thread {conv, ask}     a page of a thread: its newest, the one before or after a
 *                          cached segment, or the one ending with a search hit
 *   attachment {att}       an attachment's bytes (`fetch` until `total`)
 *
 * A need is kept until a page answers it, and asked again whenever the session
 * is synced (after a reconnect); the same need is never in flight twice. The
 * host refusing one (`error{ref: qid}`) drops it for the session (an attachment
 * remembers why). Each page is written with what it covers, checked against the
 * cache (storage.ts), so a stale answer never leaves a gap; a reset voids every
 * answer still due.
 *
 * It also carries out the user's changes to conversations (`manage`: pin,
 * archive, mute, block, mark, delete, name a contact): each is one request,
 * answered by `done` once the host committed it; the change itself comes back
 * as events, to every device alike.
 */

import { concat } from "../protocol/bytes";
import { unb64 } from "../protocol/derive";
import {
  CHUNK_BYTES,
  type Contact,
  type ConvDelete,
  type ConvSet,
  type Convs,
  type Fetch,
  type Folder,
  type Position,
  type DeviceRecord,
  type Devices,
  type Results,
  type Revoke,
  type Unschedule,
  type Search,
  type Thread,
} from "../protocol/messages";
import { type Ask, type Connection, RequestFailed } from "./connection";
import { contains, samePosition, segmentAt, through } from "./keyset";
import type { Store, ThreadAsk } from "./storage";

export const LIST_PAGE = 50;
export const THREAD_PAGE = 50;
export const SEARCH_PAGE = 50;
/** The largest attachment fetched (the host keeps none larger). */
export const MAX_ATTACHMENT = 20 * 1024 * 1024;

export type Need =
  /** No folder: the inbox. */
  | { readonly kind: "list"; readonly folder?: Folder }
  | { readonly kind: "thread"; readonly conv: number; readonly ask: ThreadAsk }
  | { readonly kind: "attachment"; readonly att: number };

/** One key per distinct need: the same need asked twice is one request. */
export function needKey(need: Need): string {
  switch (need.kind) {
    case "list":
      return `list ${need.folder ?? "inbox"}`;
    case "attachment":
      return `att ${need.att}`;
    case "thread": {
      const { ask } = need;
      const at = ask.kind === "older" ? ask.low : ask.kind === "newer" ? ask.high : ask.kind === "around" ? ask.at : null;
      return `thread ${need.conv} ${ask.kind}${at === null ? "" : ` ${at[0]} ${at[1]}`}`;
    }
  }
}

/** The flags a `conv_set` can change; `unread`: true marks unread, false read. */
export type Flag = "pinned" | "archived" | "muted" | "blocked" | "unread";

/** A change the user makes to conversations (carried out by the owner tab). */
export type Change =
  | { readonly kind: "flags"; readonly conv: number; readonly flags: Partial<Record<Flag, boolean>> }
  | { readonly kind: "delete"; readonly conv: number }
  | { readonly kind: "contact"; readonly number: string; readonly name: string | null }
  | { readonly kind: "revoke"; readonly deviceId: string }
  | { readonly kind: "unschedule"; readonly msgId: number };

/** The request that carries out `change`. */
export function changeRequest(
  change: Change,
): Omit<ConvSet, "qid"> | Omit<ConvDelete, "qid"> | Omit<Contact, "qid"> | Omit<Revoke, "qid"> | Omit<Unschedule, "qid"> {
  switch (change.kind) {
    case "flags": {
      const { pinned = null, archived = null, muted = null, blocked = null, unread = null } = change.flags;
      return { t: "conv_set", conv: change.conv, pinned, archived, muted, blocked, unread };
    }
    case "delete":
      return { t: "conv_delete", conv: change.conv };
    case "contact":
      return { t: "contact", number: change.number, name: change.name };
    case "revoke":
      return { t: "revoke", device_id: change.deviceId };
    case "unschedule":
      return { t: "unschedule", msg_id: change.msgId };
  }
}

/** The `before` and `after` of a thread request for `ask`. */
export function threadBounds(ask: ThreadAsk): { before: Position | null; after: Position | null } {
  switch (ask.kind) {
    case "newest":
      return { before: null, after: null };
    case "older":
      return { before: ask.low, after: null };
    case "newer":
      return { before: null, after: ask.high };
    case "around":
      // Positions are integer pairs: before (at, id + 1) is up to and with the hit itself.
      return { before: through(ask.at), after: null };
  }
}

export interface PagerDeps {
  readonly store: Store;
  /** The cache changed: views re-read. */
  onChanged(): void;
  onLog?(message: string): void;
}

export class Pager {
  readonly #deps: PagerDeps;
  #connection: Connection | null = null;
  readonly #wanted = new Map<string, Need>();
  readonly #inflight = new Map<string, object>();
  readonly #refused = new Set<string>();
  #epoch = 0;

  constructor(deps: PagerDeps) {
    this.#deps = deps;
  }

  /** A session is synced on `connection`: ask for everything still needed (refused ones again too). */
  online(connection: Connection): void {
    if (this.#connection !== connection) this.#refused.clear();
    this.#connection = connection;
    for (const [key, need] of this.#wanted) void this.#issue(key, need);
  }

  /** The session ended: what was in flight is asked again on the next. */
  offline(): void {
    this.#connection = null;
  }

  /** The host reset this device: every answer still due is void, every need forgotten. */
  reset(): void {
    this.#epoch++;
    this.#wanted.clear();
    this.#inflight.clear();
    this.#refused.clear();
  }

  need(need: Need): void {
    const key = needKey(need);
    if (this.#refused.has(key) || this.#wanted.has(key)) return;
    this.#wanted.set(key, need);
    void this.#issue(key, need);
  }

  /** One page of search results, newest first, older than the hit `before` (a msg_id). */
  async search(query: string, before: number | null): Promise<Results> {
    const connection = this.#connection;
    if (connection === null) throw new RequestFailed("not connected to the host", "session_closed");
    let results: Results | null = null;
    await connection.request<Search>(
      { t: "search", query, limit: SEARCH_PAGE, before },
      (answer) => {
        results = answer;
      },
    );
    return results!;
  }

  /** The host's paired devices (the devices page). */
  async devices(): Promise<readonly DeviceRecord[]> {
    const connection = this.#connection;
    if (connection === null) throw new RequestFailed("not connected to your phone", "session_closed");
    let devices: readonly DeviceRecord[] = [];
    await connection.request<Devices>({ t: "devices" }, (answer) => {
      devices = answer.devices;
    });
    return devices;
  }

  /** Carry out `change` on the host; resolves once it is committed there (its events follow). */
  async manage(change: Change): Promise<void> {
    const connection = this.#connection;
    if (connection === null) throw new RequestFailed("not connected to your phone", "session_closed");
    const ask = changeRequest(change);
    await connection.request(ask as Ask<ConvSet | ConvDelete | Contact | Revoke | Unschedule>, () => undefined);
  }

  async #issue(key: string, need: Need): Promise<void> {
    const connection = this.#connection;
    if (connection === null || this.#inflight.has(key)) return;
    const token = {};
    this.#inflight.set(key, token);
    const epoch = this.#epoch;
    try {
      await this.#run(connection, need, epoch);
      if (this.#epoch === epoch) this.#wanted.delete(key);
    } catch (err) {
      if (this.#epoch !== epoch) return;
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof RequestFailed && err.code === "session_closed") return; // asked again when synced
      this.#deps.onLog?.(`${key} refused: ${message}`);
      this.#wanted.delete(key);
      this.#refused.add(key);
      if (need.kind === "attachment") {
        await this.#deps.store.putAttachment({ att: need.att, error: message });
        this.#deps.onChanged();
      }
    } finally {
      if (this.#inflight.get(key) === token) this.#inflight.delete(key);
    }
  }

  #run(connection: Connection, need: Need, epoch: number): Promise<void> {
    switch (need.kind) {
      case "list":
        return this.#list(connection, need.folder ?? "inbox", epoch);
      case "thread":
        return this.#thread(connection, need.conv, need.ask, epoch);
      case "attachment":
        return this.#attachment(connection, need.att, epoch);
    }
  }

  async #list(connection: Connection, folder: Folder, epoch: number): Promise<void> {
    const { store } = this.#deps;
    const list = await store.list(folder);
    if (list !== null && list.low === null) return; // all of it is here
    const before = list?.low ?? null;
    await connection.request<Convs>(
      { t: "convs", before, limit: LIST_PAGE, folder },
      async (page) => {
        if (this.#epoch === epoch && (await store.applyConvPage(before, page, folder))) this.#deps.onChanged();
      },
    );
  }

  async #thread(connection: Connection, conv: number, ask: ThreadAsk, epoch: number): Promise<void> {
    const { store } = this.#deps;
    const segments = (await store.thread(conv))?.segments ?? [];
    const done = ask.kind === "newest" ? segmentAt(segments, null) !== null
      : ask.kind === "around" ? segments.some((s) => contains(s, ask.at))
      : ask.kind === "older" ? !segments.some((s) => samePosition(s.low, ask.low))
      : !segments.some((s) => samePosition(s.high, ask.high));
    if (done) return; // already cached, or the segment it extends is gone
    await connection.request<Thread>(
      { t: "thread", conv, ...threadBounds(ask), limit: THREAD_PAGE },
      async (page) => {
        if (page.conv !== conv || page.msgs.some((m) => m.conv !== conv)) {
          throw new RequestFailed(`a page of another conversation than ${conv}`, "bad_message");
        }
        if (this.#epoch === epoch && (await store.applyThreadPage(conv, ask, page))) this.#deps.onChanged();
      },
    );
  }

  async #attachment(connection: Connection, att: number, epoch: number): Promise<void> {
    const { store } = this.#deps;
    if ((await store.attachment(att)) !== null) return;
    const parts: Uint8Array[] = [];
    let offset = 0;
    let total = 0;
    let type = "";
    do {
      await connection.request<Fetch>({ t: "fetch", att, offset }, (chunk) => {
        const data = unb64(chunk.data);
        const bad = chunk.att !== att || chunk.offset !== offset || chunk.total > MAX_ATTACHMENT
          || data.length > CHUNK_BYTES || offset + data.length > chunk.total
          || (data.length === 0 && offset < chunk.total) || (offset > 0 && chunk.total !== total);
        if (bad) throw new RequestFailed(`a chunk that does not continue attachment ${att}`, "bad_message");
        parts.push(data);
        offset += data.length;
        total = chunk.total;
        type = chunk.type;
      });
      if (this.#epoch !== epoch) return;
    } while (offset < total);
    await store.putAttachment({ att, type, data: concat(...parts) });
    this.#deps.onChanged();
  }
}
