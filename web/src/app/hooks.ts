/** Hooks that connect the views to the Client. */

import { useEffect, useState } from "preact/hooks";

import type { Client, ClientState } from "../client/client";
import type { Hosts, HostsState } from "../client/hosts";
import type { AttachmentCache, Snapshot } from "../client/storage";
import type { Folder, Position } from "../protocol/messages";

export function useClientState(client: Client): ClientState {
  const [state, setState] = useState(client.state);
  useEffect(() => {
    setState(client.state);
    return client.subscribe(setState);
  }, [client]);
  return state;
}

export function useHosts(hosts: Hosts): HostsState {
  const [state, setState] = useState(hosts.state);
  useEffect(() => {
    setState(hosts.state);
    return hosts.subscribe(setState);
  }, [hosts]);
  return state;
}

const EMPTY: Snapshot = {
  conversations: [], list: "unpaged", pinned: [], pinnedList: "unpaged", all: [], unread: 0, outbox: [], thread: null,
};

/**
 * The paged list, the outbox and one thread (its segment holding `anchor`, or
 * its newest), re-read whenever the cache changes. `current` is false until a
 * read for this very `conv` and `anchor` has come back (the list and outbox of
 * the one before are still good to show meanwhile).
 */
export function useSnapshot(
  client: Client,
  conv: number | null,
  anchor: Position | null,
  version: number,
  folder: Folder = "inbox",
): Snapshot & { current: boolean } {
  const key = `${conv} ${anchor?.[0]} ${anchor?.[1]} ${folder}`;
  const [read, setRead] = useState<{ key: string | null; snapshot: Snapshot }>({ key: null, snapshot: EMPTY });
  useEffect(() => {
    let live = true;
    void client.snapshot(conv, anchor, folder).then((snapshot) => {
      if (live) setRead({ key, snapshot });
    });
    return () => {
      live = false;
    };
  }, [client, key, version]);
  return { ...read.snapshot, current: read.key === key };
}

/** What a view shows for an attachment: its bytes as a Blob URL, or why there are none. */
export type AttachmentView =
  | { readonly state: "loading" }
  | { readonly state: "ready"; readonly url: string; readonly type: string }
  | { readonly state: "failed"; readonly error: string };

/**
 * Attachment `att` from the cache as a Blob URL (revoked when no longer shown).
 * With `fetch`, one not cached yet is asked for.
 */
export function useAttachment(client: Client, att: number, fetch: boolean, version: number): AttachmentView {
  const [cached, setCached] = useState<AttachmentCache | null>(null);
  const [view, setView] = useState<AttachmentView>({ state: "loading" });
  useEffect(() => {
    if (cached !== null) return;
    let live = true;
    void client.attachment(att).then((entry) => {
      if (!live) return;
      if (entry !== null) setCached(entry);
      else if (fetch) client.need({ kind: "attachment", att });
    });
    return () => {
      live = false;
    };
  }, [client, att, fetch, version, cached]);
  useEffect(() => {
    if (cached === null) return;
    if ("error" in cached) {
      setView({ state: "failed", error: cached.error });
      return;
    }
    const url = URL.createObjectURL(new Blob([cached.data], { type: cached.type }));
    setView({ state: "ready", url, type: cached.type });
    return () => URL.revokeObjectURL(url);
  }, [cached]);
  return view;
}

/** The current time, refreshed every `ms`. */
export function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

/** Whether the page is visible (false while the tab is in the background). */
export function useVisible(): boolean {
  const [visible, setVisible] = useState(typeof document === "undefined" || document.visibilityState !== "hidden");
  useEffect(() => {
    const update = (): void => setVisible(document.visibilityState !== "hidden");
    document.addEventListener("visibilitychange", update);
    return () => document.removeEventListener("visibilitychange", update);
  }, []);
  return visible;
}
