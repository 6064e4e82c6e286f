/**
 * The paired view: conversation list (with search and "New conversation"),
 * the open thread with its composer, and the connection banner. On a phone
 * the list and the thread are separate screens; on a desktop side by side.
 */

import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import type { Client, ClientState } from "../client/client";
import type { ConnectionStatus } from "../client/connection";
import { NUMBER_HINT, normalizeNumber, samePeers } from "../client/numbers";
import { entryStatus, messageStatus, statusText, type StatusView } from "../client/outbox";
import type { OutboxEntry } from "../client/storage";
import type { ConversationRecord, MessageRecord } from "../protocol/messages";
import { Composer } from "./Composer";
import { conversationTitle, documentTitle, fullTime, shortTime } from "./format";
import { useNow, useSnapshot, useVisible } from "./hooks";

export type Selection =
  | { readonly kind: "conv"; readonly id: number }
  | { readonly kind: "number"; readonly number: string }
  | { readonly kind: "new" }
  | null;

/** The banner's words, or null when all is well. */
export function bannerText(status: ConnectionStatus | null): string | null {
  if (status === null) return null;
  if (status.relay === "unreachable") return "Can't reach the relay — retrying…";
  if (status.relay === "up" && status.hostOnline === false) {
    return "Your phone is offline — texts will wait here and send when it reconnects";
  }
  return null;
}

/** Search the list locally: name, numbers, snippet (case-insensitive; digits match across separators). */
export function filterConversations(list: readonly ConversationRecord[], query: string): ConversationRecord[] {
  const q = query.trim().toLowerCase();
  if (q === "") return [...list];
  const digits = q.replace(/[\s().-]/g, "");
  return list.filter((c) =>
    (c.name ?? "").toLowerCase().includes(q)
    || c.snippet.toLowerCase().includes(q)
    || c.peers.some((p) => p.toLowerCase().includes(q) || (digits !== "" && p.includes(digits))));
}

function Banner({ status }: { status: ConnectionStatus | null }) {
  const text = bannerText(status);
  return (
    <div class="banner-slot" role="status" aria-live="polite">
      {text !== null && <p class="banner warn">{text}</p>}
    </div>
  );
}

function ConversationItem(props: {
  conv: ConversationRecord;
  selected: boolean;
  now: number;
  onOpen(): void;
}) {
  const { conv, selected, now, onOpen } = props;
  const title = conversationTitle(conv);
  const time = shortTime(conv.last_at, now);
  const unread = conv.unread > 0 ? `, ${conv.unread} unread` : "";
  return (
    <li aria-label={`${title}${unread}, ${time}: ${conv.snippet}`} class={selected ? "selected" : ""}>
      <button type="button" class="conv" aria-current={selected ? "true" : undefined} onClick={onOpen}>
        <span class="conv-top">
          <span class={conv.unread > 0 ? "conv-name unread" : "conv-name"}>{title}</span>
          <time class="conv-time" dateTime={new Date(conv.last_at).toISOString()}>{time}</time>
        </span>
        <span class="conv-bottom">
          <span class="conv-snippet">{conv.snippet}</span>
          {conv.unread > 0 && (
            <span class="badge">{conv.unread}<span class="sr-only"> unread</span></span>
          )}
        </span>
      </button>
    </li>
  );
}

interface Bubble {
  readonly key: string;
  readonly dir: "in" | "out";
  readonly body: string;
  readonly at: number;
  readonly status: StatusView | null;
  readonly cmid: string | null;
  readonly local: boolean;
}

function bubbles(messages: readonly MessageRecord[], outbox: readonly OutboxEntry[]): Bubble[] {
  const host: Bubble[] = messages.map((m) => ({
    key: `m${m.id}`, dir: m.dir, body: m.body, at: m.at,
    status: m.dir === "out" ? messageStatus(m) : null, cmid: m.cmid, local: false,
  }));
  const local: Bubble[] = outbox.map((e) => ({
    key: `o${e.cmid}`, dir: "out", body: e.body, at: e.createdAt, status: entryStatus(e), cmid: e.cmid, local: true,
  }));
  // Local entries stay last: they are newer than anything the host has confirmed.
  return [...host, ...local];
}

function MessageItem({ bubble, now, client }: { bubble: Bubble; now: number; client: Client }) {
  const status = bubble.status;
  return (
    <li class={`bubble ${bubble.dir}`}>
      <p class="body">{bubble.body}</p>
      <p class="meta">
        <time dateTime={new Date(bubble.at).toISOString()} title={fullTime(bubble.at)}>{shortTime(bubble.at, now)}</time>
        {status !== null && (
          <span class={`status ${status.status}`}> · <span class="status-text">{statusText(status)}</span></span>
        )}
      </p>
      {bubble.local && status?.status === "failed" && bubble.cmid !== null && (
        <p class="actions">
          <button type="button" class="link" onClick={() => void client.retry(bubble.cmid!)}>Retry</button>
          <button type="button" class="link" onClick={() => void client.discard(bubble.cmid!)}>Delete</button>
        </p>
      )}
    </li>
  );
}

function Thread(props: {
  client: Client;
  title: string;
  subtitle: string | null;
  messages: readonly MessageRecord[];
  outbox: readonly OutboxEntry[];
  to: readonly string[];
  maxParts: number | null;
  onBack(): void;
}) {
  const { client, title, subtitle, messages, outbox, to, maxParts, onBack } = props;
  const now = useNow(30_000);
  const list = useRef<HTMLOListElement | null>(null);
  const box = useRef<HTMLTextAreaElement | null>(null);
  const items = bubbles(messages, outbox);
  // On a desktop, opening a conversation puts the cursor in its text box (not on a phone:
  // that would pop up the keyboard over the thread).
  useEffect(() => {
    if (typeof matchMedia === "function" && matchMedia("(min-width: 720px)").matches) box.current?.focus();
  }, []);
  const last = items.at(-1)?.key;
  useEffect(() => {
    const el = list.current;
    if (el !== null) el.scrollTop = el.scrollHeight;
  }, [last]);
  return (
    <section class="thread" aria-label={`Conversation with ${title}`}>
      <header class="thread-header">
        <button type="button" class="back" aria-label="Back to conversations" onClick={onBack}>‹</button>
        <div>
          <h2>{title}</h2>
          {subtitle !== null && <p class="muted">{subtitle}</p>}
        </div>
      </header>
      <ol class="messages" aria-label="Messages" ref={list} tabIndex={0}>
        {items.length === 0 && <li class="empty muted">No messages yet.</li>}
        {items.map((b) => <MessageItem key={b.key} bubble={b} now={now} client={client} />)}
      </ol>
      <Composer
        maxParts={maxParts}
        textareaRef={box}
        onSend={async (body) => {
          await client.send(to, body);
          return true;
        }}
      />
    </section>
  );
}

function NewConversation(props: {
  client: Client;
  conversations: readonly ConversationRecord[];
  maxParts: number | null;
  onOpen(selection: Selection): void;
  onBack(): void;
}) {
  const { client, conversations, maxParts, onOpen, onBack } = props;
  const [input, setInput] = useState("");
  const [error, setError] = useState<string | null>(null);
  const message = useRef<HTMLTextAreaElement | null>(null);
  const field = useRef<HTMLInputElement | null>(null);

  const target = (number: string): Selection => {
    const existing = conversations.find((c) => samePeers(c.peers, [number]));
    return existing !== undefined ? { kind: "conv", id: existing.id } : { kind: "number", number };
  };
  const check = (): string | null => {
    const result = normalizeNumber(field.current?.value ?? input);
    if (!result.ok) {
      setError(result.error);
      return null;
    }
    setError(null);
    return result.number;
  };

  return (
    <section class="thread new" aria-label="New conversation">
      <header class="thread-header">
        <button type="button" class="back" aria-label="Back to conversations" onClick={onBack}>‹</button>
        <h2>New conversation</h2>
      </header>
      <form
        class="to"
        onSubmit={(e) => {
          e.preventDefault();
          const number = check();
          if (number !== null) onOpen(target(number));
        }}
      >
        <label for="to-number">To</label>
        <input
          ref={field}
          id="to-number"
          type="tel"
          inputMode="tel"
          autoComplete="tel"
          aria-label="Phone number"
          aria-describedby="to-hint"
          aria-invalid={error !== null ? "true" : undefined}
          placeholder="+1 555 010 0100"
          value={input}
          autoFocus
          onInput={(e) => {
            setInput(e.currentTarget.value);
            if (error !== null) setError(null);
          }}
        />
        <p id="to-hint" class={error !== null ? "error" : "muted"} role={error !== null ? "alert" : undefined}>
          {error ?? NUMBER_HINT}
        </p>
      </form>
      <div class="messages" />
      <Composer
        maxParts={maxParts}
        textareaRef={message}
        onSend={async (body) => {
          const number = check();
          if (number === null) return false;
          await client.send([number], body);
          onOpen(target(number));
          return true;
        }}
      />
    </section>
  );
}

export function Messenger({ client, state }: { client: Client; state: ClientState }) {
  const [selection, setSelection] = useState<Selection>(null);
  const [query, setQuery] = useState("");
  const selectedConv = selection?.kind === "conv" ? selection.id : null;
  const snapshot = useSnapshot(client, selectedConv, state.version);
  const now = useNow(60_000);
  const { conversations, outbox } = snapshot;

  // A pending thread to a number becomes its conversation once the host has it.
  useEffect(() => {
    if (selection?.kind !== "number") return;
    const conv = conversations.find((c) => samePeers(c.peers, [selection.number]));
    if (conv !== undefined) setSelection({ kind: "conv", id: conv.id });
  }, [selection, conversations]);

  const current = selectedConv === null ? undefined : conversations.find((c) => c.id === selectedConv);

  // Opening a conversation (or a new text arriving in the open one, or coming back to the tab) marks it read.
  const visible = useVisible();
  useEffect(() => {
    if (current === undefined || current.unread === 0 || !visible) return;
    void client.markRead(current.id);
  }, [client, current?.id, current?.unread, visible]);

  const unread = conversations.reduce((sum, c) => sum + c.unread, 0);
  useEffect(() => {
    document.title = documentTitle(unread);
  }, [unread]);

  const shown = useMemo(() => filterConversations(conversations, query), [conversations, query]);
  const maxParts = state.caps?.max_parts ?? null;
  const back = (): void => setSelection(null);

  let pane = null;
  if (selection?.kind === "new") {
    pane = (
      <NewConversation client={client} conversations={conversations} maxParts={maxParts} onOpen={setSelection} onBack={back} />
    );
  } else if (selection?.kind === "number") {
    pane = (
      <Thread
        client={client} title={selection.number} subtitle={null} messages={[]}
        outbox={outbox.filter((e) => samePeers(e.to, [selection.number]))}
        to={[selection.number]} maxParts={maxParts} onBack={back}
      />
    );
  } else if (current !== undefined) {
    pane = (
      <Thread
        key={current.id}
        client={client}
        title={conversationTitle(current)}
        subtitle={current.name !== null ? current.peers.join(", ") : null}
        messages={snapshot.messages}
        outbox={outbox.filter((e) => samePeers(e.to, current.peers))}
        to={current.peers}
        maxParts={maxParts}
        onBack={back}
      />
    );
  }

  // Texts composed to numbers without a conversation yet show as list entries too.
  const pendingNumbers = [...new Set(outbox
    .filter((e) => e.to.length === 1 && !conversations.some((c) => samePeers(c.peers, e.to)))
    .map((e) => e.to[0]!))];

  return (
    <div class={`messenger ${pane !== null ? "has-pane" : ""}`}>
      <Banner status={state.status} />
      <div class="columns">
        <nav class="sidebar" aria-label="Conversations panel">
          <header class="sidebar-header">
            <h1 class="app-title">textport</h1>
            <p class="muted host-name">{state.pairing?.hostName}</p>
            <button type="button" class="primary" onClick={() => setSelection({ kind: "new" })}>
              New conversation
            </button>
          </header>
          <div class="search">
            <input
              type="search"
              aria-label="Search"
              placeholder="Search"
              value={query}
              onInput={(e) => setQuery(e.currentTarget.value)}
            />
          </div>
          <ul class="conversations" aria-label="Conversations">
            {pendingNumbers.filter((n) => query === "" || n.includes(query.trim())).map((number) => (
              <li key={`n${number}`} aria-label={`${number}, not sent yet`}>
                <button type="button" class="conv" onClick={() => setSelection({ kind: "number", number })}>
                  <span class="conv-top"><span class="conv-name">{number}</span></span>
                  <span class="conv-bottom"><span class="conv-snippet muted">Waiting to send</span></span>
                </button>
              </li>
            ))}
            {shown.map((conv) => (
              <ConversationItem
                key={conv.id}
                conv={conv}
                selected={conv.id === selectedConv}
                now={now}
                onOpen={() => setSelection({ kind: "conv", id: conv.id })}
              />
            ))}
          </ul>
          {conversations.length === 0 && pendingNumbers.length === 0 && (
            <p class="muted empty">{state.status?.ready ? "No conversations yet." : "Loading conversations…"}</p>
          )}
          {conversations.length > 0 && shown.length === 0 && <p class="muted empty">No conversation matches.</p>}
        </nav>
        <div class="pane">
          {pane ?? <p class="muted placeholder">Pick a conversation, or start a new one.</p>}
        </div>
      </div>
    </div>
  );
}
