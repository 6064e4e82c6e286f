/**
 * The paired browser's connection: relay socket, session handshake, sync, outbox.
 *
 *   socket -> join{room, token} -> ready{online}            (presence{online} later)
 *   host online -> Noise IK (link 0) -> hello -> welcome -> sync{since: cursor}
 *   batch… -> synced -> resend the outbox -> live events, acks, errors
 *
 * Any transport, handshake or decrypt failure ends the socket; the loop
 * reconnects with exponential backoff and full jitter (capped at 30 s), at
 * once after `kick()` (the page came online or became visible). A definite
 * "you are unpaired" (relay `revoked`, host `bye{revoked}`, the host refusing
 * the key) forgets the pairing; so does a relay `unauthorized` that persists
 * (see `UNAUTHORIZED_GRACE`). A relay `room_unknown` (it restarted and the
 * host has not claimed its room since) is the host being away, never an
 * unpairing: the status says the host is offline, the cache and the outbox
 * stay, the `unauthorized` grace starts over and the loop retries with the
 * usual backoff. Events are applied in order, each batch in one
 * IndexedDB transaction with the cursor (storage.ts); a live event that skips
 * a seq triggers a new `sync` from the cursor. A `reset` drops the cache, sets
 * the cursor to its seq and syncs from there: history then comes in pages.
 *
 * Requests (`convs`, `thread`, `fetch`, `search`, and the changes `conv_set`,
 * `conv_delete`, `contact`, `revoke`, `unschedule` answered by `done`, and `devices`) carry a qid; their answer is
 * matched by it and applied in arrival order with the events, so a page never
 * overwrites a newer event. `error{ref: qid}` refuses one request; the end of
 * the session fails every request still waiting.
 *
 * While it runs, with the host there or not, a timer fails each queued text
 * once the host's text lifetime has passed since its Send (outbox.ts `expire`;
 * the lifetime comes from `welcome` and is kept with the pairing), so a text
 * typed while the phone is away fails visibly and is never sent late.
 *
 * All I/O is injected: the socket factory, the timers, the clock, randomness.
 */

import { TextportError, type ErrorCode } from "../protocol/errors";
import type { Frame } from "../protocol/frames";
import type { KeyPair } from "../protocol/keys";
import type {
  Capabilities,
  Chunk,
  Contact,
  ConvDelete,
  ConvPage,
  ConvSet,
  Convs,
  DeviceChanged,
  DeviceList,
  Devices,
  Done,
  Fetch,
  Message,
  Results,
  Revoke,
  Unschedule,
  Search,
  StoreEvent,
  Thread,
  ThreadPage,
  Welcome,
} from "../protocol/messages";
import { type Session, deviceHandshake } from "../protocol/session";
import * as derive from "../protocol/derive";
import { applyAck, applyError, expire, nextExpiry, sendMessage, unacknowledged } from "./outbox";
import { FrameQueue, SocketClosed, type SocketFactory, type Timers, realTimers } from "./socket";
import type { OutboxEntry, Pairing, Store } from "./storage";

export const BACKOFF_FIRST = 1000;
export const BACKOFF_CAP = 30_000;
export const OPEN_TIMEOUT = 15_000;
export const STEP_TIMEOUT = 15_000;
export const PING_INTERVAL = 30_000;
export const SYNC_LIMIT = 500;
/**
 * A relay `unauthorized` is also what a freshly restarted relay says between
 * the host claiming its room again and re-registering its devices' tokens
 * (before the claim it says `room_unknown`, which never counts), so it only
 * counts as "unpaired" once it has lasted this long (ms) over two or more
 * attempts.
 */
export const UNAUTHORIZED_GRACE = 10_000;
/** After a relay's refusal (`unauthorized`, `room_unknown`) ask again this often (ms, ±25 %). */
const UNAUTHORIZED_RETRY = 4_000;
/** The longest the expiry timer sleeps at once (ms); it then looks again (timers cap near 24.8 days). */
export const EXPIRY_CHECK_CAP = 3_600_000;

/** Codes that mean this browser is no longer paired (see the class comment). */
const UNPAIRED_CODES: ReadonlySet<string> = new Set(["revoked", "not_paired"]);

export type RelayState = "connecting" | "up" | "unreachable";

/** What a device asks the host for, and what answers it. */
export type Request = Convs | Thread | Fetch | Search | ConvSet | ConvDelete | Contact | Devices | Revoke | Unschedule;
export type Answer = ConvPage | ThreadPage | Chunk | Results | Done | DeviceList;
type AnswerTo<R extends Request> =
  R extends Convs ? ConvPage : R extends Thread ? ThreadPage : R extends Fetch ? Chunk
    : R extends Search ? Results : R extends Devices ? DeviceList : Done;
/** A request before its qid is given. */
export type Ask<R extends Request> = R extends Request ? Omit<R, "qid"> : never;

const ANSWERS: { readonly [T in Request["t"]]: Answer["t"] } = {
  convs: "conv_page", thread: "thread_page", fetch: "chunk", search: "results",
  conv_set: "done", conv_delete: "done", contact: "done", devices: "device_list", revoke: "done",
  unschedule: "done",
};

/** A request that will not be answered: the session ended, or the host refused it. */
export class RequestFailed extends TextportError {}

interface Pending {
  readonly answer: Answer["t"];
  readonly apply: (answer: never) => void | Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export interface ConnectionStatus {
  /** Whether the relay answered: "unreachable" after a failed attempt. */
  readonly relay: RelayState;
  /** Whether the host is connected to the relay (null: not known yet). */
  readonly hostOnline: boolean | null;
  /** A session is up and synced: sends go out now. */
  readonly ready: boolean;
}

/** The host cannot be reached now (the relay is down, or the host is not at it): texts wait. */
export function hostAway(status: ConnectionStatus | null): boolean {
  return status !== null && !status.ready && (status.relay === "unreachable" || status.hostOnline === false);
}

export interface ConnectionDeps {
  readonly store: Store;
  readonly socket: SocketFactory;
  readonly timers?: Timers;
  /** ms since the epoch. */
  readonly now: () => number;
  /** Uniform in [0, 1): the backoff's jitter. */
  readonly random: () => number;
  readonly agent: string;
  readonly deviceKey: KeyPair;
  readonly pairing: Pairing;
  /** The status changed; `ready` once the session is synced: requests can go out. */
  onStatus?(status: ConnectionStatus): void;
  /** The cache or the outbox changed. */
  onChanged?(): void;
  /** Live events (not a sync's batches), once applied: what notifies (notify.ts). */
  onLive?(events: readonly StoreEvent[]): void;
  /** The pairing was forgotten (already removed from the store). */
  onUnpaired?(hostName: string): void;
  onWelcome?(welcome: Welcome): void;
  /** The host said reset: the cache is empty now, and answers to earlier requests are void. */
  onReset?(): void;
  /** Another device was paired or unpaired (a live notice, not an event). */
  onDeviceChanged?(message: DeviceChanged): void;
  /** Diagnostics (never keys or bodies). */
  onLog?(message: string): void;
}

/** This browser is not paired any more. */
class Unpaired extends Error {}

/** The relay does not know the room (yet): its `error{room_unknown}`, or the close that follows it. */
function roomUnknown(err: unknown): boolean {
  return err instanceof SocketClosed ? err.reason === "room_unknown"
    : err instanceof TextportError && err.code === "room_unknown";
}

/** The host went offline: wait for it and handshake again on the same socket. */
class HostOffline extends Error {}

export class Connection {
  readonly #deps: ConnectionDeps;
  readonly #timers: Timers;
  #status: ConnectionStatus = { relay: "connecting", hostOnline: null, ready: false };
  #stopped = false;
  #running: Promise<void> | null = null;
  #queue: FrameQueue | null = null;
  #session: Session | null = null;
  #sendTail: Promise<void> = Promise.resolve();
  #cursor = 0;
  #syncing = false;
  #sentThisSession = new Set<string>();
  #pendingReads = new Set<number>();
  #wake: (() => void) | null = null;
  #pingTimer: unknown = null;
  #pingOutstanding = false;
  #pingCount = 0;
  #refusedSince: number | null = null;
  #caps: Capabilities | null = null;
  /** The host's text lifetime (ms): from the pairing until a welcome says it; null: not known. */
  #textTtl: number | null;
  #expiryTimer: unknown = null;
  readonly #pending = new Map<number, Pending>();
  #nextQid = 1;

  constructor(deps: ConnectionDeps) {
    this.#deps = deps;
    this.#timers = deps.timers ?? realTimers;
    this.#textTtl = deps.pairing.textTtlMs ?? null;
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  get caps(): Capabilities | null {
    return this.#caps;
  }

  /** Start connecting; resolves when the loop ends (stop() or unpaired). */
  start(): Promise<void> {
    this.#running ??= this.#loop();
    return this.#running;
  }

  stop(): void {
    this.#stopped = true;
    this.#clearExpiryTimer();
    this.#queue?.close(1000, "");
    this.#wake?.();
  }

  /** Reconnect now if waiting to retry (the browser came online or the page became visible). */
  kick(): void {
    this.#wake?.();
  }

  /**
   * Send every outbox entry not sent in this session (after compose, from any
   * tab); first fail those past the host's text lifetime, which are never sent.
   */
  async flush(): Promise<void> {
    const outbox = await this.#expire();
    if (!this.#status.ready) return;
    const entries = unacknowledged(outbox);
    for (const entry of entries) {
      if (this.#sentThisSession.has(entry.cmid)) continue;
      this.#sentThisSession.add(entry.cmid);
      this.#send(sendMessage(entry));
    }
  }

  /** Tell the host the user saw conversation `conv` (now, or once connected). */
  markRead(conv: number): void {
    this.#pendingReads.add(conv);
    if (this.#status.ready) this.#flushReads();
  }

  /**
   * Send `ask` with a fresh qid; `apply` runs on its answer, in arrival order
   * with events. Resolves once applied; rejects with RequestFailed when the
   * session ends first (or there is none) or the host refuses the request.
   */
  request<R extends Request>(ask: Ask<R>, apply: (answer: AnswerTo<R>) => void | Promise<void>): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#session === null) {
        reject(new RequestFailed("not connected to the host", "session_closed"));
        return;
      }
      const qid = this.#nextQid++;
      this.#pending.set(qid, { answer: ANSWERS[ask.t], apply, resolve, reject });
      this.#send({ ...ask, qid } as Request);
    });
  }

  async #answer(answer: Answer): Promise<void> {
    const pending = this.#pending.get(answer.qid);
    if (pending === undefined) return; // asked in an earlier session, or answered already
    this.#pending.delete(answer.qid);
    if (pending.answer !== answer.t) {
      pending.reject(new RequestFailed(`the host answered with ${answer.t}`, "bad_message"));
      return;
    }
    try {
      await pending.apply(answer as never);
      pending.resolve();
    } catch (err) {
      pending.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * Fail the queued texts whose lifetime is over, and set the timer for the
   * next one; the outbox as it is then (one read: flush sends from it).
   */
  async #expire(): Promise<OutboxEntry[]> {
    const ttl = this.#textTtl;
    if (ttl === null || this.#stopped) return this.#deps.store.outbox();
    const { outbox, failed } = await expire(this.#deps.store, this.#deps.now(), ttl);
    if (failed > 0) this.#changed();
    const next = nextExpiry(outbox, ttl);
    this.#clearExpiryTimer(); // another call may have set one meanwhile
    if (next === null || this.#stopped) return outbox;
    const wait = Math.min(Math.max(0, next - this.#deps.now()), EXPIRY_CHECK_CAP);
    this.#expiryTimer = this.#timers.setTimeout(() => {
      this.#expiryTimer = null;
      this.#expire().catch((err: unknown) => this.#log(`cannot expire texts: ${err instanceof Error ? err.message : String(err)}`));
    }, wait);
    return outbox;
  }

  #clearExpiryTimer(): void {
    if (this.#expiryTimer !== null) this.#timers.clearTimeout(this.#expiryTimer);
    this.#expiryTimer = null;
  }

  #flushReads(): void {
    for (const conv of this.#pendingReads) this.#send({ t: "read", conv });
    this.#pendingReads.clear();
  }

  #setStatus(change: Partial<ConnectionStatus>): void {
    const next = { ...this.#status, ...change };
    if (next.relay === this.#status.relay && next.hostOnline === this.#status.hostOnline
      && next.ready === this.#status.ready) return;
    this.#status = next;
    this.#deps.onStatus?.(next);
  }

  #log(message: string): void {
    this.#deps.onLog?.(message);
  }

  // ------------------------------------------------------------ the loop

  async #loop(): Promise<void> {
    try {
      // The lifetime the last welcome gave (kept with the pairing), if newer than ours.
      const stored = await this.#deps.store.pairing();
      if (stored?.token === this.#deps.pairing.token && stored.textTtlMs !== undefined) this.#textTtl = stored.textTtlMs;
      await this.#expire(); // texts that expired while this browser was closed fail now
    } catch (err) {
      this.#log(`cannot expire texts: ${err instanceof Error ? err.message : String(err)}`); // connect all the same
    }
    let attempt = 0;
    while (!this.#stopped) {
      let reached = false;
      let refused = false;
      try {
        await this.#connectOnce(() => {
          reached = true;
        });
      } catch (err) {
        if (err instanceof Unpaired) {
          await this.#unpaired();
          return;
        }
        if (err instanceof TextportError && err.code === "unauthorized") {
          refused = true;
          const now = this.#deps.now();
          this.#refusedSince ??= now;
          if (now - this.#refusedSince >= UNAUTHORIZED_GRACE) {
            await this.#unpaired();
            return;
          }
        }
        this.#log(`connection ended: ${err instanceof Error ? err.message : String(err)}`);
        if (roomUnknown(err)) {
          // The relay restarted and the host has not claimed its room since: the host is away.
          // Asked again every few seconds (not backing off to 30 s), so a returning phone shows soon.
          this.#refusedSince = null;
          refused = true;
          this.#setStatus({ relay: "up", hostOnline: false, ready: false });
        } else if (err instanceof SocketClosed && !err.opened) this.#setStatus({ relay: "unreachable", ready: false });
        else this.#setStatus({ relay: this.#status.relay === "unreachable" ? "unreachable" : "connecting", ready: false });
      } finally {
        this.#endSession();
        this.#queue = null;
      }
      if (this.#stopped) break;
      if (reached) attempt = 0;
      const delay = refused
        ? UNAUTHORIZED_RETRY * (0.75 + this.#deps.random() / 2)
        : this.#deps.random() * Math.min(BACKOFF_CAP, BACKOFF_FIRST * 2 ** attempt);
      attempt = Math.min(attempt + 1, 16);
      await this.#sleep(delay);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#timers.setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        this.#timers.clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }

  async #unpaired(): Promise<void> {
    this.#stopped = true;
    this.#clearExpiryTimer();
    this.#setStatus({ ready: false });
    const hostName = this.#deps.pairing.hostName;
    await this.#deps.store.forgetPairing();
    this.#deps.onUnpaired?.(hostName);
  }

  async #connectOnce(reached: () => void): Promise<void> {
    const { pairing } = this.#deps;
    const queue = new FrameQueue(this.#deps.socket, pairing.relay, this.#timers);
    this.#queue = queue;
    try {
      await queue.opened(OPEN_TIMEOUT);
      queue.control({ op: "join", room: pairing.room, token: pairing.token });
      const ready = await queue.next(STEP_TIMEOUT, "the relay");
      this.#relayControl(ready);
      if (ready.op !== "ready") throw new TextportError(`unexpected ${ready.op} from the relay`, "bad_frame");
      this.#refusedSince = null;
      let online = ready.online;
      this.#setStatus({ relay: "up", hostOnline: online, ready: false });
      for (;;) {
        while (!online) {
          const frame = await queue.next();
          this.#relayControl(frame);
          if (frame.op === "presence") online = frame.online;
        }
        this.#setStatus({ hostOnline: true });
        try {
          await this.#runSession(queue, reached);
        } catch (err) {
          if (!(err instanceof HostOffline)) throw err;
        }
        this.#endSession();
        online = false;
        this.#setStatus({ hostOnline: false, ready: false });
      }
    } catch (err) {
      if (err instanceof SocketClosed && UNPAIRED_CODES.has(err.reason)) throw new Unpaired();
      throw err;
    } finally {
      queue.close(1000, "");
    }
  }

  /**
   * Relay errors end the connection; `revoked` ends the pairing. When the host
   * refuses this device's key it closes the link with its error code as the
   * reason, which the relay passes on as `error{session_closed, message: reason}`.
   */
  #relayControl(frame: Frame): void {
    if (frame.op !== "error") return;
    if (UNPAIRED_CODES.has(frame.code)) throw new Unpaired();
    if (frame.code === "session_closed" && UNPAIRED_CODES.has(frame.message)) throw new Unpaired();
    throw new TextportError(frame.message || frame.code, frame.code as ErrorCode);
  }

  /** The next DATA payload; presence{online:false} ends the session (HostOffline). */
  async #nextData(queue: FrameQueue, ms?: number, what?: string): Promise<Uint8Array> {
    for (;;) {
      const frame = await queue.next(ms, what);
      this.#relayControl(frame);
      if (frame.op === "data") return frame.payload;
      if (frame.op === "presence" && !frame.online) throw new HostOffline();
    }
  }

  #endSession(): void {
    this.#session?.close();
    this.#session = null;
    for (const pending of this.#pending.values()) {
      pending.reject(new RequestFailed("the connection to the host ended", "session_closed"));
    }
    this.#pending.clear();
    this.#syncing = false;
    if (this.#pingTimer !== null) this.#timers.clearTimeout(this.#pingTimer);
    this.#pingTimer = null;
    this.#pingOutstanding = false;
  }

  async #runSession(queue: FrameQueue, reached: () => void): Promise<void> {
    const { deviceKey, pairing, store } = this.#deps;
    const handshake = await deviceHandshake(
      deviceKey, pairing.hostPublic, derive.unb64url(pairing.room, derive.ROOM_LEN));
    queue.data(await handshake.write());
    await handshake.read(await this.#nextData(queue, STEP_TIMEOUT, "the host's handshake"));
    const session = handshake.session(this.#deps.now() / 1000);
    this.#session = session;
    this.#sendTail = Promise.resolve();
    this.#sentThisSession = new Set();
    this.#send({ t: "hello", proto: derive.PROTO, agent: this.#deps.agent });

    const welcome = await session.open(await this.#nextData(queue, STEP_TIMEOUT, "the host's welcome"));
    if (welcome.t !== "welcome") {
      await this.#handle(welcome);
      throw new TextportError(`expected welcome, got ${welcome.t}`, "bad_message");
    }
    reached();
    this.#caps = welcome.caps;
    if (welcome.host_name !== pairing.hostName || welcome.caps.text_ttl_ms !== this.#textTtl) {
      await store.updateHost(welcome.host_name, welcome.caps.text_ttl_ms);
    }
    this.#textTtl = welcome.caps.text_ttl_ms;
    this.#deps.onWelcome?.(welcome);

    this.#cursor = await store.cursor();
    this.#sync();
    this.#schedulePing(queue);
    for (;;) {
      const payload = await this.#nextData(queue);
      await this.#handle(await session.open(payload));
    }
  }

  #sync(): void {
    this.#syncing = true;
    this.#send({ t: "sync", since: this.#cursor, limit: SYNC_LIMIT });
  }

  #schedulePing(queue: FrameQueue): void {
    this.#pingTimer = this.#timers.setTimeout(() => {
      this.#pingTimer = null;
      const session = this.#session;
      if (session === null) return;
      if (this.#pingOutstanding || session.rekeyDue(this.#deps.now() / 1000)) {
        this.#log(this.#pingOutstanding ? "the host stopped answering" : "daily rekey");
        queue.close(1000, "timeout");
        return;
      }
      this.#pingOutstanding = true;
      this.#send({ t: "ping", n: ++this.#pingCount });
      this.#schedulePing(queue);
    }, PING_INTERVAL);
  }

  /** Seal and send, in call order. A failure closes the socket (the loop reconnects). */
  #send(message: Message): void {
    const session = this.#session;
    const queue = this.#queue;
    if (session === null || queue === null) return;
    this.#sendTail = this.#sendTail.then(async () => {
      try {
        const data = await session.seal(message);
        if (this.#session === session) queue.data(data);
      } catch (err) {
        this.#log(`cannot send ${message.t}: ${err instanceof Error ? err.message : String(err)}`);
        queue.close(1000, "send failed");
      }
    });
  }

  #changed(): void {
    this.#deps.onChanged?.();
  }

  async #handle(message: Message): Promise<void> {
    const { store } = this.#deps;
    switch (message.t) {
      case "batch": {
        if (message.events.length === 0) return;
        const result = await store.applyEvents(message.events);
        this.#cursor = result.cursor;
        if (result.applied > 0) this.#changed();
        return;
      }
      case "synced": {
        this.#cursor = await store.advanceCursor(message.seq);
        this.#syncing = false;
        this.#sentThisSession.clear();
        this.#setStatus({ ready: true });
        this.#flushReads();
        await this.flush();
        return;
      }
      case "reset": {
        await store.reset(message.seq);
        this.#cursor = message.seq;
        this.#deps.onReset?.();
        this.#changed();
        this.#sync();
        return;
      }
      case "event": {
        const { event } = message;
        if (this.#syncing || event.seq <= this.#cursor) return;
        if (event.seq !== this.#cursor + 1) {
          this.#log(`gap: event ${event.seq} after ${this.#cursor}; syncing again`);
          this.#sync();
          return;
        }
        const result = await store.applyEvents([event]);
        this.#cursor = result.cursor;
        if (result.applied > 0) {
          this.#changed();
          this.#deps.onLive?.([event]);
        }
        return;
      }
      case "ack":
        if (await applyAck(store, message)) this.#changed();
        return;
      case "error":
        if (message.ref !== null && (await store.outboxEntry(message.ref)) !== null) {
          await applyError(store, message.ref, message.message);
          this.#changed();
          return;
        }
        if (UNPAIRED_CODES.has(message.code)) throw new Unpaired();
        if (message.ref !== null) {
          const pending = /^[0-9]{1,16}$/.test(message.ref) ? this.#pending.get(Number(message.ref)) : undefined;
          if (pending !== undefined) {
            this.#pending.delete(Number(message.ref));
            pending.reject(new RequestFailed(message.message || message.code, message.code as ErrorCode));
          }
          return; // else about a text already replaced, or a request of an earlier session
        }
        throw new TextportError(message.message || message.code, message.code as ErrorCode);
      case "bye":
        if (message.reason === "revoked") throw new Unpaired();
        throw new TextportError(`the host ended the session: ${message.reason}`, "session_closed");
      case "ping":
        this.#send({ t: "pong", n: message.n });
        return;
      case "pong":
        this.#pingOutstanding = false;
        return;
      case "conv_page":
      case "thread_page":
      case "chunk":
      case "results":
      case "done":
      case "device_list":
        await this.#answer(message);
        return;
      case "device_changed":
        this.#deps.onDeviceChanged?.(message);
        return;
      case "welcome":
        return;
      default:
        throw new TextportError(`a host does not send ${message.t}`, "bad_message");
    }
  }
}
