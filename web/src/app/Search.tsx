/**
 * Search results: every message on the host that matches what is typed in the
 * Search box, newest first, asked for over the encrypted session (never held by
 * the relay). Each hit shows its conversation, date and the host's snippet with
 * the matches marked; opening one shows the thread around it.
 */

import { useEffect, useRef, useState } from "preact/hooks";

import type { Client } from "../client/client";
import { RequestFailed } from "../client/connection";
import type { ConversationRecord, Hit } from "../protocol/messages";
import { conversationTitle, shortTime, snippetParts, snippetText } from "./format";
import { useNow } from "./hooks";

/** Wait this long after the last key before searching (ms). */
export const SEARCH_DELAY = 300;
/** The longest query the protocol takes (code points). */
const MAX_QUERY = 256;

/** A snippet with its matches in <mark>: text only, never markup from the host. */
export function Snippet({ text }: { text: string }) {
  return <>{snippetParts(text).map((part, i) => (part.match ? <mark key={i}>{part.text}</mark> : part.text))}</>;
}

interface Found {
  readonly state: "searching" | "done" | "failed";
  readonly hits: readonly Hit[];
  readonly more: boolean;
  readonly error: string | null;
}

function failure(err: unknown): string {
  if (err instanceof RequestFailed && err.code === "session_closed") {
    return "Search needs the connection to your phone — try again once it is back.";
  }
  return `Search failed: ${err instanceof Error ? err.message : String(err)}`;
}

export function SearchResults(props: {
  client: Client;
  query: string;
  conversations: readonly ConversationRecord[];
  onOpen(hit: Hit): void;
}) {
  const { client, conversations, onOpen } = props;
  const query = [...props.query.trim()].slice(0, MAX_QUERY).join("");
  const [found, setFound] = useState<Found>({ state: "searching", hits: [], more: false, error: null });
  const asked = useRef(0);
  const now = useNow(60_000);

  const run = (before: Hit | null): void => {
    const id = ++asked.current;
    setFound((f) => ({ ...f, state: "searching", error: null, ...(before === null ? { hits: [], more: false } : {}) }));
    client.search(query, before?.msg_id ?? null).then(
      (results) => {
        if (asked.current !== id) return;
        setFound((f) => ({
          state: "done", more: results.more, error: null,
          hits: before === null ? results.hits : [...f.hits, ...results.hits],
        }));
      },
      (err: unknown) => {
        if (asked.current === id) setFound((f) => ({ ...f, state: "failed", error: failure(err) }));
      },
    );
  };

  useEffect(() => {
    if (query === "") return;
    setFound({ state: "searching", hits: [], more: false, error: null });
    const timer = setTimeout(() => run(null), SEARCH_DELAY);
    return () => {
      clearTimeout(timer);
      asked.current++; // an answer to an earlier query is not shown
    };
  }, [client, query]);

  const titles = new Map(conversations.map((c) => [c.id, conversationTitle(c)]));
  const status = found.state === "searching" ? "Searching messages…"
    : found.state === "failed" ? found.error
    : found.hits.length === 0 ? "No messages match." : null;
  return (
    <section class="results" aria-label="Messages found">
      <h2 class="section-title">Messages</h2>
      <p class={found.state === "failed" ? "error empty" : "muted empty"} role="status">{status}</p>
      <ul class="conversations" aria-label="Search results">
        {found.hits.map((hit) => {
          const title = titles.get(hit.conv) ?? "Conversation";
          const time = shortTime(hit.at, now);
          return (
            <li key={hit.msg_id} aria-label={`${title}, ${time}: ${snippetText(hit.snippet)}`}>
              <button type="button" class="conv" onClick={() => onOpen(hit)}>
                <span class="conv-top">
                  <span class="conv-name">{title}</span>
                  <time class="conv-time" dateTime={new Date(hit.at).toISOString()}>{time}</time>
                </span>
                <span class="hit-snippet"><Snippet text={hit.snippet} /></span>
              </button>
            </li>
          );
        })}
      </ul>
      {found.more && found.state !== "searching" && (
        <button type="button" class="link more-results" onClick={() => run(found.hits.at(-1) ?? null)}>
          More results
        </button>
      )}
    </section>
  );
}
