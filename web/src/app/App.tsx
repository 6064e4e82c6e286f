/** The top-level view: loading, pairing (QR / code, or a host link), or the messenger. */

import type { Client } from "../client/client";
import type { SocketFactory } from "../client/socket";
import { useClientState } from "./hooks";
import { Messenger } from "./Messenger";
import { LinkScreen, PairingScreen } from "./PairingScreen";

export interface AppProps {
  client: Client;
  relay: string;
  socket: SocketFactory;
}

export function App({ client, relay, socket }: AppProps) {
  const state = useClientState(client);
  switch (state.phase) {
    case "loading":
      return <p class="loading" role="status">Loading…</p>;
    case "linking":
      return state.link !== null ? <LinkScreen client={client} link={state.link} /> : null;
    case "pairing":
      return <PairingScreen client={client} relay={relay} socket={socket} unpairedFrom={state.unpairedFrom} />;
    case "paired":
      return <Messenger client={client} state={state} />;
  }
}

/** Shown when the client cannot start (no IndexedDB, no X25519 in WebCrypto…). */
export function Broken({ message }: { message: string }) {
  return (
    <main class="pairing">
      <h1>textport can't start in this browser</h1>
      <p role="alert">{message}</p>
    </main>
  );
}
