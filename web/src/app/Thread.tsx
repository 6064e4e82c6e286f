/**
 * One conversation: its messages (pictures and files inline), paged from the
 * host as the list is scrolled, and the composer. It shows one cached segment
 * (keyset.ts): the newest one, which live texts extend, or the one around a
 * search hit, which pages both ways until it meets the newest. Scrolling to the
 * top asks for the page before it, to the bottom (around a hit) for the page
 * after it; a page added above keeps what is on screen in place.
 */

import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

import type { Client } from "../client/client";
import { hostAway } from "../client/connection";
import { entryStatus, messageStatus, statusText, type StatusView } from "../client/outbox";
import type { Need } from "../client/pager";
import type { OutboxEntry, ThreadSnapshot } from "../client/storage";
import { foldTapbacks, type Reaction } from "../client/tapback";
import type { AttachmentRecord, MessageRecord, Position } from "../protocol/messages";
import { Attachments } from "./Attachments";
import { Composer } from "./Composer";
import { fullTime, partialText, shortTime } from "./format";
import { useNow } from "./hooks";

/** How close to an end of the list (px) counts as there: the next page is asked for. */
const NEAR_END = 120;
/** How long a search hit stays highlighted (ms). */
const HIT_HIGHLIGHT = 4000;
const NO_NAMES: ReadonlyMap<string, string> = new Map();
const NO_DELIVERY_REPORTS = "Sent. This phone's SMS source cannot tell whether it was delivered.";

interface Bubble {
  readonly key: string;
  readonly msgId: number | null;
  readonly dir: "in" | "out";
  /** Who wrote it, in a group; null otherwise. */
  readonly sender: string | null;
  readonly subject: string | null;
  readonly body: string;
  readonly atts: readonly AttachmentRecord[];
  readonly at: number;
  readonly status: StatusView | null;
  readonly cmid: string | null;
  readonly local: boolean;
  /** What is missing from a text that came in without some of its parts; null when whole. */
  readonly partial: string | null;
}

/** `away`: the host cannot be reached now, so a queued text says it waits. */
function bubbles(messages: readonly MessageRecord[], outbox: readonly OutboxEntry[], now: number, away: boolean): Bubble[] {
  const host: Bubble[] = messages.map((m) => ({
    key: `m${m.id}`, msgId: m.id, dir: m.dir, sender: m.dir === "in" && m.peers.length > 1 && m.sender !== "" ? m.sender : null,
    subject: m.subject, body: m.body, atts: m.atts, at: m.at,
    status: m.dir === "out" ? messageStatus(m, now) : null, cmid: m.cmid, local: false,
    partial: partialText(m.parts, m.missing),
  }));
  const local: Bubble[] = outbox.map((e) => ({
    key: `o${e.cmid}`, msgId: null, dir: "out", sender: null, subject: null, body: e.body, atts: [], at: e.createdAt,
    status: entryStatus(e, away), cmid: e.cmid, local: true, partial: null,
  }));
  // Local entries stay last: they are newer than anything the host has confirmed.
  return [...host, ...local];
}

const REACTION_VERBS: Readonly<Record<Reaction["kind"], string>> = {
  like: "Liked", love: "Loved", dislike: "Disliked", laugh: "Laughed at", emphasize: "Emphasized", question: "Questioned",
};

function MessageItem(
  props: {
    bubble: Bubble; now: number; client: Client; version: number; hit: boolean; deliveryReports: boolean;
    senderNames: ReadonlyMap<string, string>;
    /** iPhone tapbacks on this message (Thread folds them out of the list). */
    reactions?: readonly Reaction[] | undefined;
    /** Send a failed text of the host's again, as a new text. */
    onResend?: (body: string) => void;
  },
) {
  const { bubble, now, client, version, hit, deliveryReports, senderNames, reactions = [], onResend } = props;
  const status = bubble.status;
  /** Why the host did not cancel this scheduled text (it was already being sent). */
  const [refused, setRefused] = useState<string | null>(null);
  const who = (from: string): string => (from === "" ? "you" : senderNames.get(from) ?? from);
  return (
    <li class={`bubble ${bubble.dir}${hit ? " hit" : ""}`} data-msg={bubble.msgId ?? undefined}>
      {bubble.sender !== null && <p class="sender">{senderNames.get(bubble.sender) ?? bubble.sender}</p>}
      {bubble.subject !== null && <p class="subject">{bubble.subject}</p>}
      {bubble.atts.length > 0 && <Attachments client={client} atts={bubble.atts} version={version} />}
      {bubble.body !== "" && <p class="body">{bubble.body}</p>}
      {bubble.partial !== null && <p class="partial" role="note">{bubble.partial}</p>}
      {reactions.length > 0 && (
        <p
          class="reactions"
          aria-label={`Reactions: ${reactions.map((r) => `${REACTION_VERBS[r.kind]} by ${who(r.from)}`).join(", ")}`}
        >
          {reactions.map((r) => <span key={r.from} class="reaction" title={`${REACTION_VERBS[r.kind]} by ${who(r.from)}`}>{r.emoji}</span>)}
        </p>
      )}
      <p class="meta">
        <time dateTime={new Date(bubble.at).toISOString()} title={fullTime(bubble.at)}>{shortTime(bubble.at, now)}</time>
        {status !== null && (
          <span class={`status ${status.status}`}>
            {" · "}
            <span
              class="status-text"
              title={status.status === "sent" && !deliveryReports ? NO_DELIVERY_REPORTS : undefined}
            >
              {status.scheduledFor !== undefined ? `scheduled for ${fullTime(status.scheduledFor)}` : statusText(status)}
            </span>
          </span>
        )}
      </p>
      {status?.scheduledFor !== undefined && bubble.msgId !== null && (
        <p class="actions">
          <button
            type="button"
            class="link"
            aria-label={`Cancel the text scheduled for ${fullTime(status.scheduledFor)}`}
            onClick={() => {
              setRefused(null);
              client.unschedule(bubble.msgId!).catch((err: unknown) => setRefused(err instanceof Error ? err.message : String(err)));
            }}
          >
            Cancel
          </button>
          {refused !== null && <span class="error" role="alert"> Not cancelled: {refused}</span>}
        </p>
      )}
      {bubble.local && status?.status === "failed" && bubble.cmid !== null && (
        <p class="actions">
          <button type="button" class="link" onClick={() => void client.retry(bubble.cmid!)}>Retry</button>
          <button type="button" class="link" onClick={() => void client.discard(bubble.cmid!)}>Delete</button>
        </p>
      )}
      {!bubble.local && bubble.dir === "out" && status?.status === "failed" && onResend !== undefined && (
        <p class="actions">
          <button type="button" class="link" onClick={() => onResend(bubble.body)}>Retry</button>
        </p>
      )}
    </li>
  );
}

export interface ThreadProps {
  client: Client;
  version: number;
  title: string;
  subtitle: string | null;
  /** The conversation (null: a text to a number that has none yet). */
  conv: number | null;
  /** Its cached segment and messages (null: not read yet, or no conversation). */
  thread: ThreadSnapshot | null;
  /** A search hit to show: its `[at, id]` (null: the newest messages). */
  hit: Position | null;
  outbox: readonly OutboxEntry[];
  to: readonly string[];
  maxParts: number | null;
  /** The host's SMS source reports delivery: "sent" is not yet the last word. */
  deliveryReports: boolean;
  /** The conversation's options menu (ConversationMenu), in the header. */
  menu?: ComponentChildren;
  /** Contact names of a group's participants, by number. */
  senderNames?: ReadonlyMap<string, string>;
  onBack(): void;
}

export function Thread(props: ThreadProps) {
  const { client, version, title, subtitle, conv, thread, hit, outbox, to, maxParts, deliveryReports, onBack } = props;
  const senderNames = props.senderNames ?? NO_NAMES;
  const now = useNow(30_000);
  const list = useRef<HTMLOListElement | null>(null);
  const box = useRef<HTMLTextAreaElement | null>(null);
  const segment = thread?.segment ?? null;
  // Texts waiting in the outbox belong below the newest messages, not below a search hit's.
  const newest = segment === null || segment.high === null;
  const all = bubbles(thread?.messages ?? [], newest ? outbox : [], now, hostAway(client.state.status));
  // iPhone tapbacks ("Loved “…”") show on the message they quote, not as texts of their own.
  const folded = foldTapbacks(all, (b) => b.body, (b) => (b.dir === "out" ? "" : b.sender ?? to.join(",")));
  const items = all.filter((_, i) => !folded.hidden.has(i));
  const reactionsOf = new Map([...folded.reactions].map(([i, list]) => [all[i]!.key, list]));
  /** What the list showed after the last render: its ends, its height, whether it was the newest segment. */
  const shown = useRef<{ first: string; last: string; height: number; newest: boolean } | null>(null);
  const [highlight, setHighlight] = useState<number | null>(null);
  const hitShown = useRef(false);

  const need = (n: Need): void => client.need(n);

  // On a desktop, opening a conversation puts the cursor in its text box (not on a phone:
  // that would pop up the keyboard over the thread).
  useEffect(() => {
    if (typeof matchMedia === "function" && matchMedia("(min-width: 720px)").matches) box.current?.focus();
  }, []);

  // Nothing cached to show: ask for the newest page, or the one ending at the hit.
  useEffect(() => {
    if (conv === null || thread === null || segment !== null) return;
    need({ kind: "thread", conv, ask: hit === null ? { kind: "newest" } : { kind: "around", at: hit } });
  }, [client, conv, thread === null, segment === null, hit?.[0], hit?.[1], version]);

  /** Ask for the next page at whichever end of the list is in view. */
  const page = (el: HTMLElement): void => {
    if (conv === null || segment === null) return;
    if (segment.low !== null && el.scrollTop < NEAR_END) {
      need({ kind: "thread", conv, ask: { kind: "older", low: segment.low } });
    }
    if (segment.high !== null && el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_END) {
      need({ kind: "thread", conv, ask: { kind: "newer", high: segment.high } });
    }
  };

  useLayoutEffect(() => {
    const el = list.current;
    const first = items[0]?.key;
    const last = items.at(-1)?.key;
    if (el === null || first === undefined || last === undefined) return;
    const before = shown.current;
    const hitKey = hit === null ? null : `m${hit[1]}`;
    if (hitKey !== null && !hitShown.current && items.some((b) => b.key === hitKey)) {
      hitShown.current = true;
      el.querySelector(`[data-msg="${hit![1]}"]`)?.scrollIntoView({ block: "center" });
      setHighlight(hit![1]);
    } else if (before === null) {
      if (hit === null) el.scrollTop = el.scrollHeight;
    } else if (first !== before.first && last === before.last) {
      el.scrollTop += el.scrollHeight - before.height; // a page came in above: keep the view still
    } else if (last !== before.last && before.newest && before.height - el.scrollTop - el.clientHeight < NEAR_END) {
      el.scrollTop = el.scrollHeight; // a new text at the bottom, which was in view: follow it
    }
    shown.current = { first, last, height: el.scrollHeight, newest };
    page(el);
  });

  useEffect(() => {
    if (highlight === null) return;
    const timer = setTimeout(() => setHighlight(null), HIT_HIGHLIGHT);
    return () => clearTimeout(timer);
  }, [highlight]);

  const loading = conv !== null && segment === null;
  return (
    <section class="thread" aria-label={`Conversation with ${title}`}>
      <header class="thread-header">
        <button type="button" class="back" aria-label="Back to conversations" onClick={onBack}>‹</button>
        <div class="thread-title">
          <h2>{title}</h2>
          {subtitle !== null && <p class="muted">{subtitle}</p>}
        </div>
        {props.menu}
      </header>
      <ol
        class="messages"
        aria-label="Messages"
        aria-busy={loading ? "true" : undefined}
        ref={list}
        tabIndex={0}
        onScroll={(event) => page(event.currentTarget)}
      >
        {segment !== null && segment.low !== null && (
          <li class="more muted" role="status">Loading older messages…</li>
        )}
        {loading && <li class="more muted" role="status">Loading messages…</li>}
        {!loading && items.length === 0 && <li class="empty muted">No messages yet.</li>}
        {items.map((b) => (
          <MessageItem
            key={b.key} bubble={b} now={now} client={client} version={version} hit={b.msgId === highlight}
            deliveryReports={deliveryReports} senderNames={senderNames} reactions={reactionsOf.get(b.key)}
            onResend={(body) => void client.send(to, body)}
          />
        ))}
        {segment !== null && segment.high !== null && (
          <li class="more muted" role="status">Loading newer messages…</li>
        )}
      </ol>
      <Composer
        key={to.join(",")}
        maxParts={maxParts}
        textareaRef={box}
        mms={client.state.caps?.mms ?? false}
        draft={to.length === 0 ? undefined : { load: () => client.store.draft(to), save: (body) => void client.store.saveDraft(to, body) }}
        onSend={async (body, at) => {
          await client.send(to, body, at ?? null);
          return true;
        }}
      />
    </section>
  );
}
