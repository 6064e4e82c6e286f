/**
 * The first screen as a browser gets it, for bench/first_screen.py: the
 * browser's own WebSocket and the protocol code of web/src/protocol (WebCrypto
 * Noise, padding, typed decoding) against a real relay and host, nothing else.
 *
 *   socket -> join -> ready -> IK 1 -> IK 2 -> hello -> welcome
 *   -> sync{0} -> reset -> sync{seq}, convs{50} -> conv_page     "first screen"
 *   -> thread{conv, 50} -> thread_page                           "open thread"
 *
 * The bench bundles this file (esbuild), loads it in headless Chromium and
 * calls `window.firstScreen.setup(...)` once (the key import, as a browser
 * that remembers its key does once), then `round(i)` per measurement: each
 * round opens a fresh socket and returns its two durations and five ping/pongs in
 * milliseconds (performance.now(), with marks and measures for a trace);
 * `crypto(a, b)` times the WebCrypto work alone for the bench's baseline.
 */

import { fromHex } from "../src/protocol/bytes";
import * as derive from "../src/protocol/derive";
import { decodeFrame, encodeControl, encodeData } from "../src/protocol/frames";
import { type KeyPair, generateKeyPair, importPrivateKey } from "../src/protocol/keys";
import type { Message } from "../src/protocol/messages";
import { deviceHandshake, hostHandshake } from "../src/protocol/session";

export interface Setup {
  readonly relay: string;
  readonly room: string;
  readonly token: string;
  readonly hostPublic: string;
  readonly devicePrivate: string;
}

/** Milliseconds: the two figures and five ping/pongs; the conversation opened. */
export interface Timing {
  readonly screen: number;
  readonly thread: number;
  readonly pings: readonly number[];
  readonly conv: number;
}

/** Milliseconds of WebCrypto alone: IK both sides and a seal and an open of the conv
 * page's bytes; a seal and an open of the thread page's. */
export interface CryptoTiming {
  readonly screen: number;
  readonly thread: number;
}

/** A socket whose binary messages are awaited one at a time, in order. */
class Socket {
  readonly #ws: WebSocket;
  readonly #queue: Uint8Array[] = [];
  #waiter: ((data: Uint8Array) => void) | null = null;
  #failure: ((error: Error) => void) | null = null;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.binaryType = "arraybuffer";
    ws.onmessage = (event: MessageEvent<ArrayBuffer>) => {
      const data = new Uint8Array(event.data);
      if (this.#waiter !== null) {
        const waiter = this.#waiter;
        this.#waiter = null;
        waiter(data);
      } else {
        this.#queue.push(data);
      }
    };
    ws.onclose = () => this.#failure?.(new Error("the relay closed the socket"));
  }

  static open(url: string): Promise<Socket> {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve(new Socket(ws));
      ws.onerror = () => reject(new Error("the socket did not open"));
    });
  }

  send(data: Uint8Array<ArrayBuffer>): void {
    this.#ws.send(data);
  }

  next(): Promise<Uint8Array> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#failure = reject;
    });
  }

  close(): void {
    this.#ws.onclose = null;
    this.#ws.close();
  }
}

async function payload(socket: Socket): Promise<Uint8Array> {
  const frame = decodeFrame(await socket.next());
  if (frame.op === "data") return frame.payload;
  throw new Error(`the relay sent ${frame.op}`);
}

interface Ready {
  readonly relay: string;
  readonly room: Uint8Array;
  readonly token: Uint8Array;
  readonly host: Uint8Array;
  readonly key: KeyPair;
  /** A host key of our own, for the crypto alone. */
  readonly hostKey: KeyPair;
}

let setup: Ready | null = null;

async function configure(options: Setup): Promise<void> {
  setup = {
    relay: options.relay,
    room: fromHex(options.room),
    token: fromHex(options.token),
    host: fromHex(options.hostPublic),
    key: await importPrivateKey(fromHex(options.devicePrivate)),
    hostKey: await generateKeyPair(),
  };
}

function ready(): Ready {
  if (setup === null) throw new Error("call setup first");
  return setup;
}

async function round(index: number): Promise<Timing> {
  const s = ready();
  const started = performance.now();
  performance.mark(`open ${index}`);
  const socket = await Socket.open(s.relay);
  try {
    socket.send(encodeControl({ op: "join", room: derive.b64url(s.room), token: derive.b64url(s.token) }));
    const ready = decodeFrame(await socket.next());
    if (ready.op !== "ready" || !ready.online) throw new Error(`not admitted: ${JSON.stringify(ready)}`);
    const handshake = await deviceHandshake(s.key, s.host, s.room);
    socket.send(encodeData(0, await handshake.write()));
    await handshake.read(await payload(socket));
    const session = handshake.session(Date.now() / 1000);
    const send = async (message: Message): Promise<void> => socket.send(encodeData(0, await session.seal(message)));
    const receive = async (): Promise<Message> => session.open(await payload(socket));

    await send({ t: "hello", proto: 1, agent: "bench/first_screen chromium" });
    const welcome = await receive();
    if (welcome.t !== "welcome") throw new Error(`expected welcome, got ${welcome.t}`);
    await send({ t: "sync", since: 0, limit: 1000 });
    const reset = await receive();
    if (reset.t !== "reset") throw new Error(`expected reset, got ${reset.t}`);
    await send({ t: "sync", since: reset.seq, limit: 1000 });
    await send({ t: "convs", qid: 1, before: null, limit: 50, folder: "inbox" });
    let page: Message;
    do page = await receive();
    while (page.t !== "conv_page");
    const screen = performance.now() - started;
    performance.mark(`conv page decoded ${index}`);
    performance.measure(`first screen ${index}`, `open ${index}`, `conv page decoded ${index}`);

    const conv = page.convs[index % page.convs.length];
    if (conv === undefined) throw new Error("no conversations");
    const asked = performance.now();
    await send({ t: "thread", qid: 2, conv: conv.id, before: null, after: null, limit: 50 });
    let thread: Message;
    do thread = await receive();
    while (thread.t !== "thread_page");
    const opened = performance.now() - asked;
    performance.mark(`thread page decoded ${index}`);
    performance.measure(`open thread ${index}`, `conv page decoded ${index}`, `thread page decoded ${index}`);
    if (page.convs.length !== 50 || thread.msgs.length === 0) throw new Error("short pages");
    const pings: number[] = [];
    for (let n = 3; n < 8; n++) {
      const pinged = performance.now();
      await send({ t: "ping", n });
      let pong: Message;
      do pong = await receive();
      while (pong.t !== "pong");
      pings.push(performance.now() - pinged);
    }
    return { screen, thread: opened, pings, conv: conv.id };
  } finally {
    socket.close();
  }
}

async function crypto(screenBody: string, threadBody: string): Promise<CryptoTiming> {
  const s = ready();
  const [screenBytes, threadBytes] = [fromHex(screenBody), fromHex(threadBody)];
  const started = performance.now();
  const device = await deviceHandshake(s.key, s.hostKey.publicKey, s.room);
  const host = await hostHandshake(s.hostKey, s.room);
  await host.read(await device.write());
  await device.read(await host.write());
  const [toDevice, atDevice] = [host.session(0), device.session(0)];
  await atDevice.openBody(await toDevice.sealBody(screenBytes));
  const screen = performance.now();
  await atDevice.openBody(await toDevice.sealBody(threadBytes));
  return { screen: screen - started, thread: performance.now() - screen };
}

declare global {
  interface Window {
    firstScreen: { setup: typeof configure; round: typeof round; crypto: typeof crypto };
  }
}

window.firstScreen = { setup: configure, round, crypto };
document.title = "first screen ready";
