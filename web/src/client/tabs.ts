/**
 * One tab owns the connection; every tab renders from IndexedDB.
 *
 * The owner holds the Web Lock "textport-connection" for as long as it lives
 * (the browser releases it when the tab closes, and the next waiting tab gets
 * it). Tabs tell each other about changes on the BroadcastChannel "textport":
 *
 *   changed            the cache or outbox changed: re-read IndexedDB
 *   outbox             a non-owner wrote an outbox entry: owner, send it
 *   read {conv}        a non-owner opened a conversation: owner, tell the host
 *   status {status}    the owner's connection status (for the banner)
 *   status?            a new tab asks the owner for its status
 *   pairing            the pairing changed here: re-read it
 *   unpaired {hostName} the host unpaired this browser
 *   need {need}        a non-owner's view needs history: owner, page it (pager.ts)
 *   search {id, query, before}   a non-owner searches: owner, ask the host
 *   results {id, results, error} the owner's answer to that search
 *   manage {id, change}          a non-owner changes a conversation: owner, ask the host
 *   managed {id, error}          the owner's answer: done (error null) or why not
 */

import { type DeviceRecord, FOLDERS, type Results } from "../protocol/messages";
import type { ConnectionStatus } from "./connection";
import type { Change, Need } from "./pager";
import type { ThreadAsk } from "./storage";

export const LOCK_NAME = "textport-connection";
export const CHANNEL_NAME = "textport";

export type TabMessage =
  | { readonly type: "changed" }
  | { readonly type: "outbox" }
  | { readonly type: "read"; readonly conv: number }
  | { readonly type: "status"; readonly status: ConnectionStatus }
  | { readonly type: "status?" }
  | { readonly type: "pairing" }
  | { readonly type: "unpaired"; readonly hostName: string }
  | { readonly type: "need"; readonly need: Need }
  | { readonly type: "search"; readonly id: string; readonly query: string; readonly before: number | null }
  | { readonly type: "results"; readonly id: string; readonly results: Results | null; readonly error: string | null }
  | { readonly type: "manage"; readonly id: string; readonly change: Change }
  | { readonly type: "managed"; readonly id: string; readonly error: string | null }
  | { readonly type: "devices?"; readonly id: string }
  | { readonly type: "devices"; readonly id: string; readonly devices: readonly DeviceRecord[] | null; readonly error: string | null }
  | { readonly type: "device-changed"; readonly change: "paired" | "unpaired"; readonly name: string };

/** The little of BroadcastChannel this needs. */
export interface Channel {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  close(): void;
}

/** The little of navigator.locks this needs. */
export interface Locks {
  request(name: string, callback: (lock: unknown) => Promise<unknown>): Promise<unknown>;
}

const TYPES = new Set(["changed", "outbox", "read", "status", "status?", "pairing", "unpaired", "need", "search", "results", "manage",
  "managed", "devices?", "devices", "device-changed"]);

function isId(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isPosition(value: unknown): boolean {
  return Array.isArray(value) && value.length === 2 && isId(value[0]) && isId(value[1]);
}

function isAsk(value: unknown): value is ThreadAsk {
  if (typeof value !== "object" || value === null) return false;
  const ask = value as Record<string, unknown>;
  switch (ask["kind"]) {
    case "newest":
      return true;
    case "older":
      return isPosition(ask["low"]);
    case "newer":
      return isPosition(ask["high"]);
    case "around":
      return isPosition(ask["at"]);
    default:
      return false;
  }
}

function isNeed(value: unknown): value is Need {
  if (typeof value !== "object" || value === null) return false;
  const need = value as Record<string, unknown>;
  switch (need["kind"]) {
    case "list":
      return need["folder"] === undefined || (FOLDERS as readonly unknown[]).includes(need["folder"]);
    case "thread":
      return isId(need["conv"]) && isAsk(need["ask"]);
    case "attachment":
      return isId(need["att"]);
    default:
      return false;
  }
}

function isChange(value: unknown): value is Change {
  if (typeof value !== "object" || value === null) return false;
  const change = value as Record<string, unknown>;
  switch (change["kind"]) {
    case "flags": {
      const flags = change["flags"];
      return isId(change["conv"]) && typeof flags === "object" && flags !== null
        && Object.entries(flags).every(([flag, on]) =>
          ["pinned", "archived", "muted", "blocked", "unread"].includes(flag) && typeof on === "boolean");
    }
    case "delete":
      return isId(change["conv"]);
    case "contact":
      return typeof change["number"] === "string" && (change["name"] === null || typeof change["name"] === "string");
    case "revoke":
      return typeof change["deviceId"] === "string";
    default:
      return false;
  }
}

/** Check a message from another tab (same origin, but still data). */
export function parseTabMessage(data: unknown): TabMessage | null {
  if (typeof data !== "object" || data === null) return null;
  const type = (data as { type?: unknown }).type;
  if (typeof type !== "string" || !TYPES.has(type)) return null;
  const message = data as TabMessage;
  if (message.type === "read" && !Number.isSafeInteger(message.conv)) return null;
  if (message.type === "unpaired" && typeof message.hostName !== "string") return null;
  if (message.type === "status" && (typeof message.status !== "object" || message.status === null)) return null;
  if (message.type === "need" && !isNeed(message.need)) return null;
  if (message.type === "search" && (typeof message.id !== "string" || typeof message.query !== "string"
    || (message.before !== null && !isId(message.before)))) return null;
  if (message.type === "results" && (typeof message.id !== "string"
    || (message.results === null) === (typeof message.error !== "string")
    || (message.results !== null && !Array.isArray(message.results.hits)))) return null;
  if (message.type === "manage" && (typeof message.id !== "string" || !isChange(message.change))) return null;
  if (message.type === "managed" && (typeof message.id !== "string"
    || (message.error !== null && typeof message.error !== "string"))) return null;
  if (message.type === "devices?" && typeof message.id !== "string") return null;
  if (message.type === "devices" && (typeof message.id !== "string"
    || (message.devices === null) === (typeof message.error !== "string")
    || (message.devices !== null && !Array.isArray(message.devices)))) return null;
  if (message.type === "device-changed" && (typeof message.name !== "string"
    || (message.change !== "paired" && message.change !== "unpaired"))) return null;
  return message;
}

export class Tabs {
  readonly #channel: Channel | null;
  readonly #locks: Locks | null;
  readonly #lock: string;
  readonly #listeners = new Set<(message: TabMessage) => void>();

  constructor(options: { channel: Channel | null; locks: Locks | null; lock?: string }) {
    this.#channel = options.channel;
    this.#locks = options.locks;
    this.#lock = options.lock ?? LOCK_NAME;
    this.#channel?.addEventListener("message", (event) => {
      const message = parseTabMessage(event.data);
      if (message !== null) for (const listener of this.#listeners) listener(message);
    });
  }

  /**
   * The browser's own: BroadcastChannel and Web Locks where they exist. Each
   * host slot (hosts.ts) has its own channel and lock names.
   */
  static browser(names: { channel: string; lock: string } = { channel: CHANNEL_NAME, lock: LOCK_NAME }): Tabs {
    const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(names.channel) : null;
    const locks = typeof navigator !== "undefined" && "locks" in navigator ? navigator.locks : null;
    return new Tabs({ channel, locks, lock: names.lock });
  }

  /** Tell the other tabs (never this one). */
  post(message: TabMessage): void {
    this.#channel?.postMessage(message);
  }

  /** Listen to the other tabs; returns the unsubscribe function. */
  listen(listener: (message: TabMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Call `becomeOwner` once this tab holds the connection lock, and keep the
   * lock until the tab closes. Without Web Locks every tab owns its own.
   */
  own(becomeOwner: () => void): void {
    if (this.#locks === null) {
      becomeOwner();
      return;
    }
    let owned = false;
    this.#locks
      .request(this.#lock, () => {
        owned = true;
        becomeOwner();
        return new Promise<never>(() => undefined); // held until the tab goes away
      })
      .catch(() => {
        // Web Locks refused (e.g. an opaque origin): better two connections than none.
        if (!owned) becomeOwner();
      });
  }

  close(): void {
    this.#channel?.close();
  }
}
