/** Pairing: the QR code / text offer and the typed code, rotating; then the code to compare. */

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

import type { Client, LinkState } from "../client/client";
import { Offers, type OffersState } from "../client/offers";
import type { SocketFactory } from "../client/socket";
import { useNow } from "./hooks";
import { Qr } from "./Qr";

export interface PairingScreenProps {
  client: Client;
  relay: string;
  socket: SocketFactory;
  unpairedFrom: string | null;
  /** The switcher between phones (Phones.tsx), when this browser has several. */
  phones?: ComponentChildren;
  /** Adding another phone: give up and go back (hosts.ts removes the slot). */
  onCancel?: (() => void) | null;
}

function Unpaired({ hostName }: { hostName: string }) {
  return (
    <p class="notice" role="alert">
      This browser was unpaired from {hostName}. Pair it again below if that was a mistake; what it had
      cached here has been removed.
    </p>
  );
}

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  };
  return (
    <button type="button" class="secondary" onClick={() => void copy()}>
      {copied ? "Copied" : "Copy"}
    </button>
  );
}

function Confirm({ shown }: { shown: NonNullable<OffersState["shown"]> }) {
  return (
    <div class="confirm" role="status">
      <p class="big-code" data-testid="shown-code">{shown.code}</p>
      <p>
        Check that the host shows {shown.code}, then confirm there.
      </p>
      <p class="muted">Waiting for you to confirm on the host…</p>
    </div>
  );
}

/** Adding another phone: the link `textport pair --link` printed there (on that phone's own relay). */
function PasteLink({ client }: { client: Client }) {
  const [link, setLink] = useState("");
  return (
    <form
      class="paste-link"
      aria-label="Pair with a link"
      onSubmit={(event) => {
        event.preventDefault();
        if (link.trim() !== "") void client.pairWithLink(link.trim(), "any");
      }}
    >
      <label for="pairing-link">or, on the other phone, run <code>textport pair --link</code> and paste the link here:</label>
      <div class="command">
        <input id="pairing-link" type="url" autocomplete="off" spellcheck={false} value={link}
          onInput={(event) => setLink(event.currentTarget.value)} />
        <button type="submit">Pair</button>
      </div>
    </form>
  );
}

/** "Remember this browser" (ticked) or pair for this browser session only (docs/protocol.md §9, Expiry). */
function Remember({ client }: { client: Client }) {
  const [remember, setRemember] = useState(client.remember);
  return (
    <p class="remember">
      <input
        id="remember-browser"
        type="checkbox"
        checked={remember}
        aria-describedby="remember-hint"
        onChange={(event) => {
          client.setRemember(event.currentTarget.checked);
          setRemember(event.currentTarget.checked);
        }}
      />
      <label for="remember-browser">Remember this browser</label>
      <span id="remember-hint" class="muted">
        {remember ? "Stays paired until you unpair it." : "Forgets your texts when the browser closes."}
      </span>
    </p>
  );
}

export function PairingScreen({ client, relay, socket, unpairedFrom, phones = null, onCancel = null }: PairingScreenProps) {
  const [state, setState] = useState<OffersState | null>(null);
  const offers = useRef<Offers | null>(null);
  const now = useNow(1000);

  useEffect(() => {
    const o = new Offers({
      socket,
      now: () => Date.now(),
      relay,
      ...client.pairingDeps(),
      onState: setState,
      onPaired: (pairing) => client.paired(pairing),
    });
    offers.current = o;
    o.start();
    return () => o.stop();
  }, [client, relay, socket]);

  const seconds = state ? Math.max(0, Math.ceil((state.rotatesAt - now) / 1000)) : 0;
  const command = state?.uri ? `textport pair '${state.uri}'` : "";

  return (
    <main class="pairing" aria-labelledby="pairing-title">
      {phones}
      <h1 id="pairing-title">{onCancel !== null ? "Pair this browser with another phone" : "Pair this browser with your phone"}</h1>
      {unpairedFrom !== null && <Unpaired hostName={unpairedFrom} />}
      {state?.relayDown && (
        <p class="banner warn" role="status">Can't reach the relay — retrying…</p>
      )}
      {state === null || state.stage === "waiting" ? (
        <div class="offers">
          <section class="offer" aria-label="Pair with a QR code or text">
            {state?.uri && <Qr text={state.uri} label="Pairing QR code" />}
            <p>On the host, run:</p>
            <div class="command">
              <code class="uri" data-testid="pairing-command">{command}</code>
              <CopyButton text={command} />
            </div>
          </section>
          <section class="offer" aria-label="Pair with a typed code">
            <p>or type this code on the host:</p>
            <p class="command">
              <code>textport pair <strong class="typed-code" data-testid="pairing-code">{state?.code ?? ""}</strong></code>
            </p>
          </section>
          {onCancel !== null && <PasteLink client={client} />}
          <Remember client={client} />
          <p class="muted" aria-live="off">New code in {seconds} s. The host asks you to confirm before anything is shared.</p>
        </div>
      ) : state.stage === "connecting" ? (
        <p role="status">The host is connecting…</p>
      ) : state.stage === "confirm" && state.shown !== null ? (
        <Confirm shown={state.shown} />
      ) : (
        <div class="failed" role="alert">
          <p>{state.error}</p>
          <button type="button" onClick={() => offers.current?.restart()}>Try again</button>
        </div>
      )}
      {onCancel !== null && (
        <p>
          <button type="button" class="secondary" onClick={onCancel}>
            {unpairedFrom !== null ? "Remove this phone" : "Cancel"}
          </button>
        </p>
      )}
    </main>
  );
}

/** The page was opened with the host's pairing link. */
export function LinkScreen({ client, link }: { client: Client; link: LinkState }) {
  return (
    <main class="pairing" aria-labelledby="link-title">
      <h1 id="link-title">Pairing with your phone</h1>
      {link.stage === "connecting" && <p role="status">Connecting to the host…</p>}
      {link.stage === "confirm" && link.code !== null && (
        <Confirm shown={{ code: link.code, kind: "confirmation" }} />
      )}
      {link.stage === "failed" && (
        <div class="failed" role="alert">
          <p>{link.error}</p>
          <button type="button" onClick={() => client.dismissLink()}>Pair another way</button>
        </div>
      )}
    </main>
  );
}
