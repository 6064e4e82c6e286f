/**
 * The pairing screen's two offers, rotated every 60 s until a host shows up:
 * a QR code / text offer (Noise XXpsk0, this browser responding) and a typed
 * code (commitment + comparison code). When the host arrives on one, the
 * other is withdrawn and the rotation stops; the screen then shows the code
 * to compare and waits for the host's user to confirm.
 */

import { PairingOffer, type Random, newCode } from "../protocol/pairing";
import { type PairingDeps, type PairingProgress, pairByCode, pairByOffer, OFFER_TTL } from "./pairing";
import { realTimers } from "./socket";
import type { Pairing } from "./storage";
import { pairingError } from "./wording";

export const ROTATE_MS = 60_000;
/** After a failure before any host arrived (e.g. the relay is down), try again this soon. */
export const RETRY_MS = 5_000;

export type OffersStage = "waiting" | "connecting" | "confirm" | "failed";

export interface OffersState {
  readonly stage: OffersStage;
  /** The offer URI (QR code and text), while waiting. */
  readonly uri: string | null;
  /** The typed code, e.g. "K7QF-3M9X", while waiting. */
  readonly code: string | null;
  /** When the current offer and code are replaced, ms since the epoch. */
  readonly rotatesAt: number;
  /** The code to compare with the host's, once a host is there. */
  readonly shown: { readonly code: string; readonly kind: "confirmation" | "comparison" } | null;
  /** The relay cannot be reached; retrying. */
  readonly relayDown: boolean;
  /** What went wrong once a host had arrived, in plain words. */
  readonly error: string | null;
}

export interface OffersDeps extends PairingDeps {
  readonly relay: string;
  readonly rng?: Random;
  onState(state: OffersState): void;
  onPaired(pairing: Pairing): void | Promise<void>;
}

export class Offers {
  readonly #deps: OffersDeps;
  #state: OffersState = {
    stage: "waiting", uri: null, code: null, rotatesAt: 0, shown: null, relayDown: false, error: null,
  };
  #round: AbortController | null = null;
  #timer: unknown = null;
  #stopped = false;

  constructor(deps: OffersDeps) {
    this.#deps = deps;
  }

  get state(): OffersState {
    return this.#state;
  }

  #set(change: Partial<OffersState>): void {
    this.#state = { ...this.#state, ...change };
    this.#deps.onState(this.#state);
  }

  start(): void {
    this.#stopped = false;
    this.#rotate();
  }

  stop(): void {
    this.#stopped = true;
    this.#clearTimer();
    this.#round?.abort();
    this.#round = null;
  }

  /** Start over after a failure ("Try again"). */
  restart(): void {
    this.stop();
    this.#set({ error: null, shown: null, stage: "waiting" });
    this.start();
  }

  #clearTimer(): void {
    if (this.#timer !== null) (this.#deps.timers ?? realTimers).clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(ms: number): void {
    this.#clearTimer();
    this.#timer = (this.#deps.timers ?? realTimers).setTimeout(() => this.#rotate(), ms);
  }

  #rotate(): void {
    if (this.#stopped) return;
    this.#round?.abort();
    const round = new AbortController();
    this.#round = round;
    const now = this.#deps.now();
    const offer = PairingOffer.create(this.#deps.relay, {
      now: Math.floor(now / 1000),
      ttl: OFFER_TTL,
      ...(this.#deps.rng ? { rng: this.#deps.rng } : {}),
    });
    const code = newCode(this.#deps.rng);
    this.#set({ stage: "waiting", uri: offer.toUri(), code, rotatesAt: now + ROTATE_MS, shown: null, error: null });
    this.#schedule(ROTATE_MS);

    type Flow = "qr" | "code";
    const flows: Record<Flow, AbortController> = { qr: new AbortController(), code: new AbortController() };
    round.signal.addEventListener("abort", () => {
      flows.qr.abort();
      flows.code.abort();
    });
    let winner: Flow | null = null;
    const run = (name: Flow, flow: (signal: AbortSignal, progress: PairingProgress) => Promise<Pairing>): void => {
      const progress: PairingProgress = {
        onOpen: () => {
          if (!round.signal.aborted && this.#state.relayDown) this.#set({ relayDown: false });
        },
        onPeer: () => {
          if (round.signal.aborted || winner !== null) return;
          winner = name;
          this.#clearTimer();
          flows[name === "qr" ? "code" : "qr"].abort(); // withdraw the other offer
          this.#set({ stage: "connecting", relayDown: false });
        },
        onCode: (shown, kind) => {
          if (!round.signal.aborted) this.#set({ stage: "confirm", shown: { code: shown, kind } });
        },
      };
      flow(flows[name].signal, progress).then(
        async (pairing) => {
          if (round.signal.aborted) return;
          this.stop();
          await this.#deps.onPaired(pairing);
        },
        (err: unknown) => {
          if (flows[name].signal.aborted || this.#round !== round) return;
          if (winner === name) {
            // The host was there and something failed: say what, stop rotating.
            this.#round = null;
            round.abort();
            this.#set({ stage: "failed", error: pairingError(err, name === "code" ? "code" : "offer") });
            return;
          }
          // Nobody came and the socket failed: the relay is likely down; try again soon.
          this.#set({ relayDown: true });
          this.#schedule(RETRY_MS);
        },
      );
    };
    run("qr", (signal, progress) => pairByOffer(offer, this.#deps, progress, signal));
    run("code", (signal, progress) => pairByCode(code, this.#deps.relay, this.#deps, progress, signal));
  }
}
