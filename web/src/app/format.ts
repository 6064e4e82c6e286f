/** Formatting for the views: times and peer names. Pure. */

import type { ConversationRecord } from "../protocol/messages";

/** "14:05" today, "Mon" this week, "12 Mar" this year, else "12 Mar 2024". */
export function shortTime(at: number, now: number, locale?: string): string {
  const date = new Date(at);
  const today = new Date(now);
  const sameDay = date.toDateString() === today.toDateString();
  if (sameDay) return date.toLocaleTimeString(locale, { hour: "numeric", minute: "2-digit" });
  const days = (now - at) / 86_400_000;
  if (days >= 0 && days < 6) return date.toLocaleDateString(locale, { weekday: "short" });
  if (date.getFullYear() === today.getFullYear()) {
    return date.toLocaleDateString(locale, { day: "numeric", month: "short" });
  }
  return date.toLocaleDateString(locale, { day: "numeric", month: "short", year: "numeric" });
}

/** A full date and time, for a tooltip. */
export function fullTime(at: number, locale?: string): string {
  return new Date(at).toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });
}

/** A conversation's title: its contact name, else its numbers. */
export function conversationTitle(conv: Pick<ConversationRecord, "name" | "peers">): string {
  return conv.name ?? conv.peers.join(", ");
}

/** The document title: "(3) textport" when there are unread texts. */
export function documentTitle(unread: number): string {
  return unread > 0 ? `(${unread}) textport` : "textport";
}
