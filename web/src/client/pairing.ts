/**
 * The browser's side of pairing (docs/protocol.md sections 5 and 6), over a relay socket.
 *
 * Three ways in, each a pairing socket of its own:
 * - `pairFromLink`: the host made the offer (`textport pair --link`), the page
 *   was opened with it in the fragment: accept, initiate Noise XXpsk0;
 * - `pairByOffer`: the browser made the offer (QR code or copied text):
 *   offer the channel, wait for the host, respond;
 * - `pairByCode`: the browser shows a typed code: offer `code-…`, take the
 *   host's commitment, Noise XX as initiator, show the comparison code.
 *
 * All then send `pair_request` and wait for the host's user to confirm:
 * `pair_accept` gives the pairing; `pair_reject` or an error ends it.
 */

import { TextportError, type ErrorCode } from "../protocol/errors";
import type { Frame } from "../protocol/frames";
import type { KeyPair } from "../protocol/keys";
import type { Message } from "../protocol/messages";
import { CodeDeviceHandshake, type PairingOffer, codeChannel, offerHandshake } from "../protocol/pairing";
import type { Handshake, Session } from "../protocol/session";
import * as derive from "../protocol/derive";
import { FrameQueue, type SocketFactory, type Timers, realTimers } from "./socket";
import type { Pairing } from "./storage";

/** How long a pairing channel lives at the relay (the offer rotates every 60 s). */
export const OFFER_TTL = 90;
/** How long to wait for each handshake message. */
export const STEP_TIMEOUT = 30_000;
/** How long the host's user may take to confirm. */
export const CONFIRM_TIMEOUT = 330_000;

export interface PairingDeps {
  readonly socket: SocketFactory;
  readonly timers?: Timers;
  /** ms since the epoch. */
  readonly now: () => number;
  readonly deviceKey: KeyPair;
  /** This device's name, as the host lists it (≤ 64 characters). */
  readonly name: string;
  readonly agent: string;
  /** Pair for this browser session only ("remember this browser" unticked); asked when the request goes out. */
  readonly session?: () => boolean;
}

export interface PairingProgress {
  /** The pairing socket to the relay is open. */
  onOpen?(): void;
  /** The host arrived in the channel. */
  onPeer?(): void;
  /** The code to compare with the host's: "4F2A-91C3" (offer) or "123 456" (typed code). */
  onCode?(code: string, kind: "confirmation" | "comparison"): void;
}

/** The pairing did not complete; `code` is a docs/protocol.md section-10 code. */
export class PairingFailed extends TextportError {
  constructor(message: string, code: ErrorCode) {
    super(message, code);
  }
}

function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Run `body` with a pairing socket, closing it at the end or on abort. */
async function withChannel<T>(
  relay: string,
  deps: PairingDeps,
  signal: AbortSignal | undefined,
  progress: PairingProgress,
  body: (queue: FrameQueue) => Promise<T>,
): Promise<T> {
  const queue = new FrameQueue(deps.socket, relay, deps.timers ?? realTimers);
  const onAbort = (): void => queue.close(1000, "cancelled");
  signal?.addEventListener("abort", onAbort);
  try {
    await queue.opened(STEP_TIMEOUT);
    progress.onOpen?.();
    return await body(queue);
  } catch (err) {
    if (aborted(signal)) throw new PairingFailed("pairing cancelled", "session_closed");
    throw err;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    queue.close(1000, "");
  }
}

/** A relay error frame as an exception; anything else but `want` is out of turn. */
function expectOp<K extends Frame["op"]>(frame: Frame, want: K): Extract<Frame, { op: K }> {
  if (frame.op === "error") throw new PairingFailed(frame.message, frame.code as ErrorCode);
  if (frame.op !== want) throw new PairingFailed(`unexpected ${frame.op} from the relay`, "bad_frame");
  return frame as Extract<Frame, { op: K }>;
}

/** The next DATA payload, skipping nothing: control frames here are errors. */
async function nextData(queue: FrameQueue, ms: number, what: string): Promise<Uint8Array> {
  return expectOp(await queue.next(ms, what), "data").payload;
}

async function waitPeer(queue: FrameQueue, ms: number | undefined, progress: PairingProgress): Promise<void> {
  expectOp(await queue.next(ms, "the host"), "peer");
  progress.onPeer?.();
}

/** pair_request, then the host's answer. */
async function conclude(
  queue: FrameQueue,
  handshake: Handshake,
  deps: PairingDeps,
): Promise<Pairing> {
  const hostPublic = handshake.remoteStatic;
  if (hostPublic === null) throw new PairingFailed("the host sent no key", "handshake_state");
  const session: Session = handshake.session(deps.now() / 1000);
  const sessionOnly = deps.session?.() ?? false;
  queue.data(await session.seal({ t: "pair_request", name: deps.name, agent: deps.agent, session: sessionOnly }));
  const answer: Message = await session.open(await nextData(queue, CONFIRM_TIMEOUT, "the host's confirmation"));
  switch (answer.t) {
    case "pair_accept":
      // Check the sizes here: a bad room or token would only fail much later.
      derive.unb64url(answer.room, derive.ROOM_LEN);
      derive.unb64url(answer.token, derive.TOKEN_LEN);
      return {
        hostPublic: hostPublic.slice(),
        hostName: answer.host_name,
        room: answer.room,
        token: answer.token,
        relay: answer.relay,
        pairedAt: deps.now(),
        ...(sessionOnly ? { session: true } : {}),
      };
    case "pair_reject":
      throw new PairingFailed(answer.reason || "declined on the host", "pairing_rejected");
    case "error":
      throw new PairingFailed(answer.message, answer.code as ErrorCode);
    default:
      throw new PairingFailed(`unexpected ${answer.t} while pairing`, "bad_message");
  }
}

/** The host made the offer (a link); this browser reads it and initiates. */
export function pairFromLink(
  offer: PairingOffer,
  deps: PairingDeps,
  progress: PairingProgress = {},
  signal?: AbortSignal,
): Promise<Pairing> {
  return withChannel(offer.relay, deps, signal, progress, async (queue) => {
    queue.control({ op: "accept", channel: offer.channelName });
    await waitPeer(queue, STEP_TIMEOUT, progress);
    const handshake = await offerHandshake(offer, deps.deviceKey, { madeOffer: false });
    queue.data(await handshake.write());
    await handshake.read(await nextData(queue, STEP_TIMEOUT, "the host's handshake"));
    queue.data(await handshake.write());
    progress.onCode?.(await derive.confirmationCode(handshake.handshakeHash), "confirmation");
    return conclude(queue, handshake, deps);
  });
}

/** This browser made the offer (QR code / text); it waits for the host and responds. */
export function pairByOffer(
  offer: PairingOffer,
  deps: PairingDeps,
  progress: PairingProgress = {},
  signal?: AbortSignal,
): Promise<Pairing> {
  return withChannel(offer.relay, deps, signal, progress, async (queue) => {
    queue.control({ op: "offer", channel: offer.channelName, ttl: OFFER_TTL });
    await waitPeer(queue, undefined, progress);
    const handshake = await offerHandshake(offer, deps.deviceKey, { madeOffer: true });
    await handshake.read(await nextData(queue, STEP_TIMEOUT, "the host's handshake"));
    queue.data(await handshake.write());
    await handshake.read(await nextData(queue, STEP_TIMEOUT, "the host's handshake"));
    progress.onCode?.(await derive.confirmationCode(handshake.handshakeHash), "confirmation");
    return conclude(queue, handshake, deps);
  });
}

/** This browser shows a typed code; the host types it, commits, and the two compare six digits. */
export function pairByCode(
  code: string,
  relay: string,
  deps: PairingDeps,
  progress: PairingProgress = {},
  signal?: AbortSignal,
): Promise<Pairing> {
  return withChannel(relay, deps, signal, progress, async (queue) => {
    queue.control({ op: "offer", channel: codeChannel(code), ttl: OFFER_TTL });
    await waitPeer(queue, undefined, progress);
    const handshake = await CodeDeviceHandshake.create(code, relay, deps.deviceKey);
    handshake.readCommitment(await nextData(queue, STEP_TIMEOUT, "the host's commitment"));
    queue.data(await handshake.write());
    await handshake.read(await nextData(queue, STEP_TIMEOUT, "the host's handshake"));
    queue.data(await handshake.write());
    progress.onCode?.(await handshake.comparisonCode(), "comparison");
    return conclude(queue, handshake, deps);
  });
}

/** The relay URL of this page's own origin: `ws(s)://host/v1`. */
export function relayFor(location: { protocol: string; host: string }): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1`;
}

/** The device name a host lists, from the browser's user agent, e.g. "Firefox on Linux". */
export function deviceName(userAgent: string): string {
  const browser =
    /Edg\//.test(userAgent) ? "Edge"
    : /Firefox\//.test(userAgent) ? "Firefox"
    : /Chrom(e|ium)\//.test(userAgent) ? "Chrome"
    : /Safari\//.test(userAgent) ? "Safari"
    : "Browser";
  const os =
    /Android/.test(userAgent) ? "Android"
    : /iPhone|iPad|iPod/.test(userAgent) ? "iOS"
    : /Mac OS X|Macintosh/.test(userAgent) ? "macOS"
    : /Windows/.test(userAgent) ? "Windows"
    : /CrOS/.test(userAgent) ? "ChromeOS"
    : /Linux/.test(userAgent) ? "Linux"
    : null;
  return os === null ? browser : `${browser} on ${os}`;
}

/** The `agent` field: client name and version, and the browser's (≤ 128 characters). */
export function agentString(userAgent: string): string {
  const agent = `textport-web/0.1 ${userAgent}`.trim();
  return [...agent].slice(0, 128).join("") || "textport-web/0.1";
}
