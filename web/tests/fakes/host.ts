/**
 * TEST DOUBLE: a host built from web/src/protocol, playing the Python host's
 * part (src/textport/host/) against the FakeRelay: the host socket and its
 * device links (Noise IK responder, allow-list), hello/welcome, sync with
 * batches and reset (history is never replayed: since 0, an unknown cursor or
 * one over `replayLimit` behind), send -> ack (deduped on cmid) -> events,
 * read, bye on revoke; the history requests answered from its in-memory
 * lists (convs, thread, fetch, search, with keyset positions and
 * error{ref: qid}); conversation management (folders, conv_set, conv_delete,
 * contact -> done, the `gone` event); and the three pairing flows (reading a browser's offer, a
 * typed code, a link it made itself).
 */

import { equal, toHex } from "../../src/protocol/bytes";
import { compare, conversationPosition, messagePosition } from "../../src/client/keyset";
import * as derive from "../../src/protocol/derive";
import { decodeFrame, encodeControl, encodeData, type Frame } from "../../src/protocol/frames";
import { type KeyPair, generateKeyPair } from "../../src/protocol/keys";
import {
  type Ack,
  type AttachmentRecord,
  type Capabilities,
  CHUNK_BYTES,
  type ConversationRecord,
  type DeviceRecord,
  type Folder,
  type Hit,
  MAX_PINNED,
  type Message,
  type MessageRecord,
  type State,
  type StoreEvent,
} from "../../src/protocol/messages";
import { CodeHostHandshake, PairingOffer, offerHandshake } from "../../src/protocol/pairing";
import { type Handshake, type Session, hostHandshake } from "../../src/protocol/session";
import type { RelaySocket } from "../../src/client/socket";
import type { FakeRelay } from "./relay";

/** A new conversation record: no flags, no names. */
export function conversationRecord(
  fields: Pick<ConversationRecord, "id" | "peers"> & Partial<ConversationRecord>,
): ConversationRecord {
  return {
    name: null, last_at: 0, snippet: "", unread: 0, hist: 0,
    pinned: false, archived: false, muted: false, blocked: false, names: fields.peers.map(() => null),
    ...fields,
  };
}

/** The folder a conversation is listed in (docs/protocol.md section 9, "Folders"). */
export function folderOf(conv: ConversationRecord): Folder {
  return conv.blocked ? "blocked" : conv.archived ? "archived" : conv.pinned ? "pinned" : "inbox";
}

interface Device {
  readonly public: Uint8Array;
  readonly tokenHash: string;
  readonly name: string;
  status: "active" | "revoked";
  /** Paired for one browser session (pair_request `session`). */
  readonly session?: boolean;
  readonly created?: number;
}

interface Link {
  readonly id: number;
  readonly handshake: Handshake;
  session: Session | null;
  device: Device | null;
  synced: boolean;
  sentSeq: number;
  tail: Promise<void>;
}

/** A socket to the relay whose frames are awaited in order. */
class Wire {
  readonly socket: RelaySocket;
  readonly #frames: Frame[] = [];
  readonly #waiters: ((frame: Frame | null) => void)[] = [];
  #closed = false;
  readonly opened: Promise<void>;
  onFrame: ((frame: Frame) => void) | null = null;

  constructor(relay: FakeRelay) {
    let open!: () => void;
    this.opened = new Promise((resolve) => (open = resolve));
    this.socket = relay.factory(relay.url, {
      open: () => open(),
      message: (data) => {
        const frame = decodeFrame(data);
        if (this.onFrame !== null) return this.onFrame(frame);
        const waiter = this.#waiters.shift();
        if (waiter) waiter(frame);
        else this.#frames.push(frame);
      },
      close: () => {
        this.#closed = true;
        for (const w of this.#waiters.splice(0)) w(null);
      },
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** From now on hand every frame to `handler` (the ones already queued first). */
  listen(handler: (frame: Frame) => void): void {
    this.onFrame = handler;
    for (const frame of this.#frames.splice(0)) handler(frame);
  }

  next(): Promise<Frame> {
    const frame = this.#frames.shift();
    if (frame) return Promise.resolve(frame);
    if (this.#closed) return Promise.reject(new Error("closed"));
    return new Promise((resolve, reject) =>
      this.#waiters.push((f) => (f === null ? reject(new Error("closed")) : resolve(f))));
  }

  async data(): Promise<Uint8Array> {
    const frame = await this.next();
    if (frame.op === "error") throw new Error(`relay error ${frame.code}`);
    if (frame.op !== "data") throw new Error(`expected data, got ${frame.op}`);
    return frame.payload;
  }
}

export interface HostOptions {
  readonly name?: string;
  /** Answer the next sends with error{ref: cmid} (code, message), instead of accepting. */
  refuseSends?: { code: string; message: string } | null;
  /** How the host's user answers a pairing request. */
  confirm?: (request: { name: string; code: string }) => boolean | Promise<boolean>;
  /** Events per batch in answer to sync. */
  readonly batchSize?: number;
  /** Do not answer ping (a host that hangs). */
  ignorePings?: boolean;
  /** A device further behind than this many events gets reset (the host's REPLAY_LIMIT). */
  readonly replayLimit?: number;
  /** Hold answers to history requests until `release()` (to test what a device shows meanwhile). */
  holdPages?: boolean;
  /** What the host's SMS source can do (welcome.caps); the simulated carrier's by default. */
  readonly caps?: Capabilities;
}

/** An attachment's bytes as the host keeps them (none when broken). */
interface StoredAttachment {
  readonly record: AttachmentRecord;
  readonly data: Uint8Array | null;
}

/** A message of an import: an MMS may carry attachments (with their bytes, or broken). */
export interface HistoryMessage {
  readonly dir: "in" | "out";
  readonly body: string;
  readonly at: number;
  readonly subject?: string;
  readonly sender?: string;
  readonly atts?: readonly { type: string; name: string | null; data: Uint8Array | null; broken?: string }[];
}

export class FakeHost {
  readonly name: string;
  readonly room: Uint8Array = crypto.getRandomValues(new Uint8Array(16));
  key!: KeyPair;
  readonly devices: Device[] = [];
  readonly events: StoreEvent[] = [];
  readonly conversations = new Map<number, ConversationRecord>();
  /** Contact names by number (the `contact` request), rendered into every record's `names`. */
  readonly contacts = new Map<string, string>();
  readonly messages = new Map<number, MessageRecord>();
  readonly acks = new Map<string, Ack>();
  /** Every message received from devices, in order (for assertions). */
  readonly received: Message[] = [];
  readonly links = new Map<number, Link>();
  readonly attachments = new Map<number, StoredAttachment>();
  /** Answers held back while `holdPages` is set. */
  readonly #held: (() => Promise<void>)[] = [];
  /** Pairing requests the host's user was asked about. */
  readonly requests: { name: string; agent: string; code: string }[] = [];
  options: HostOptions;
  #wire: Wire | null = null;
  #nextId = 1;

  private constructor(readonly relay: FakeRelay, options: HostOptions) {
    this.name = options.name ?? "Test phone";
    this.options = options;
  }

  static async create(relay: FakeRelay, options: HostOptions = {}): Promise<FakeHost> {
    const host = new FakeHost(relay, options);
    host.key = await generateKeyPair(false);
    return host;
  }

  get seq(): number {
    return this.events.at(-1)?.seq ?? 0;
  }

  // ------------------------------------------------------------ the host socket

  async connect(): Promise<void> {
    const wire = new Wire(this.relay);
    this.#wire = wire;
    await wire.opened;
    wire.socket.send(encodeControl({ op: "host", room: derive.b64url(this.room), cred: "c".repeat(22) }));
    const ready = await wire.next();
    if (ready.op !== "ready") throw new Error(`host not admitted: ${ready.op}`);
    for (const device of this.devices) {
      if (device.status === "active") wire.socket.send(encodeControl({ op: "register", token_hash: device.tokenHash }));
    }
    wire.listen((frame) => this.#dispatch(frame));
  }

  disconnect(): void {
    this.#wire?.socket.close();
    this.#wire = null;
    this.links.clear();
  }

  #dispatch(frame: Frame): void {
    switch (frame.op) {
      case "opened":
        void hostHandshake(this.key, this.room).then((handshake) => {
          this.links.set(frame.link, {
            id: frame.link, handshake, session: null, device: null, synced: false, sentSeq: 0, tail: Promise.resolve(),
          });
        });
        return;
      case "closed":
        this.links.delete(frame.link);
        return;
      case "data": {
        // A DATA frame may arrive right after "opened", before the handshake object exists.
        const run = async (): Promise<void> => {
          for (let i = 0; i < 50 && !this.links.has(frame.link); i++) await new Promise((r) => setTimeout(r, 1));
          const link = this.links.get(frame.link);
          if (link === undefined) return;
          link.tail = link.tail.then(() => this.#onData(link, frame.payload)).catch(() => this.#close(link, "internal"));
        };
        void run();
        return;
      }
      default:
        return;
    }
  }

  #sendFrame(data: Uint8Array): void {
    this.#wire?.socket.send(data);
  }

  #close(link: Link, reason: string): void {
    this.links.delete(link.id);
    this.#sendFrame(encodeControl({ op: "close", link: link.id, reason }));
  }

  async #send(link: Link, message: Message): Promise<void> {
    if (link.session === null || link.session.closed) return;
    this.#sendFrame(encodeData(link.id, await link.session.seal(message)));
  }

  async #onData(link: Link, payload: Uint8Array): Promise<void> {
    if (link.session === null) {
      await link.handshake.read(payload);
      const device = this.devices.find((d) => equal(d.public, link.handshake.remoteStatic ?? new Uint8Array()));
      if (device === undefined) return this.#close(link, "not_paired");
      if (device.status !== "active") return this.#close(link, "revoked");
      this.#sendFrame(encodeData(link.id, await link.handshake.write()));
      link.session = link.handshake.session(Date.now() / 1000);
      link.device = device;
      return;
    }
    let message: Message;
    try {
      message = await link.session.open(payload);
    } catch {
      return this.#close(link, "decrypt_failed");
    }
    this.received.push(message);
    await this.#handle(link, message);
  }

  async #handle(link: Link, message: Message): Promise<void> {
    switch (message.t) {
      case "hello":
        return this.#send(link, {
          t: "welcome", proto: 1, host_name: this.name,
          device_id: derive.b64url(await derive.deviceId(link.device!.public)), seq: this.seq,
          caps: this.options.caps ?? {
            delivery_reports: true, mms: false, max_parts: 10, dual_sim: false, incoming: "events", text_ttl_ms: 86_400_000,
          },
        });
      case "sync": {
        const behind = this.seq - message.since;
        if ((message.since === 0 && this.seq > 0) || behind < 0 || behind > (this.options.replayLimit ?? 5000)) {
          link.synced = false;
          return this.#send(link, { t: "reset", seq: this.seq });
        }
        const events = this.events.filter((e) => e.seq > message.since);
        const size = this.options.batchSize ?? 100;
        for (let i = 0; i < events.length; i += size) {
          const batch = events.slice(i, i + size);
          await this.#send(link, { t: "batch", events: batch, more: i + size < events.length });
        }
        link.sentSeq = this.seq;
        link.synced = true;
        return this.#send(link, { t: "synced", seq: this.seq });
      }
      case "send": {
        const refuse = this.options.refuseSends;
        if (refuse) return this.#send(link, { t: "error", code: refuse.code, message: refuse.message, ref: message.cmid });
        const known = this.acks.get(message.cmid);
        if (known !== undefined) return this.#send(link, known);
        const conv = this.#conversation(message.to, message.body, 0);
        // As the host: more than 5 s ahead is scheduled ("queued" until then, see `unschedule`).
        const scheduled = message.at !== null && message.at > Date.now() + 5000;
        const state: State = scheduled ? "queued" : "sending";
        const msg: MessageRecord = {
          id: this.#nextId++, conv: conv.id, dir: "out", peers: message.to, body: message.body,
          at: scheduled ? message.at! : Date.now(), state, reason: null, cmid: message.cmid, kind: "sms", sender: "",
          subject: null, atts: [], parts: 1, missing: [],
        };
        this.messages.set(msg.id, msg);
        const ack: Ack = { t: "ack", cmid: message.cmid, msg_id: msg.id, state, reason: null };
        this.acks.set(message.cmid, ack);
        await this.#send(link, ack);
        this.#event({ k: "msg", seq: 0, msg });
        return this.push();
      }
      case "read": {
        const conv = this.conversations.get(message.conv);
        if (conv !== undefined && conv.unread !== 0) {
          this.#setConversation({ ...conv, unread: 0 });
          await this.push();
        }
        return;
      }
      case "ping":
        if (this.options.ignorePings) return;
        return this.#send(link, { t: "pong", n: message.n });
      case "conv_set": {
        const { qid, conv: id, pinned, archived, muted, blocked, unread } = message;
        const conv = this.conversations.get(id);
        const refuse = (why: string) => this.#answer(link, { t: "error", code: "bad_message", message: why, ref: `${qid}` });
        if (conv === undefined) return refuse("there is no such conversation");
        if (pinned === true && archived === true) return refuse("a conversation cannot be pinned and archived at once");
        let next: ConversationRecord = {
          ...conv,
          ...(pinned !== null ? { pinned, ...(pinned ? { archived: false } : {}) } : {}),
          ...(archived !== null ? { archived, ...(archived ? { pinned: false } : {}) } : {}),
          ...(muted !== null ? { muted } : {}),
          ...(blocked !== null ? { blocked } : {}),
          ...(unread !== null ? { unread: unread ? Math.max(conv.unread, 1) : 0 } : {}),
        };
        if (next.blocked) next = { ...next, pinned: false, unread: 0 };
        const pins = [...this.conversations.values()].filter((c) => c.pinned).length;
        if (next.pinned && !conv.pinned && pins >= MAX_PINNED) {
          return refuse(`You can pin up to ${MAX_PINNED} conversations; unpin one first.`);
        }
        if (JSON.stringify(next) !== JSON.stringify(conv)) this.#setConversation(next);
        await this.#send(link, { t: "done", qid });
        return this.push();
      }
      case "unschedule": {
        const msg = this.messages.get(message.msg_id);
        if (msg === undefined || msg.state !== "queued") {
          const why = msg === undefined ? "there is no such text" : "that text is no longer waiting: it is being sent or was sent";
          return this.#answer(link, { t: "error", code: "bad_message", message: why, ref: `${message.qid}` });
        }
        await this.#send(link, { t: "done", qid: message.qid });
        return this.setState(msg.id, "failed", "Cancelled before it was sent.");
      }
      case "conv_delete": {
        if (!this.conversations.has(message.conv)) {
          return this.#answer(link, { t: "error", code: "bad_message", message: "there is no such conversation", ref: `${message.qid}` });
        }
        this.conversations.delete(message.conv);
        for (const m of this.thread(message.conv)) this.messages.delete(m.id);
        this.#event({ k: "gone", seq: 0, conv: message.conv });
        await this.#send(link, { t: "done", qid: message.qid });
        return this.push();
      }
      case "devices": {
        const active = this.devices.filter((d) => d.status === "active");
        const devices = await Promise.all(active.map((d) => this.deviceRecord(d, link.device === d)));
        return this.#send(link, { t: "device_list", qid: message.qid, devices });
      }
      case "revoke": {
        const ids = await Promise.all(this.devices.map(async (d) => derive.b64url(await derive.deviceId(d.public))));
        const device = this.devices[ids.indexOf(message.device_id)];
        if (device === undefined || device.status !== "active") {
          return this.#answer(link, { t: "error", code: "bad_message", message: "that device is not paired (any more)", ref: `${message.qid}` });
        }
        await this.#send(link, { t: "done", qid: message.qid });
        return this.revoke(device.public);
      }
      case "contact": {
        const { number, name } = message;
        if (name === null) this.contacts.delete(number);
        else this.contacts.set(number, name);
        for (const conv of this.conversations.values()) {
          if (conv.peers.includes(number)) this.#setConversation({ ...conv, ...(conv.peers.length === 1 ? { name } : {}) });
        }
        await this.#send(link, { t: "done", qid: message.qid });
        return this.push();
      }
      case "convs": {
        const all = [...this.conversations.values()]
          .filter((c) => folderOf(c) === message.folder)
          .filter((c) => message.before === null || compare(conversationPosition(c), message.before) < 0)
          .sort((a, b) => compare(conversationPosition(b), conversationPosition(a)));
        return this.#answer(link, {
          t: "conv_page", qid: message.qid, convs: all.slice(0, message.limit), more: all.length > message.limit,
        });
      }
      case "thread": {
        const { qid, conv, before, after, limit } = message;
        if (!this.conversations.has(conv) || (before !== null && after !== null)) {
          return this.#answer(link, { t: "error", code: "bad_message", message: "there is no such conversation", ref: `${qid}` });
        }
        const mine = this.thread(conv);
        const page = after !== null
          ? mine.filter((m) => compare(messagePosition(m), after) > 0).slice(0, limit + 1)
          : mine.filter((m) => before === null || compare(messagePosition(m), before) < 0).slice(-limit - 1).reverse();
        const more = page.length > limit;
        const msgs = after !== null ? page.slice(0, limit).reverse() : page.slice(0, limit);
        return this.#answer(link, { t: "thread_page", qid, conv, msgs, more });
      }
      case "fetch": {
        const { qid, att, offset } = message;
        const stored = this.attachments.get(att);
        if (stored === undefined || stored.data === null || offset > stored.data.length
          || (offset === stored.data.length && offset > 0)) {
          return this.#answer(link, { t: "error", code: "bad_message", message: "there is no such attachment", ref: `${qid}` });
        }
        const data = stored.data.subarray(offset, offset + CHUNK_BYTES);
        return this.#answer(link, {
          t: "chunk", qid, att, offset, total: stored.data.length, type: stored.record.type,
          data: Buffer.from(data).toString("base64"),
        });
      }
      case "search": {
        const q = message.query.toLowerCase();
        const newestFirst = [...this.messages.values()].sort((a, b) => compare(messagePosition(b), messagePosition(a)));
        const from = message.before === null ? undefined : this.messages.get(message.before);
        const matches = newestFirst.filter((m) => m.body.toLowerCase().includes(q)
          && (from === undefined || compare(messagePosition(m), messagePosition(from)) < 0));
        const hits: Hit[] = matches.slice(0, message.limit).map((m) => {
          const i = m.body.toLowerCase().indexOf(q);
          const snippet = `${m.body.slice(0, i)}\u0002${m.body.slice(i, i + q.length)}\u0003${m.body.slice(i + q.length)}`;
          return { msg_id: m.id, conv: m.conv, at: m.at, snippet: snippet.slice(0, 500) };
        });
        return this.#answer(link, { t: "results", qid: message.qid, hits, more: matches.length > message.limit });
      }
      default:
        return;
    }
  }

  /** Answer a history request now, or when released. */
  #answer(link: Link, message: Message): Promise<void> {
    if (!this.options.holdPages) return this.#send(link, message);
    this.#held.push(() => this.#send(link, message));
    return Promise.resolve();
  }

  /** Send the answers held back (see `holdPages`), in order. */
  async release(): Promise<void> {
    this.options.holdPages = false;
    for (const send of this.#held.splice(0)) await send();
  }

  /** A conversation's messages, oldest first (the keyset order). */
  thread(conv: number): MessageRecord[] {
    return [...this.messages.values()]
      .filter((m) => m.conv === conv)
      .sort((a, b) => compare(messagePosition(a), messagePosition(b)));
  }

  /**
   * Write history as an import does: the messages, their attachments, and one
   * `conv` event for the conversation (no `msg` events); `hist` grows when any
   * message is older than the conversation's newest (added out of time order).
   */
  async import(peers: readonly string[], messages: readonly HistoryMessage[], name: string | null = null): Promise<ConversationRecord> {
    const key = [...peers].sort().join(",");
    const existing = [...this.conversations.values()].find((c) => [...c.peers].sort().join(",") === key);
    const base: ConversationRecord = existing
      ?? conversationRecord({ id: this.#nextId++, peers: [...peers], name });
    let newest = base;
    let outOfOrder = false;
    for (const h of messages) {
      if (existing !== undefined && h.at < existing.last_at) outOfOrder = true;
      const atts = (h.atts ?? []).map((a) => {
        const record: AttachmentRecord = {
          id: this.#nextId++, type: a.type, name: a.name, size: a.data?.length ?? 0, broken: a.broken ?? null,
        };
        this.attachments.set(record.id, { record, data: a.data });
        return record;
      });
      const msg: MessageRecord = {
        id: this.#nextId++, conv: base.id, dir: h.dir, peers: [...peers], body: h.body, at: h.at,
        state: h.dir === "in" ? "received" : "delivered", reason: null, cmid: null,
        kind: atts.length > 0 || h.subject !== undefined ? "mms" : "sms",
        sender: h.dir === "in" ? (h.sender ?? peers[0]!) : "", subject: h.subject ?? null, atts,
        parts: 1, missing: [],
      };
      this.messages.set(msg.id, msg);
      if (h.at >= newest.last_at) newest = { ...newest, last_at: h.at, snippet: h.body.slice(0, 200) };
    }
    const conv = { ...newest, hist: base.hist + (outOfOrder ? 1 : 0) };
    this.#setConversation(conv);
    await this.push();
    return conv;
  }

  // ------------------------------------------------------------ the store

  #event(event: StoreEvent): StoreEvent {
    const numbered = { ...event, seq: this.seq + 1 } as StoreEvent;
    this.events.push(numbered);
    return numbered;
  }

  #setConversation(record: ConversationRecord): void {
    // Names come from the contacts, as the host's store renders them.
    const conv = { ...record, names: record.peers.map((peer) => this.contacts.get(peer) ?? null) };
    this.conversations.set(conv.id, conv);
    this.#event({ k: "conv", seq: 0, conv });
  }

  #conversation(peers: readonly string[], snippet: string, unreadDelta: number): ConversationRecord {
    const key = [...peers].sort().join(",");
    const existing = [...this.conversations.values()].find((c) => [...c.peers].sort().join(",") === key);
    const conv: ConversationRecord = existing === undefined
      ? conversationRecord({ id: this.#nextId++, peers: [...peers], last_at: Date.now(), snippet, unread: unreadDelta })
      : {
        ...existing, last_at: Date.now(), snippet, unread: existing.unread + (existing.blocked ? 0 : unreadDelta),
        archived: existing.archived && !(unreadDelta > 0 && !existing.muted && !existing.blocked),
      };
    this.#setConversation(conv);
    return conv;
  }

  /** An incoming text (conv, msg and conv again, in the host's order), pushed to synced devices. */
  async receive(
    from: string, body: string, name: string | null = null, partial: Pick<MessageRecord, "parts" | "missing"> = { parts: 1, missing: [] },
  ): Promise<MessageRecord> {
    const conv = this.#conversation([from], body, 1);
    if (name !== null) this.#setConversation({ ...conv, name });
    const msg: MessageRecord = {
      id: this.#nextId++, conv: conv.id, dir: "in", peers: [from], body, at: Date.now(),
      state: "received", reason: null, cmid: null, kind: "sms", sender: from, subject: null, atts: [],
      ...partial,
    };
    this.messages.set(msg.id, msg);
    this.#event({ k: "msg", seq: 0, msg });
    // The host's store announces the conversation after the message too (store.py `_insert`).
    this.#event({ k: "conv", seq: 0, conv: this.conversations.get(conv.id)! });
    await this.push();
    return msg;
  }

  async setState(id: number, state: State, reason: string | null = null): Promise<void> {
    const msg = this.messages.get(id);
    if (msg === undefined) throw new Error(`no message ${id}`);
    this.messages.set(id, { ...msg, state, reason });
    this.#event({ k: "status", seq: 0, id, state, reason, at: Date.now() });
    await this.push();
  }

  /** Send every synced link the events it has not had. */
  async push(options: { skip?: number } = {}): Promise<void> {
    for (const link of this.links.values()) {
      if (!link.synced) continue;
      for (const event of this.events.filter((e) => e.seq > link.sentSeq)) {
        if (options.skip !== event.seq) await this.#send(link, { t: "event", event });
        link.sentSeq = event.seq;
      }
    }
  }

  /** Forget every event (as after a store reset): a device ahead of seq gets `reset`. */
  truncate(): void {
    this.events.length = 0;
  }

  /** Send something raw to every device link. */
  async sendAll(message: Message): Promise<void> {
    for (const link of this.links.values()) await this.#send(link, message);
  }

  /** A device as the devices page lists it. */
  async deviceRecord(device: Device, current = false): Promise<DeviceRecord> {
    const connected = [...this.links.values()].some((l) => l.device === device && l.session !== null);
    return {
      id: derive.b64url(await derive.deviceId(device.public)), name: device.name, agent: "textport-web/0.1",
      created: device.created ?? 0, last_seen: null, connected, current, session: device.session === true,
    };
  }

  /** device_changed to every synced link but the device's own, as the host does. */
  async announce(change: "paired" | "unpaired", device: Device): Promise<void> {
    const record = await this.deviceRecord(device);
    for (const link of this.links.values()) {
      if (link.synced && link.device !== device) await this.#send(link, { t: "device_changed", change, device: record });
    }
  }

  /** Unpair a device as `textport devices revoke` does (the others are told). */
  async revoke(devicePublic: Uint8Array): Promise<void> {
    const device = this.devices.find((d) => equal(d.public, devicePublic));
    if (device === undefined) throw new Error("no such device");
    device.status = "revoked";
    await this.announce("unpaired", device);
    for (const link of [...this.links.values()]) {
      if (link.device === device) {
        await this.#send(link, { t: "bye", reason: "revoked" });
        this.#close(link, "revoked");
      }
    }
    this.#sendFrame(encodeControl({ op: "unregister", token_hash: device.tokenHash }));
  }

  // ------------------------------------------------------------ pairing

  async #conclude(wire: Wire, handshake: Handshake, code: string): Promise<Device> {
    const session = handshake.session(Date.now() / 1000);
    const request = await session.open(await wire.data());
    if (request.t !== "pair_request") throw new Error(`expected pair_request, got ${request.t}`);
    this.requests.push({ name: request.name, agent: request.agent, code });
    const ok = await (this.options.confirm ?? (() => true))({ name: request.name, code });
    if (!ok) {
      wire.socket.send(encodeData(0, await session.seal({ t: "pair_reject", reason: "Declined on the host" })));
      throw new Error("declined");
    }
    const token = crypto.getRandomValues(new Uint8Array(32));
    const device: Device = {
      public: handshake.remoteStatic!.slice(),
      tokenHash: derive.b64url(await derive.tokenHash(token)),
      name: request.name,
      status: "active",
      session: request.session,
      created: Date.now(),
    };
    this.devices.push(device);
    await this.announce("paired", device);
    this.#wire?.socket.send(encodeControl({ op: "register", token_hash: device.tokenHash }));
    wire.socket.send(encodeData(0, await session.seal({
      t: "pair_accept", host_name: this.name, room: derive.b64url(this.room),
      token: derive.b64url(token), relay: this.relay.url,
    })));
    return device;
  }

  /** `textport pair '<uri>'`: read the browser's offer and initiate. */
  async pairWithOffer(uri: string): Promise<{ device: Device; code: string }> {
    const offer = PairingOffer.parse(uri, { now: Date.now() / 1000, allowedRelays: [this.relay.url] });
    const wire = new Wire(this.relay);
    await wire.opened;
    wire.socket.send(encodeControl({ op: "accept", channel: offer.channelName }));
    const peer = await wire.next();
    if (peer.op !== "peer") throw new Error(`relay said ${peer.op === "error" ? peer.code : peer.op}`);
    const handshake = await offerHandshake(offer, this.key, { madeOffer: false });
    wire.socket.send(encodeData(0, await handshake.write()));
    await handshake.read(await wire.data());
    wire.socket.send(encodeData(0, await handshake.write()));
    const code = await derive.confirmationCode(handshake.handshakeHash);
    const device = await this.#conclude(wire, handshake, code);
    return { device, code };
  }

  /** `textport pair K7QF-3M9X`: the typed code. */
  async pairWithCode(code: string): Promise<{ device: Device; code: string }> {
    const wire = new Wire(this.relay);
    await wire.opened;
    const handshake = await CodeHostHandshake.create(code, this.relay.url, this.key);
    wire.socket.send(encodeControl({ op: "accept", channel: `code-${code.replace("-", "")}` }));
    const peer = await wire.next();
    if (peer.op !== "peer") throw new Error(`relay said ${peer.op === "error" ? peer.code : peer.op}`);
    wire.socket.send(encodeData(0, handshake.commitment));
    await handshake.read(await wire.data());
    wire.socket.send(encodeData(0, await handshake.write()));
    await handshake.read(await wire.data());
    const shown = await handshake.comparisonCode();
    const device = await this.#conclude(wire, handshake, shown);
    return { device, code: shown };
  }

  /** `textport pair --link`: make an offer and wait in its channel; returns the link and the outcome. */
  async makeLink(ttl = 600, origin = "http://127.0.0.1:8765/"): Promise<{ link: string; offer: PairingOffer; done: Promise<Device> }> {
    const offer = PairingOffer.create(this.relay.url, { now: Date.now() / 1000, ttl });
    const wire = new Wire(this.relay);
    await wire.opened;
    wire.socket.send(encodeControl({ op: "offer", channel: offer.channelName, ttl: Math.min(600, ttl) }));
    const done = (async () => {
      const peer = await wire.next();
      if (peer.op !== "peer") throw new Error(`relay said ${peer.op}`);
      const handshake = await offerHandshake(offer, this.key, { madeOffer: true });
      await handshake.read(await wire.data());
      wire.socket.send(encodeData(0, await handshake.write()));
      await handshake.read(await wire.data());
      return this.#conclude(wire, handshake, await derive.confirmationCode(handshake.handshakeHash));
    })();
    done.catch(() => undefined);
    return { link: `${origin}#${offer.toUri()}`, offer, done };
  }

  deviceByPublic(pub: Uint8Array): Device | undefined {
    return this.devices.find((d) => toHex(d.public) === toHex(pub));
  }
}
