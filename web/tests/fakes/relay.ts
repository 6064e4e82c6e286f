/**
 * TEST DOUBLE: an in-memory relay (docs/protocol.md section 4) behind the
 * client's `SocketFactory`. Rooms with registered token hashes, device links,
 * presence, pairing channels (single use, TTL), and switches to make the
 * relay unreachable. Frames are delivered asynchronously, in order.
 */

import * as derive from "../../src/protocol/derive";
import { type ControlOp, type Frame, decodeFrame, encodeControl, encodeData } from "../../src/protocol/frames";
import type { RelaySocket, SocketFactory, SocketHandlers } from "../../src/client/socket";

export interface Conn {
  readonly id: number;
  readonly url: string;
  readonly handlers: SocketHandlers;
  role: "new" | "host" | "device" | "pair";
  room: string | null;
  link: number;
  tokenHash: string | null;
  channel: string | null;
  closed: boolean;
  tail: Promise<void>;
}

interface Room {
  host: Conn | null;
  readonly tokens: Set<string>;
  readonly links: Map<number, Conn>;
  nextLink: number;
}

interface Channel {
  creator: Conn;
  acceptor: Conn | null;
  expires: number;
  ended: boolean;
}

/** A frame the relay saw, for assertions. */
export interface Seen {
  readonly from: number;
  readonly role: Conn["role"];
  readonly frame: Frame;
}

export class FakeRelay {
  readonly rooms = new Map<string, Room>();
  readonly channels = new Map<string, Channel>();
  readonly conns: Conn[] = [];
  readonly seen: Seen[] = [];
  /** When false, new sockets fail to open (as if the relay were down). */
  reachable = true;
  /** The relay's clock, ms. */
  now: () => number = () => Date.now();
  #nextConn = 1;

  constructor(readonly url = "ws://127.0.0.1:8765/v1") {}

  readonly factory: SocketFactory = (url: string, handlers: SocketHandlers): RelaySocket => {
    const conn: Conn = {
      id: this.#nextConn++, url, handlers, role: "new", room: null, link: 0, tokenHash: null,
      channel: null, closed: false, tail: Promise.resolve(),
    };
    this.conns.push(conn);
    if (!this.reachable || url !== this.url) {
      conn.closed = true;
      later(() => handlers.close(1006, ""));
    } else {
      later(() => {
        if (!conn.closed) handlers.open();
      });
    }
    return {
      send: (data) => {
        if (conn.closed) return;
        const copy = data.slice();
        conn.tail = conn.tail.then(() => this.#receive(conn, copy)).catch((err: unknown) => {
          this.#error(conn, "internal", String(err));
        });
      },
      close: () => this.#drop(conn),
    };
  };

  // ------------------------------------------------------------ helpers for tests

  /** Device links currently in a room. */
  links(room: Uint8Array): Conn[] {
    return [...(this.rooms.get(derive.b64url(room))?.links.values() ?? [])];
  }

  /** Close every socket (as a relay restart would), forgetting rooms and channels. */
  restart(): void {
    for (const conn of this.conns) if (!conn.closed) this.#close(conn, 1012, "restart");
    this.rooms.clear();
    this.channels.clear();
  }

  /** Close one socket from the relay's side. */
  kill(conn: Conn, reason = ""): void {
    this.#close(conn, 1011, reason);
  }

  // ------------------------------------------------------------ relay logic

  #send(conn: Conn, frame: Uint8Array): void {
    if (conn.closed) return;
    later(() => {
      if (!conn.closed) conn.handlers.message(frame);
    });
  }

  #control(conn: Conn, op: ControlOp): void {
    this.#send(conn, encodeControl(op));
  }

  #error(conn: Conn, code: string, message: string, fatal = true): void {
    this.#control(conn, { op: "error", code, message });
    if (fatal) later(() => this.#close(conn, 1008, code));
  }

  #close(conn: Conn, code: number, reason: string): void {
    if (conn.closed) return;
    this.#drop(conn);
    later(() => conn.handlers.close(code, reason));
  }

  /** The socket ended: clean up after it. */
  #drop(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    const room = conn.room === null ? undefined : this.rooms.get(conn.room);
    if (conn.role === "host" && room !== undefined && room.host === conn) {
      room.host = null;
      for (const device of room.links.values()) this.#control(device, { op: "presence", online: false });
    }
    if (conn.role === "device" && room !== undefined) {
      room.links.delete(conn.link);
      if (room.host !== null) this.#control(room.host, { op: "closed", link: conn.link });
    }
    if (conn.role === "pair" && conn.channel !== null) {
      const channel = this.channels.get(conn.channel);
      if (channel !== undefined) {
        channel.ended = true;
        const other = channel.creator === conn ? channel.acceptor : channel.creator;
        if (other !== null) this.#close(other, 1000, "peer left");
      }
    }
  }

  async #receive(conn: Conn, data: Uint8Array): Promise<void> {
    if (conn.closed) return;
    let frame: Frame;
    try {
      frame = decodeFrame(data);
    } catch {
      this.#error(conn, "bad_frame", "bad frame");
      return;
    }
    this.seen.push({ from: conn.id, role: conn.role, frame });
    switch (frame.op) {
      case "data":
        this.#data(conn, frame.link, frame.payload);
        return;
      case "host": {
        const room = this.#room(frame.room);
        if (room.host !== null && room.host !== conn) this.#close(room.host, 1000, "replaced");
        room.host = conn;
        conn.role = "host";
        conn.room = frame.room;
        this.#control(conn, { op: "ready", online: true });
        for (const [link, device] of room.links) {
          this.#control(conn, { op: "opened", link });
          this.#control(device, { op: "presence", online: true });
        }
        return;
      }
      case "register":
        if (conn.role === "host" && conn.room !== null) this.#room(conn.room).tokens.add(frame.token_hash);
        return;
      case "unregister": {
        if (conn.role !== "host" || conn.room === null) return;
        const room = this.#room(conn.room);
        room.tokens.delete(frame.token_hash);
        for (const device of [...room.links.values()]) {
          if (device.tokenHash === frame.token_hash) this.#error(device, "revoked", "this device was unpaired");
        }
        return;
      }
      case "close": {
        if (conn.role !== "host" || conn.room === null) return;
        // As src/textport/relay/server.py does: the host's reason travels as the error's message.
        const device = this.#room(conn.room).links.get(frame.link);
        if (device !== undefined) this.#error(device, "session_closed", frame.reason || "closed by the host");
        return;
      }
      case "join": {
        const room = this.rooms.get(frame.room);
        const hash = derive.b64url(await derive.tokenHash(derive.unb64url(frame.token, 32)));
        // As src/textport/relay/rooms.py does: a room no host claimed (since a restart) is
        // room_unknown; a room without this token is unauthorized.
        if (room === undefined) {
          this.#error(conn, "room_unknown", "no host has claimed this room since the relay started; retry later");
          return;
        }
        if (!room.tokens.has(hash)) {
          this.#error(conn, "unauthorized", "unknown device token: revoked, or not registered by the host yet");
          return;
        }
        conn.role = "device";
        conn.room = frame.room;
        conn.tokenHash = hash;
        conn.link = room.nextLink++;
        room.links.set(conn.link, conn);
        this.#control(conn, { op: "ready", online: room.host !== null });
        if (room.host !== null) this.#control(room.host, { op: "opened", link: conn.link });
        return;
      }
      case "offer": {
        const old = this.channels.get(frame.channel);
        if (old !== undefined && !(old.ended && this.now() >= old.expires)) {
          this.#error(conn, "pairing_used", "this pairing channel is taken");
          return;
        }
        conn.role = "pair";
        conn.channel = frame.channel;
        this.channels.set(frame.channel, {
          creator: conn, acceptor: null, expires: this.now() + frame.ttl * 1000, ended: false,
        });
        return;
      }
      case "accept": {
        const channel = this.channels.get(frame.channel);
        if (channel === undefined) {
          this.#error(conn, "pairing_unknown", "no such pairing channel");
          return;
        }
        if (channel.acceptor !== null) {
          this.#error(conn, "pairing_used", "this pairing channel was already used");
          return;
        }
        if (channel.ended || this.now() >= channel.expires) {
          this.#error(conn, "pairing_expired", "this pairing channel expired");
          return;
        }
        channel.acceptor = conn;
        conn.role = "pair";
        conn.channel = frame.channel;
        this.#control(channel.creator, { op: "peer" });
        this.#control(conn, { op: "peer" });
        return;
      }
      default:
        this.#error(conn, "bad_frame", `a client does not send ${frame.op}`);
    }
  }

  #data(conn: Conn, link: number, payload: Uint8Array): void {
    if (conn.role === "device") {
      const room = this.rooms.get(conn.room ?? "");
      if (room?.host) this.#send(room.host, encodeData(conn.link, payload));
    } else if (conn.role === "host") {
      const device = this.rooms.get(conn.room ?? "")?.links.get(link);
      if (device !== undefined) this.#send(device, encodeData(0, payload));
    } else if (conn.role === "pair") {
      const channel = this.channels.get(conn.channel ?? "");
      const other = channel === undefined ? null : channel.creator === conn ? channel.acceptor : channel.creator;
      if (other !== null) this.#send(other, encodeData(0, payload));
    } else {
      this.#error(conn, "bad_frame", "data before join");
    }
  }

  #room(id: string): Room {
    let room = this.rooms.get(id);
    if (room === undefined) {
      room = { host: null, tokens: new Set(), links: new Map(), nextLink: 1 };
      this.rooms.set(id, room);
    }
    return room;
  }
}

function later(callback: () => void): void {
  setTimeout(callback, 0);
}
