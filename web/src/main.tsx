/**
 * Entry point of the browser client. The host serves this page at `/` and its
 * relay at `/v1` on the same origin; a pairing link's offer arrives in the
 * fragment (`#textport-pair:1?...`), which is removed from the address bar at once.
 */

import { render } from "preact";

import { App, Broken } from "./app/App";
import { registerServiceWorker } from "./app/Install";
import { Client } from "./client/client";
import { relayFor } from "./client/pairing";
import { browserSocket } from "./client/socket";
import { cookieMarker } from "./client/session";
import { Store } from "./client/storage";
import { Tabs } from "./client/tabs";
import { generateKeyPair } from "./protocol/keys";
import { randomBytes } from "./protocol/pairing";
import "./app/styles.css";

const PAIR_FRAGMENT = /^#textport-pair:/;

async function main(root: HTMLElement): Promise<void> {
  // Take the pairing secret out of the URL before anything else.
  let fragment: string | null = null;
  if (PAIR_FRAGMENT.test(location.hash)) {
    fragment = location.hash.slice(1);
    history.replaceState(null, "", location.pathname + location.search);
  }
  const relay = relayFor(location);
  let client: Client;
  try {
    const store = await Store.open();
    client = new Client({
      store,
      tabs: Tabs.browser(),
      socket: browserSocket,
      now: () => Date.now(),
      random: Math.random,
      rng: randomBytes,
      userAgent: navigator.userAgent,
      generateKey: () => generateKeyPair(false),
      session: cookieMarker(document),
      onLog: (message) => console.info(`textport: ${message}`),
    });
    await client.init();
  } catch (err) {
    render(<Broken message={`${err instanceof Error ? err.message : String(err)}. Try another browser, or leave private browsing.`} />, root);
    return;
  }
  // Start using a pairing link first, so the first screen is the link's, not the QR code's.
  const linking = fragment !== null ? client.pairWithLink(fragment, relay) : null;
  render(<App client={client} relay={relay} socket={browserSocket} />, root);
  registerServiceWorker((message) => console.info(`textport: ${message}`));
  const kick = (): void => client.kick();
  addEventListener("online", kick);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") kick();
  });
  client.subscribe((state) => {
    if (state.phase === "paired") void navigator.storage?.persist?.().catch(() => false);
  });
  await linking;
}

const root = document.getElementById("app");
if (root !== null) void main(root);
