/**
 * The top-level view: the phone on screen (hosts.ts) in its phase: loading,
 * pairing (QR / code, or a host link), or the messenger, with the switcher
 * between phones once there are two.
 */

import type { Hosts, HostView } from "../client/hosts";
import type { SocketFactory } from "../client/socket";
import { useClientState, useHosts } from "./hooks";
import { Messenger, remember } from "./Messenger";
import { useNotifications } from "./Notifications";
import { LinkScreen, PairingScreen } from "./PairingScreen";
import { Phones } from "./Phones";

export interface AppProps {
  hosts: Hosts;
  relay: string;
  socket: SocketFactory;
}

export function App({ hosts, relay, socket }: AppProps) {
  const state = useHosts(hosts);
  const host = state.hosts.find((h) => h.id === state.active) ?? state.hosts[0];
  if (host === undefined) return <p class="loading" role="status">Loading…</p>;
  // Keyed by slot: switching phones starts the view afresh (selection, drafts, scroll).
  return (
    <>
      <HostScreen key={host.id} hosts={hosts} all={state.hosts} host={host} relay={relay} socket={socket} />
      {state.hosts
        .filter((other) => other.id !== host.id && other.client.state.phase === "paired")
        .map((other) => <Background key={other.id} hosts={hosts} host={other} />)}
    </>
  );
}

/** A phone not on screen notifies too; a click shows that phone at that conversation. */
function Background({ hosts, host }: { hosts: Hosts; host: HostView }) {
  useNotifications(host.client, null, (conv) => {
    remember(host.client.state.pairing?.room ?? "", conv);
    hosts.select(host.id);
  });
  return null;
}

interface HostScreenProps extends AppProps {
  all: readonly HostView[];
  host: HostView;
}

function HostScreen({ hosts, all, host, relay, socket }: HostScreenProps) {
  const { client } = host;
  const state = useClientState(client);
  const phones = all.length > 1 ? <Phones hosts={hosts} all={all} active={host.id} /> : null;
  switch (state.phase) {
    case "loading":
      return <p class="loading" role="status">Loading…</p>;
    case "linking":
      return state.link !== null ? <LinkScreen client={client} link={state.link} /> : null;
    case "pairing":
      return (
        <PairingScreen
          client={client}
          relay={relay}
          socket={socket}
          unpairedFrom={state.unpairedFrom}
          phones={phones}
          onCancel={hosts.removable(host.id) ? () => void hosts.remove(host.id) : null}
        />
      );
    case "paired":
      return (
        <Messenger
          client={client}
          state={state}
          phones={phones}
          otherUnread={all.reduce((sum, other) => sum + (other.id === host.id ? 0 : other.unread), 0)}
          onAddPhone={() => void hosts.add()}
        />
      );
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
