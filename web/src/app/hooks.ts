/** Hooks that connect the views to the Client. */

import { useEffect, useState } from "preact/hooks";

import type { Client, ClientState } from "../client/client";
import type { Snapshot } from "../client/storage";

export function useClientState(client: Client): ClientState {
  const [state, setState] = useState(client.state);
  useEffect(() => {
    setState(client.state);
    return client.subscribe(setState);
  }, [client]);
  return state;
}

const EMPTY: Snapshot = { conversations: [], outbox: [], messages: [] };

/** Conversations, outbox and one thread, re-read whenever the cache changes. */
export function useSnapshot(client: Client, conv: number | null, version: number): Snapshot {
  const [snapshot, setSnapshot] = useState<Snapshot>(EMPTY);
  useEffect(() => {
    let live = true;
    void client.snapshot(conv).then((next) => {
      if (live) setSnapshot(next);
    });
    return () => {
      live = false;
    };
  }, [client, conv, version]);
  return snapshot;
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
