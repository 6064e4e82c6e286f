/**
 * The paired view: conversation list (paged as it is scrolled, with search and
 * "New conversation"), the open thread with its composer, and the connection
 * banner. On a phone the list and the thread are separate screens; on a
 * desktop side by side.
 *
 * The list has three views: the inbox (pinned conversations on top), archived
 * and blocked. Each conversation has an options menu (ConversationMenu.tsx);
 * its changes are made on the host and come back as events, so every view and
 * every paired browser follows. The unread count is in the tab's title and icon.
 */

import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";

import type { Client, ClientState } from "../client/client";
import type { ConnectionStatus } from "../client/connection";
import { NUMBER_HINT, normalizeNumber, samePeers } from "../client/numbers";
import type { Change, Flag } from "../client/pager";
import { folderOf, type ListState } from "../client/storage";
import type { ConversationRecord, Folder, Position } from "../protocol/messages";
import { Composer } from "./Composer";
import { ConversationMenu, DeleteDialog, type MenuAction, NameDialog, NamesDialog } from "./ConversationMenu";
import { DeviceNotice, DevicesPage } from "./Devices";
import { useFavicon } from "./favicon";
import { conversationTitle, documentTitle, shortTime } from "./format";
import { useNow, useSnapshot, useVisible } from "./hooks";
import { UpdateBanner } from "./Install";
import { NotificationPrompt, NotificationSettings, useNotifications } from "./Notifications";
import { step } from "./keymap";
import { ShortcutsHelp, useShortcuts } from "./Shortcuts";
import { SearchResults } from "./Search";
import { Thread } from "./Thread";

/** How close to the end of the conversation list (px) asks for its next page. */
const NEAR_END = 200;
/**
 * This tab's open conversation at each phone (sessionStorage, by the phone's
 * room), so a reload, or coming back to that phone, shows it again from the cache.
 */
const OPEN_KEY = "textport:open";

function remembered(room: string): number | null {
  try {
    const id = Number(sessionStorage.getItem(`${OPEN_KEY}:${room}`) ?? "");
    return Number.isSafeInteger(id) && id > 0 ? id : null;
  } catch {
    return null; // storage refused (e.g. some private modes): nothing to restore
  }
}

/** Open `conv` when this phone's messenger shows next (null: the list only). */
export function remember(room: string, conv: number | null): void {
  try {
    if (conv === null) sessionStorage.removeItem(`${OPEN_KEY}:${room}`);
    else sessionStorage.setItem(`${OPEN_KEY}:${room}`, String(conv));
  } catch {
    // storage refused: a reload opens the list only
  }
}

export type Selection =
  /** A conversation; `hit`: the `[at, id]` of a search hit to show in it. */
  | { readonly kind: "conv"; readonly id: number; readonly hit: Position | null }
  | { readonly kind: "number"; readonly number: string }
  | { readonly kind: "new" }
  /** The devices page (Devices.tsx). */
  | { readonly kind: "devices" }
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

/** The list views: the inbox shows the pinned folder above its own. */
export type View = Exclude<Folder, "pinned">;
const VIEWS: readonly { view: View; label: string; list: string; empty: string }[] = [
  { view: "inbox", label: "Inbox", list: "Conversations", empty: "No conversations yet." },
  { view: "archived", label: "Archived", list: "Archived conversations", empty: "No archived conversations." },
  { view: "blocked", label: "Blocked", list: "Blocked conversations", empty: "No blocked conversations. Their texts are kept here, without notifications." },
];

/** A conversation's accessible name in the list: title, flags, unread, time and snippet. */
export function itemLabel(conv: ConversationRecord, title: string, time: string): string {
  const flags = [conv.pinned && "pinned", conv.muted && "muted", conv.blocked && "blocked"].filter(Boolean);
  const unread = conv.unread > 0 ? `, ${conv.unread} unread` : "";
  return `${title}${flags.map((f) => `, ${f}`).join("")}${unread}, ${time}: ${conv.snippet}`;
}

/** Search the list locally: name, numbers, snippet (case-insensitive; digits match across separators). */
export function filterConversations(list: readonly ConversationRecord[], query: string): ConversationRecord[] {
  const q = query.trim().toLowerCase();
  if (q === "") return [...list];
  const digits = q.replace(/[\s().-]/g, "");
  return list.filter((c) =>
    (c.name ?? "").toLowerCase().includes(q)
    || c.names.some((n) => n !== null && n.toLowerCase().includes(q))
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
  onAction(action: MenuAction): void;
}) {
  const { conv, selected, now, onOpen, onAction } = props;
  const title = conversationTitle(conv);
  const time = shortTime(conv.last_at, now);
  return (
    <li aria-label={itemLabel(conv, title, time)} class={`${selected ? "selected" : ""}${conv.pinned ? " pinned" : ""}`}>
      <button type="button" class="conv" aria-current={selected ? "true" : undefined} onClick={onOpen}>
        <span class="conv-top">
          <span class={conv.unread > 0 ? "conv-name unread" : "conv-name"}>{title}</span>
          {conv.pinned && <span class="flag" role="img" aria-label="Pinned" title="Pinned">📌</span>}
          {conv.muted && <span class="flag" role="img" aria-label="Muted" title="Muted">🔕</span>}
          <time class="conv-time" dateTime={new Date(conv.last_at).toISOString()}>{time}</time>
        </span>
        <span class="conv-bottom">
          <span class="conv-snippet">{conv.snippet}</span>
          {conv.unread > 0 && (
            <span class="badge">{conv.unread}<span class="sr-only"> unread</span></span>
          )}
        </span>
      </button>
      <ConversationMenu conv={conv} title={title} onAction={onAction} />
    </li>
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
  // The cursor starts in "To" (autofocus works on a page's load only, not in a pane opened
  // later), as the pane appears: a layout effect, not one left for after the next frame.
  useLayoutEffect(() => field.current?.focus(), []);

  const target = (number: string): Selection => {
    const existing = conversations.find((c) => samePeers(c.peers, [number]));
    return existing !== undefined ? { kind: "conv", id: existing.id, hit: null } : { kind: "number", number };
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
        onSend={async (body, at) => {
          const number = check();
          if (number === null) return false;
          await client.send([number], body, at ?? null);
          onOpen(target(number));
          return true;
        }}
      />
    </section>
  );
}

/**
 * The sidebar's scrolling lists; near the end, the next page of conversations is
 * asked for (not while `paging` is off: a search filters what is paged).
 */
function SidebarLists(props: {
  client: Client;
  folder: View;
  list: ListState;
  pinnedList: ListState;
  paging: boolean;
  version: number;
  children: ComponentChildren;
}) {
  const { client, folder, list, pinnedList, paging, version, children } = props;
  const scroller = useRef<HTMLDivElement | null>(null);
  const more = (): void => {
    const el = scroller.current;
    // The pinned ones are one page, asked for with the inbox's first.
    if (folder === "inbox" && pinnedList === "unpaged") client.need({ kind: "list", folder: "pinned" });
    if (el === null || list === "complete" || (!paging && list !== "unpaged")) return;
    if (list === "unpaged" || el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_END) {
      client.need(folder === "inbox" ? { kind: "list" } : { kind: "list", folder });
    }
  };
  // Also when the list does not fill the panel yet, and after every page.
  useLayoutEffect(more, [client, folder, list, pinnedList, paging, version]);
  return <div class="lists" ref={scroller} onScroll={more}>{children}</div>;
}

export interface MessengerProps {
  client: Client;
  state: ClientState;
  /** The switcher between phones (Phones.tsx), when this browser has several. */
  phones?: ComponentChildren;
  /** Unread texts at the other phones: the title and icon count them too. */
  otherUnread?: number;
  /** Pair this browser with another phone. */
  onAddPhone?: () => void;
}

export function Messenger({ client, state, phones = null, otherUnread = 0, onAddPhone }: MessengerProps) {
  const [selection, setSelection] = useState<Selection>(null);
  const [query, setQuery] = useState("");
  const [view, setView] = useState<View>("inbox");
  const [notice, setNotice] = useState<string | null>(null);
  const [dialog, setDialog] = useState<{ kind: "delete" | "rename" | "names"; conv: ConversationRecord } | null>(null);
  const selectedConv = selection?.kind === "conv" ? selection.id : null;
  const hit = selection?.kind === "conv" ? selection.hit : null;
  const snapshot = useSnapshot(client, selectedConv, hit, state.version, view);
  const now = useNow(60_000);
  const { outbox } = snapshot;
  /** Every cached conversation: finding one by id or number looks in every folder. */
  const conversations = snapshot.all;
  // Until the snapshot of a newly chosen view is read, the one before may still be here:
  // nothing of another folder is shown under this view's name.
  const listed = (view === "inbox" ? [...snapshot.pinned, ...snapshot.conversations] : snapshot.conversations)
    .filter((c) => folderOf(c) === view || (view === "inbox" && folderOf(c) === "pinned"));

  const change = (what: Change): void => {
    setNotice(null);
    client.manage(what).catch((err: unknown) => {
      setNotice(`${err instanceof Error ? err.message : String(err)}`);
    });
  };
  const act = (conv: ConversationRecord, action: MenuAction): void => {
    if (action.kind !== "change") {
      setDialog({ kind: action.kind, conv });
      return;
    }
    // Marked unread: close it, or opening it would mark it read again at once. Archived or
    // blocked: it leaves this view, and the thread closes with it (as in Google Messages).
    const flags: Partial<Record<Flag, boolean>> = action.change.kind === "flags" ? action.change.flags : {};
    if (conv.id === selectedConv && (flags.unread === true || flags.archived === true || flags.blocked === true)) {
      setSelection(null);
    }
    change(action.change);
  };

  // After a reload, the conversation this tab had open opens again, from the cache.
  const room = state.pairing?.room ?? "";
  const [restore] = useState(() => remembered(room));
  const restored = useRef(false);
  useEffect(() => {
    if (restored.current || !snapshot.current) return;
    restored.current = true;
    if (restore !== null && selection === null && conversations.some((c) => c.id === restore)) {
      setSelection({ kind: "conv", id: restore, hit: null });
    } else {
      remember(room, selectedConv);
    }
  }, [snapshot.current, conversations]);
  useEffect(() => {
    if (restored.current) remember(room, selectedConv);
  }, [selectedConv]);

  // A pending thread to a number becomes its conversation once the host has it.
  useEffect(() => {
    if (selection?.kind !== "number") return;
    const conv = conversations.find((c) => samePeers(c.peers, [selection.number]));
    if (conv !== undefined) setSelection({ kind: "conv", id: conv.id, hit: null });
  }, [selection, conversations]);

  const thread = selectedConv !== null && snapshot.current ? snapshot.thread : null;
  const current = thread?.conversation ?? conversations.find((c) => c.id === selectedConv) ?? null;

  // Opening a conversation (or a new text arriving in the open one, or coming back to the tab) marks it read.
  const visible = useVisible();
  // Notifications (Notifications.tsx): none for the conversation shown here while visible; a click opens its thread.
  useNotifications(client, visible ? selectedConv : null, (id) => {
    setView("inbox");
    setSelection({ kind: "conv", id, hit: null });
  });
  const [overlay, setOverlay] = useState<"help" | "notifications" | null>(null);
  const searchBox = useRef<HTMLInputElement | null>(null);
  useEffect(() => {
    if (current === null || current.unread === 0 || !visible) return;
    void client.markRead(current.id);
  }, [client, current?.id, current?.unread, visible]);

  const unread = snapshot.unread + otherUnread;
  useEffect(() => {
    document.title = documentTitle(unread);
  }, [unread]);
  useFavicon(unread);

  const searching = query.trim() !== "";
  const shown = useMemo(() => filterConversations(listed, query), [listed, query]);
  const viewInfo = VIEWS.find((v) => v.view === view)!;
  const maxParts = state.caps?.max_parts ?? null;
  const deliveryReports = state.caps?.delivery_reports ?? true;
  const back = (): void => setSelection(null);

  // Keyboard shortcuts (keymap.ts): conversations in the order listed.
  useShortcuts((command) => {
    switch (command) {
      case "next":
      case "previous": {
        const id = step(shown.map((c) => c.id), selectedConv, command === "next" ? 1 : -1);
        if (id !== null) setSelection({ kind: "conv", id, hit: null });
        break;
      }
      case "search":
        if (searchBox.current?.offsetParent === null) setSelection(null); // a phone shows the thread alone
        requestAnimationFrame(() => searchBox.current?.focus());
        break;
      case "new":
        setSelection({ kind: "new" });
        break;
      case "archive":
        if (current !== null && !current.archived) act(current, { kind: "change", change: { kind: "flags", conv: current.id, flags: { archived: true } } });
        break;
      case "help":
        setOverlay("help");
        break;
    }
  });

  let pane = null;
  if (selection?.kind === "devices") {
    pane = <DevicesPage client={client} state={state} onBack={back} />;
  } else if (selection?.kind === "new") {
    pane = (
      <NewConversation client={client} conversations={conversations} maxParts={maxParts} onOpen={setSelection} onBack={back} />
    );
  } else if (selection?.kind === "number") {
    pane = (
      <Thread
        client={client} version={state.version} title={selection.number} subtitle={null} conv={null} thread={null}
        hit={null} outbox={outbox.filter((e) => samePeers(e.to, [selection.number]))}
        to={[selection.number]} maxParts={maxParts} deliveryReports={deliveryReports} onBack={back}
      />
    );
  } else if (selection?.kind === "conv" && snapshot.current) {
    // A conversation opened from a search may be further down the list than is paged:
    // its messages still say who it is with.
    const peers = current?.peers ?? thread?.messages[0]?.peers ?? [];
    const senderNames = new Map<string, string>();
    current?.peers.forEach((peer, i) => {
      const name = current.names[i];
      if (name != null) senderNames.set(peer, name);
    });
    pane = (
      <Thread
        key={`${selection.id} ${hit?.[0]} ${hit?.[1]}`}
        client={client}
        version={state.version}
        title={current !== null ? conversationTitle(current) : peers.length > 0 ? peers.join(", ") : "Conversation"}
        subtitle={current !== null && conversationTitle(current) !== current.peers.join(", ") ? current.peers.join(", ") : null}
        senderNames={senderNames}
        conv={selection.id}
        thread={thread}
        hit={hit}
        outbox={outbox.filter((e) => samePeers(e.to, peers))}
        to={peers}
        maxParts={maxParts}
        deliveryReports={deliveryReports}
        menu={current !== null && (
          <ConversationMenu conv={current} title={conversationTitle(current)} place="thread" onAction={(action) => act(current, action)} />
        )}
        onBack={back}
      />
    );
  } else if (selection?.kind === "conv") {
    pane = <section class="thread" aria-label="Opening the conversation" aria-busy="true" />;
  }

  // Texts composed to numbers without a conversation yet show as list entries too.
  const pendingNumbers = [...new Set(outbox
    .filter((e) => e.to.length === 1 && !conversations.some((c) => samePeers(c.peers, e.to)))
    .map((e) => e.to[0]!))];

  return (
    <div class={`messenger ${pane !== null ? "has-pane" : ""}`}>
      <Banner status={state.status} />
      <UpdateBanner />
      <DeviceNotice client={client} notice={state.deviceNotice} />
      <div class="columns">
        <nav class="sidebar" aria-label="Conversations panel">
          <header class="sidebar-header">
            <h1 class="app-title">textport</h1>
            {phones ?? <p class="muted host-name">{state.pairing?.hostName}</p>}
            <button type="button" class="primary" onClick={() => setSelection({ kind: "new" })}>
              New conversation
            </button>
            <button
              type="button"
              class="secondary"
              aria-pressed={selection?.kind === "devices" ? "true" : "false"}
              onClick={() => setSelection({ kind: "devices" })}
            >
              Devices
            </button>
          </header>
          <div class="search">
            <input
              ref={searchBox}
              type="search"
              aria-label="Search"
              placeholder="Search"
              value={query}
              onInput={(e) => setQuery(e.currentTarget.value)}
            />
          </div>
          <div class="folders" role="group" aria-label="Folders">
            {VIEWS.map((v) => (
              <button
                key={v.view}
                type="button"
                class="folder"
                aria-pressed={view === v.view ? "true" : "false"}
                onClick={() => setView(v.view)}
              >
                {v.label}
              </button>
            ))}
          </div>
          <NotificationPrompt />
          <div class="notice-slot">
            {notice !== null && (
              <p class="notice" role="alert">
                {notice} <button type="button" class="link" onClick={() => setNotice(null)}>Dismiss</button>
              </p>
            )}
          </div>
          <SidebarLists
            client={client} folder={view} list={snapshot.list} pinnedList={snapshot.pinnedList} paging={!searching}
            version={state.version}
          >
            <ul class="conversations" aria-label={viewInfo.list}>
              {view === "inbox" && pendingNumbers.filter((n) => query === "" || n.includes(query.trim())).map((number) => (
                <li key={`n${number}`} aria-label={`${number}, not sent yet`}>
                  <button
                    type="button"
                    class="conv"
                    aria-label={`${number}, not sent yet`}
                    onClick={() => setSelection({ kind: "number", number })}
                  >
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
                  onOpen={() => setSelection({ kind: "conv", id: conv.id, hit: null })}
                  onAction={(action) => act(conv, action)}
                />
              ))}
            </ul>
            {listed.length === 0 && (view !== "inbox" || pendingNumbers.length === 0) && snapshot.list !== "partial" && (
              <p class="muted empty" role="status">
                {snapshot.list === "complete" ? viewInfo.empty : "Loading conversations…"}
              </p>
            )}
            {!searching && snapshot.list === "partial" && (
              <p class="muted empty" role="status">Loading more conversations…</p>
            )}
            {searching && listed.length > 0 && shown.length === 0 && (
              <p class="muted empty">No conversation matches.</p>
            )}
            {searching && (
              <SearchResults
                client={client}
                query={query}
                conversations={conversations}
                onOpen={(found) => setSelection({ kind: "conv", id: found.conv, hit: [found.at, found.msg_id] })}
              />
            )}
          </SidebarLists>
          <footer class="sidebar-footer">
            <button type="button" class="link" onClick={() => setOverlay("notifications")}>Notification settings</button>
            <button type="button" class="link" aria-keyshortcuts="?" onClick={() => setOverlay("help")}>Keyboard shortcuts</button>
            {onAddPhone !== undefined && <button type="button" class="link" onClick={onAddPhone}>Add a phone</button>}
          </footer>
        </nav>
        <main class="pane">
          {pane ?? <p class="muted placeholder">Pick a conversation, or start a new one.</p>}
        </main>
      </div>
      {overlay === "help" && <ShortcutsHelp onClose={() => setOverlay(null)} />}
      {overlay === "notifications" && <NotificationSettings onClose={() => setOverlay(null)} />}
      {dialog?.kind === "delete" && (
        <DeleteDialog
          title={conversationTitle(dialog.conv)}
          onCancel={() => setDialog(null)}
          onConfirm={() => {
            const conv = dialog.conv.id;
            setDialog(null);
            if (conv === selectedConv) setSelection(null);
            change({ kind: "delete", conv });
          }}
        />
      )}
      {dialog?.kind === "rename" && (
        <NameDialog
          number={dialog.conv.peers[0]!}
          name={dialog.conv.name}
          onCancel={() => setDialog(null)}
          onSave={(name) => {
            setDialog(null);
            change({ kind: "contact", number: dialog.conv.peers[0]!, name });
          }}
        />
      )}
      {dialog?.kind === "names" && (
        <NamesDialog
          peers={dialog.conv.peers}
          names={dialog.conv.names}
          onCancel={() => setDialog(null)}
          onSave={(changes) => {
            setDialog(null);
            for (const [number, name] of changes) change({ kind: "contact", number, name });
          }}
        />
      )}
    </div>
  );
}
