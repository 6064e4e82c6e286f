/**
 * Entry point of the browser client. The host serves this page at `/` and its
 * relay at `/v1` on the same origin; a pairing link's offer arrives in the
 * fragment (`#textport-pair:1?...`), which is removed from the address bar at once.
 */

import { render } from "preact";

import { App, Broken } from "./app/App";
import { registerServiceWorker } from "./app/Install";
import { Client } from "./client/client";
import { Hosts, REGISTRY_KEY, slotNames } from "./client/hosts";
import { relayFor } from "./client/pairing";
import { browserSocket } from "./client/socket";
import { cookieMarker } from "./client/session";
import { Store } from "./client/storage";
import { Tabs } from "./client/tabs";
import { generateKeyPair } from "./protocol/keys";
import { randomBytes } from "./protocol/pairing";
import "./app/styles.css";

const PAIR_FRAGMENT = /^#textport-pair:/;

/** One host slot's Client (hosts.ts): its own database, tab channel, lock and cookie. */
async function openClient(id: string): Promise<Client> {
  const names = slotNames(id);
  const store = await Store.open(indexedDB, IDBKeyRange, names.db);
  const client = new Client({
    store,
    tabs: Tabs.browser(names),
    socket: browserSocket,
    now: () => Date.now(),
    random: Math.random,
    rng: randomBytes,
    userAgent: navigator.userAgent,
    generateKey: () => generateKeyPair(false),
    session: cookieMarker(document, names.cookie),
    onLog: (message) => console.info(`textport: ${message}`),
  });
  await client.init();
  return client;
}

function dropDatabase(name: string): Promise<void> {
  return new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = req.onerror = () => resolve();
  });
}

async function main(root: HTMLElement): Promise<void> {
  // Take the pairing secret out of the URL before anything else.
  let fragment: string | null = null;
  if (PAIR_FRAGMENT.test(location.hash)) {
    fragment = location.hash.slice(1);
    history.replaceState(null, "", location.pathname + location.search);
  }
  const relay = relayFor(location);
  const hosts = new Hosts({
    registry: localStorage,
    open: (id) => openClient(id),
    drop: (id) => dropDatabase(slotNames(id).db),
    rng: randomBytes,
  });
  try {
    await hosts.init();
  } catch (err) {
    render(<Broken message={`${err instanceof Error ? err.message : String(err)}. Try another browser, or leave private browsing.`} />, root);
    return;
  }
  // Start using a pairing link first, so the first screen is the link's, not the QR code's.
  // A browser already paired keeps that phone and pairs the link's as another.
  let linking: Promise<void> | null = null;
  if (fragment !== null) {
    const client = hosts.active.client.state.phase === "paired" ? await hosts.add() : hosts.active.client;
    linking = client.pairWithLink(fragment, relay);
  }
  render(<App hosts={hosts} relay={relay} socket={browserSocket} />, root);
  registerServiceWorker((message) => console.info(`textport: ${message}`));
  const kick = (): void => {
    for (const host of hosts.state.hosts) host.client.kick();
  };
  addEventListener("online", kick);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") kick();
  });
  // Another tab added or removed a phone.
  addEventListener("storage", (event) => {
    if (event.key === REGISTRY_KEY) void hosts.sync();
  });
  hosts.subscribe((state) => {
    if (state.hosts.some((host) => host.client.state.phase === "paired")) {
      void navigator.storage?.persist?.().catch(() => false);
    }
  });
  await linking;
}

const root = document.getElementById("app");
if (root !== null) void main(root);
