/**
 * Texts composed in this browser, from the keyboard to the host's copy.
 *
 *   compose      -> outbox entry "queued", written durably BEFORE any send
 *   ack          -> "sending" (the host committed it; its msg_id is kept)
 *   error{ref}   -> "failed" with the host's message (also an ack in state failed)
 *   msg{cmid}    -> the entry leaves the outbox (storage.applyEvents), the host's copy shows instead
 *
 * Every "queued" entry is sent again after each `synced`: the host dedupes on
 * the cmid and answers a duplicate with the same ack. A retry of a failed text
 * is a new entry with a new cmid (the old one is refused for good), sent now.
 * A scheduled text carries its `at` in the entry, so one typed while the host
 * is away goes to the host, still scheduled, when it is back.
 *
 * A text waits at most the host's text lifetime (`caps.text_ttl_ms`, kept with
 * the pairing) from when the person pressed Send (`createdAt`, sent as
 * `created`; or its `at`, when later): past it, `expire` fails a queued entry
 * here, with or without the host, and it is never sent. The host applies the
 * same rule to a `send` that reaches it late (docs/protocol.md section 9).
 */

import type { Random } from "../protocol/pairing";
import type { Ack, MessageRecord, Send } from "../protocol/messages";
import { toHex } from "../protocol/bytes";
import type { OutboxEntry, Store } from "./storage";
import { unreachableReason } from "./wording";

/** What a queued text says while the host is away: it is not lost, it waits. */
export const WAITING_NOTE = "Will send when your phone reconnects";

/** A fresh client message id: 128 random bits as 32 lower-case hex characters. */
export function newCmid(random: Random): string {
  return toHex(random(16));
}

export interface Compose {
  readonly to: readonly string[];
  readonly body: string;
  /** When to send it (ms since the epoch); null or absent: now. */
  readonly at?: number | null;
}

/** Write a new text to the outbox, durably, and return it (state "queued"). */
export async function compose(
  store: Store,
  text: Compose,
  options: { now: () => number; random: Random },
): Promise<OutboxEntry> {
  const entry: OutboxEntry = {
    cmid: newCmid(options.random),
    to: [...text.to],
    body: text.body,
    createdAt: options.now(),
    state: "queued",
    reason: null,
    msgId: null,
    at: text.at ?? null,
  };
  await store.addOutbox(entry);
  return entry;
}

/** The wire message for an entry. */
export function sendMessage(entry: OutboxEntry): Send {
  return { t: "send", cmid: entry.cmid, to: entry.to, body: entry.body, at: entry.at ?? null, created: entry.createdAt };
}

/** When a queued entry stops being worth sending (ms): `ttl` after it was meant to go. */
export function expiresAt(entry: OutboxEntry, ttl: number): number {
  return Math.max(entry.createdAt, entry.at ?? 0) + ttl;
}

/**
 * Fail every queued entry whose time (`expiresAt`) has come, with a reason a
 * person can read: it will never be sent. `ttl` is the host's text lifetime
 * (ms). Returns the outbox as it is now and how many entries it failed.
 */
export async function expire(
  store: Store,
  now: number,
  ttl: number,
): Promise<{ outbox: OutboxEntry[]; failed: number }> {
  const outbox = await store.outbox();
  let failed = 0;
  for (const [index, entry] of outbox.entries()) {
    if (entry.state !== "queued" || expiresAt(entry, ttl) > now) continue;
    await store.updateOutbox(entry.cmid, (current) => {
      if (current.state !== "queued") return current; // acknowledged meanwhile
      failed += 1;
      const reason = unreachableReason(ttl, (current.at ?? 0) > current.createdAt);
      return (outbox[index] = { ...current, state: "failed", reason });
    });
  }
  return { outbox, failed };
}

/** When the next queued entry expires (ms), or null when none is queued. */
export function nextExpiry(entries: readonly OutboxEntry[], ttl: number): number | null {
  const times = entries.filter((entry) => entry.state === "queued").map((entry) => expiresAt(entry, ttl));
  return times.length === 0 ? null : Math.min(...times);
}

/** Apply the host's ack: "sending", or "failed" with its reason. False when the entry is gone. */
export function applyAck(store: Store, ack: Ack): Promise<boolean> {
  return store.updateOutbox(ack.cmid, (entry) =>
    ack.state === "failed"
      ? { ...entry, state: "failed", reason: ack.reason ?? "Failed", msgId: ack.msg_id }
      : { ...entry, state: "sending", msgId: ack.msg_id });
}

/** The host refused a send (`error` with ref = cmid). */
export function applyError(store: Store, cmid: string, message: string): Promise<boolean> {
  return store.updateOutbox(cmid, (entry) => ({ ...entry, state: "failed", reason: message || "Failed" }));
}

/** Try a failed text again: a new entry with a new cmid replaces it. */
export async function retry(
  store: Store,
  cmid: string,
  options: { now: () => number; random: Random },
): Promise<OutboxEntry | null> {
  const old = await store.outboxEntry(cmid);
  if (old === null || old.state !== "failed") return null;
  const entry = await compose(store, { to: old.to, body: old.body }, options);
  await store.removeOutbox(cmid);
  return entry;
}

/** The entries to (re)send now: everything the host has not acknowledged. */
export function unacknowledged(entries: readonly OutboxEntry[]): OutboxEntry[] {
  return entries.filter((entry) => entry.state === "queued");
}

/** The five statuses an outgoing text shows. */
export type Status = "queued" | "sending" | "sent" | "delivered" | "failed";

export interface StatusView {
  readonly status: Status;
  readonly reason: string | null;
  /** A scheduled text the host keeps until this time (ms): it can be cancelled meanwhile. */
  readonly scheduledFor?: number;
  /** What a queued text says besides its status (WAITING_NOTE while the host is away). */
  readonly note?: string;
}

/** What an outbox entry shows; `away`: the host cannot be reached now (connection.ts `hostAway`). */
export function entryStatus(entry: OutboxEntry, away = false): StatusView {
  if (entry.state === "queued" && away) return { status: "queued", reason: null, note: WAITING_NOTE };
  return { status: entry.state, reason: entry.state === "failed" ? entry.reason : null };
}

/**
 * What one of the host's outgoing messages shows. The host's "unknown" (it
 * crashed between handing the text to the modem and hearing back) is shown as
 * failed with a reason that says so, since SMS cannot be deduplicated.
 */
export function messageStatus(message: MessageRecord, now?: number): StatusView {
  switch (message.state) {
    case "queued":
      if (now !== undefined && message.at > now) return { status: "queued", reason: null, scheduledFor: message.at };
      return { status: "queued", reason: null };
    case "sending":
    case "sent":
    case "delivered":
      return { status: message.state, reason: null };
    case "failed":
      return { status: "failed", reason: message.reason ?? "Failed" };
    case "unknown":
      return { status: "failed", reason: message.reason ?? "It may or may not have been sent" };
    case "received":
      return { status: "delivered", reason: null };
  }
}

/** "failed: Number blocked", "queued · Will send when your phone reconnects", or just the status. */
export function statusText(view: StatusView): string {
  if (view.status === "failed" && view.reason) return `failed: ${view.reason}`;
  return view.note ? `${view.status} · ${view.note}` : view.status;
}
