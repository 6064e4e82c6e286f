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
 */

import type { Random } from "../protocol/pairing";
import type { Ack, MessageRecord, Send } from "../protocol/messages";
import { toHex } from "../protocol/bytes";
import type { OutboxEntry, Store } from "./storage";

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
  return { t: "send", cmid: entry.cmid, to: entry.to, body: entry.body, at: entry.at ?? null };
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
}

/** What an outbox entry shows. */
export function entryStatus(entry: OutboxEntry): StatusView {
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

/** "failed: Number blocked", or just the status. */
export function statusText(view: StatusView): string {
  return view.status === "failed" && view.reason ? `failed: ${view.reason}` : view.status;
}
