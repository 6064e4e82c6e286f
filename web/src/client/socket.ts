/**
 * Relay sockets, seen as a queue of decoded frames.
 *
 * `RelaySocket` is the little the client needs of a WebSocket, so tests can
 * put an in-memory relay behind it; `browserSocket` is the real one. A
 * `FrameQueue` turns a socket into `await next()`: each frame decoded once
 * (docs/protocol.md section 4), a malformed one closing the socket.
 */

import { TextportError } from "../protocol/errors";
import { type Frame, decodeFrame, encodeControl, encodeData, type ControlOp } from "../protocol/frames";

export interface SocketHandlers {
  open(): void;
  message(data: Uint8Array): void;
  /** The socket ended (also after an error); `reason` is the close reason, if any. */
  close(code: number, reason: string): void;
}

export interface RelaySocket {
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** Open a socket to `url`; handlers are called from then on. */
export type SocketFactory = (url: string, handlers: SocketHandlers) => RelaySocket;

/** The browser's WebSocket as a RelaySocket (binary frames only). */
export const browserSocket: SocketFactory = (url, handlers) => {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  let closed = false;
  const end = (code: number, reason: string): void => {
    if (closed) return;
    closed = true;
    handlers.close(code, reason);
  };
  ws.onopen = () => handlers.open();
  ws.onmessage = (event: MessageEvent) => {
    if (event.data instanceof ArrayBuffer) handlers.message(new Uint8Array(event.data));
    else {
      ws.close(1003, "bad_frame");
      end(1003, "bad_frame");
    }
  };
  ws.onerror = () => end(1006, "");
  ws.onclose = (event) => end(event.code, event.reason);
  return {
    send(data) {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    },
    close(code = 1000, reason = "") {
      try {
        ws.close(code, reason.slice(0, 100));
      } catch {
        ws.close();
      }
      end(code, reason);
    },
  };
};

/** The socket closed; `reason` is the close reason ("" when none). */
export class SocketClosed extends TextportError {
  constructor(readonly closeCode: number, readonly reason: string, readonly opened: boolean) {
    super(opened ? "the relay connection closed" : "cannot reach the relay", "session_closed");
  }
}

/** Waiting for a frame took too long. */
export class Timeout extends TextportError {
  constructor(what: string) {
    super(`timed out waiting for ${what}`, "session_closed");
  }
}

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

interface Waiter {
  resolve(frame: Frame): void;
  reject(err: unknown): void;
}

/** A socket whose incoming frames are read one at a time, in order. */
export class FrameQueue {
  readonly #socket: RelaySocket;
  readonly #timers: Timers;
  #frames: Frame[] = [];
  #waiters: Waiter[] = [];
  #error: unknown = null;
  #opened = false;
  #openWaiters: { resolve(): void; reject(err: unknown): void }[] = [];

  constructor(factory: SocketFactory, url: string, timers: Timers = realTimers) {
    this.#timers = timers;
    this.#socket = factory(url, {
      open: () => {
        this.#opened = true;
        for (const w of this.#openWaiters.splice(0)) w.resolve();
      },
      message: (data) => {
        if (this.#error !== null) return;
        let frame: Frame;
        try {
          frame = decodeFrame(data);
        } catch (err) {
          this.#fail(err);
          this.#socket.close(1002, "bad_frame");
          return;
        }
        const waiter = this.#waiters.shift();
        if (waiter !== undefined) waiter.resolve(frame);
        else this.#frames.push(frame);
      },
      close: (code, reason) => this.#fail(new SocketClosed(code, reason, this.#opened)),
    });
  }

  get isOpen(): boolean {
    return this.#opened && this.#error === null;
  }

  /** The error that ended the queue, or null while it is alive. */
  get error(): unknown {
    return this.#error;
  }

  #fail(err: unknown): void {
    if (this.#error !== null) return;
    this.#error = err;
    for (const w of this.#waiters.splice(0)) w.reject(err);
    for (const w of this.#openWaiters.splice(0)) w.reject(err);
  }

  /** Resolve when the socket is open (reject if it fails or `ms` pass). */
  opened(ms: number): Promise<void> {
    if (this.#opened) return Promise.resolve();
    if (this.#error !== null) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      const timer = this.#timers.setTimeout(() => {
        const err = new Timeout("the relay");
        this.#fail(err);
        this.#socket.close(1000, "timeout");
      }, ms);
      this.#openWaiters.push({
        resolve: () => {
          this.#timers.clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          this.#timers.clearTimeout(timer);
          reject(err);
        },
      });
    });
  }

  /** The next frame; rejects when the socket closes, or after `ms` (which also closes it). */
  next(ms?: number, what = "the relay"): Promise<Frame> {
    const frame = this.#frames.shift();
    if (frame !== undefined) return Promise.resolve(frame);
    if (this.#error !== null) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      let timer: unknown = null;
      const waiter: Waiter = {
        resolve: (f) => {
          if (timer !== null) this.#timers.clearTimeout(timer);
          resolve(f);
        },
        reject: (err) => {
          if (timer !== null) this.#timers.clearTimeout(timer);
          reject(err);
        },
      };
      if (ms !== undefined) {
        timer = this.#timers.setTimeout(() => {
          this.#fail(new Timeout(what));
          this.#socket.close(1000, "timeout");
        }, ms);
      }
      this.#waiters.push(waiter);
    });
  }

  control(op: ControlOp): void {
    this.#socket.send(encodeControl(op));
  }

  data(payload: Uint8Array): void {
    this.#socket.send(encodeData(0, payload));
  }

  close(code = 1000, reason = ""): void {
    this.#fail(new SocketClosed(code, reason, this.#opened));
    this.#socket.close(code, reason);
  }
}
