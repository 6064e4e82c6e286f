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

/** A conversation's title: its name, else each participant's contact name or number. */
export function conversationTitle(conv: Pick<ConversationRecord, "name" | "peers"> & { readonly names?: readonly (string | null)[] }): string {
  return conv.name ?? conv.peers.map((peer, i) => conv.names?.[i] ?? peer).join(", ");
}

/** The document title: "(3) textport" when there are unread texts. */
export function documentTitle(unread: number): string {
  return unread > 0 ? `(${unread}) textport` : "textport";
}

/** A piece of a search snippet: text, and whether the host marked it as a match. */
export interface SnippetPart {
  readonly text: string;
  readonly match: boolean;
}

const MATCH_START = "\u0002";
const MATCH_END = "\u0003";

/**
 * A search snippet split at its marks: the host puts each match between U+0002
 * and U+0003 (docs/protocol.md section 9). The views render the parts as text
 * and <mark>, never as markup. A stray or unclosed mark just ends or starts a match.
 */
export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = [];
  let match = false;
  let text = "";
  for (const ch of snippet) {
    if (ch === MATCH_START || ch === MATCH_END) {
      if (text !== "") parts.push({ text, match });
      text = "";
      match = ch === MATCH_START;
    } else {
      text += ch;
    }
  }
  if (text !== "") parts.push({ text, match });
  return parts;
}

/** A snippet as plain text (for accessible names). */
export function snippetText(snippet: string): string {
  return snippet.replace(/[\u0002\u0003]/g, "");
}

/** "512 bytes", "48 KB", "1.2 MB". */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} ${bytes === 1 ? "byte" : "bytes"}`;
  if (bytes < 1_000_000) return `${Math.round(bytes / 1000)} KB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** What a person is told about a received text that came without some of its parts. */
export function partialText(parts: number, missing: readonly number[]): string | null {
  if (missing.length === 0) return null;
  const list = missing.length === 1 ? `Part ${missing[0]}` : `Parts ${missing.slice(0, -1).join(", ")} and ${missing.at(-1)}`;
  return `${list} of ${parts} never arrived: this text is incomplete.`;
}
