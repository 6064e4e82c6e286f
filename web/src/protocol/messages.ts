/**
 * The application messages of protocol v1 (docs/protocol.md section 9).
 *
 * Each message is one UTF-8 JSON object inside a transport message; `t` names
 * its type (events inside use `k`). They are decoded once at the edge with
 * every limit checked, so handlers never see unchecked data. Mirrors
 * src/textport/protocol/messages.py field for field: `encodeMessage` gives
 * the same bytes as msgspec (keys in the Python struct's order, tag first) and
 * `decodeMessage` the same error codes (see `codeFor`).
 *
 * Names that would shadow a global are changed: Python's `Error` is
 * `ErrorMessage`, `Event` is `StoreEvent` and `MessageEvent` is `MsgEvent`.
 */

import type { Bytes } from "./bytes";
import { type ErrorCode, ProtocolError } from "./errors";
import { B64_16, B64_32, CODE } from "./frames";
import {
  type Fields,
  type Schema,
  JsonFailure,
  JsonInvalid,
  array,
  bool,
  decodeJson,
  encodeJson,
  int,
  literal,
  nullable,
  optional,
  str,
  struct,
  tuple,
  union,
} from "./json";
import { PY_SPACE } from "./text";

export const MAX_BODY_CHARS = 10_000;
export const MAX_RECIPIENTS = 20;
/** Group conversations in imported history can be larger than a text's recipients. */
export const MAX_PEERS = 100;
export const MAX_EVENTS = 1000;
export const MAX_HITS = 100;
export const MAX_PAGE = 100;
export const MAX_ATTACHMENTS = 20;
/** The most attachment bytes one `chunk` carries (60 000 base64 characters). */
export const CHUNK_BYTES = 45_000;
export const MAX_SAFE = 2 ** 53 - 1;

/** A recipient: E.164, or a short code of 3 to 8 digits. */
export const NUMBER_PATTERN = /^(\+[1-9][0-9]{1,14}|[0-9]{3,8})$/u;
/**
 * A conversation peer: any address history holds — a number, a short code, an
 * alphanumeric sender id, an e-mail address — without control characters or commas.
 */
export const ADDRESS_PATTERN = /^[^\x00-\x1f\x7f,]{1,64}$/u;
/** Who wrote an inbound message (one of the peers), or "" for an outbound one. */
export const SENDER_PATTERN = /^[^\x00-\x1f\x7f,]{0,64}$/u;
/** Standard base64 with padding (RFC 4648 section 4). */
export const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/u;
/** A relay URL: `ws://` or `wss://`, a host, an optional path; no query or fragment. */
export const RELAY_URL_PATTERN = new RegExp(
  `^wss?://[^${PY_SPACE}/?#]+(/[^${PY_SPACE}?#]*)?$`,
  "u",
);
export const CMID_PATTERN = /^[0-9a-f]{32}$/u;

export type State = "queued" | "sending" | "sent" | "delivered" | "failed" | "unknown" | "received";
export type Direction = "in" | "out";
export type Kind = "sms" | "mms";
/** Which conversations a `convs` page lists (docs/protocol.md section 9, "Folders"). */
export type Folder = "inbox" | "pinned" | "archived" | "blocked";
export const FOLDERS: readonly Folder[] = ["inbox", "pinned", "archived", "blocked"];
/** At most this many conversations are pinned. */
export const MAX_PINNED = 5;
/** A keyset position: `[last_at, id]` of a conversation, `[at, id]` of a message. */
export type Position = readonly [number, number];

// ---------------------------------------------------------------- records inside events

export interface Capabilities {
  readonly delivery_reports: boolean;
  readonly mms: boolean;
  readonly max_parts: number;
  /** Texts can go from, and come in on, more than one SIM. */
  readonly dual_sim: boolean;
  /** "polling": the host asks its SMS source every few seconds, so a text can take that long to show. */
  readonly incoming: "events" | "polling";
  /**
   * How long (ms) a text may wait to go out before it fails as expired, counted
   * from when the person pressed Send (`created` of `send`); null: not said (an
   * older host). The outbox fails a text still unsent after this long (outbox.ts).
   */
  readonly text_ttl_ms: number | null;
}

export interface AttachmentRecord {
  readonly id: number;
  readonly type: string;
  readonly name: string | null;
  readonly size: number;
  /** Why the bytes are missing (such an attachment cannot be fetched), or null. */
  readonly broken: string | null;
}

/** The last four fields may be absent from an older host's records: they read as their defaults. */
export interface MessageRecord {
  readonly id: number;
  readonly conv: number;
  readonly dir: Direction;
  readonly peers: readonly string[];
  readonly body: string;
  readonly at: number;
  readonly state: State;
  readonly reason: string | null;
  readonly cmid: string | null;
  readonly kind: Kind;
  readonly sender: string;
  readonly subject: string | null;
  readonly atts: readonly AttachmentRecord[];
  /** How many SMS a received text came as. */
  readonly parts: number;
  /** Parts of a received text that never arrived: it is partial when not empty. */
  readonly missing: readonly number[];
}

export interface ConversationRecord {
  readonly id: number;
  readonly peers: readonly string[];
  readonly name: string | null;
  readonly last_at: number;
  readonly snippet: string;
  readonly unread: number;
  /** Grows when messages were added out of time order (an import): drop cached pages. */
  readonly hist: number;
  readonly pinned: boolean;
  readonly archived: boolean;
  /** No notification for its texts; they still count as unread. */
  readonly muted: boolean;
  /** Its texts are kept but shown only in the blocked folder, never unread. */
  readonly blocked: boolean;
  /** The contact name of each of `peers` (null: none), for a group's participants. */
  readonly names: readonly (string | null)[];
}

/** A message was stored or changed (Python's `MessageEvent`). */
export interface MsgEvent {
  readonly k: "msg";
  readonly seq: number;
  readonly msg: MessageRecord;
}

export interface StatusEvent {
  readonly k: "status";
  readonly seq: number;
  readonly id: number;
  readonly state: State;
  readonly reason: string | null;
  readonly at: number;
}

export interface ConversationEvent {
  readonly k: "conv";
  readonly seq: number;
  readonly conv: ConversationRecord;
}

/** The conversation was deleted: drop it and every message cached for it. */
export interface GoneEvent {
  readonly k: "gone";
  readonly seq: number;
  readonly conv: number;
}

/** One change in the host's store, ordered by `seq` (Python's `Event`). */
export type StoreEvent = MsgEvent | StatusEvent | ConversationEvent | GoneEvent;

export interface Hit {
  readonly msg_id: number;
  readonly conv: number;
  readonly at: number;
  readonly snippet: string;
}

// ---------------------------------------------------------------- messages

/** device -> host, first message of a session. */
export interface Hello { readonly t: "hello"; readonly proto: number; readonly agent: string }

/** host -> device, the answer to hello. */
export interface Welcome {
  readonly t: "welcome";
  readonly proto: number;
  readonly host_name: string;
  readonly device_id: string;
  readonly seq: number;
  readonly caps: Capabilities;
}

/** device -> host: send me events with seq > since (the cursor is the ack). */
export interface Sync { readonly t: "sync"; readonly since: number; readonly limit: number }

/** host -> device: events in seq order; more says whether another batch follows. */
export interface Batch { readonly t: "batch"; readonly events: readonly StoreEvent[]; readonly more: boolean }

/** host -> device: caught up at seq; live events follow. */
export interface Synced { readonly t: "synced"; readonly seq: number }

/** host -> device: no replay: drop the cached conversations and messages, continue from seq. */
export interface Reset { readonly t: "reset"; readonly seq: number }

/** host -> device: one live change. */
export interface EventMessage { readonly t: "event"; readonly event: StoreEvent }

/**
 * device -> host: queue a text; cmid is the device's idempotency key. `at` (ms)
 * schedules it for later (at most a year ahead; null, past or within 5 s: now).
 * `created` (ms, this device's clock) is when the person pressed Send: the
 * text's lifetime counts from then (null: from when the host accepts it).
 */
export interface Send {
  readonly t: "send";
  readonly cmid: string;
  readonly to: readonly string[];
  readonly body: string;
  readonly at: number | null;
  readonly created: number | null;
}

/** host -> device: the text is committed (or refused); a duplicate gets the same ack. */
export interface Ack {
  readonly t: "ack";
  readonly cmid: string;
  readonly msg_id: number;
  readonly state: State;
  readonly reason: string | null;
}

/** device -> host: the user has seen conversation `conv`; its unread count drops to 0. */
export interface Read {
  readonly t: "read";
  readonly conv: number;
}

/** device -> host: full-text search, newest first, older than `before`. */
export interface Search {
  readonly t: "search";
  readonly qid: number;
  readonly query: string;
  readonly limit: number;
  readonly before: number | null;
}

/** host -> device: search hits for qid. */
export interface Results { readonly t: "results"; readonly qid: number; readonly hits: readonly Hit[]; readonly more: boolean }

/** device -> host: a page of a folder's conversations, newest first, older than `before`. */
export interface Convs {
  readonly t: "convs";
  readonly qid: number;
  readonly before: Position | null;
  readonly limit: number;
  readonly folder: Folder;
}

/** device -> host: set each non-null flag; `unread` true marks unread (at least 1), false read. */
export interface ConvSet {
  readonly t: "conv_set";
  readonly qid: number;
  readonly conv: number;
  readonly pinned: boolean | null;
  readonly archived: boolean | null;
  readonly muted: boolean | null;
  readonly blocked: boolean | null;
  readonly unread: boolean | null;
}

/** device -> host: delete `conv` with its messages and attachments. */
export interface ConvDelete { readonly t: "conv_delete"; readonly qid: number; readonly conv: number }

/** device -> host: name `number` (null: forget its name) in every conversation. */
export interface Contact {
  readonly t: "contact";
  readonly qid: number;
  readonly number: string;
  readonly name: string | null;
}

/** host -> device: the request `qid` is done (its effects follow as events). */
export interface Done { readonly t: "done"; readonly qid: number }

/** A paired device as the devices page lists it (no key, no token). */
export interface DeviceRecord {
  /** base64url of its 16-byte device id. */
  readonly id: string;
  readonly name: string;
  readonly agent: string;
  /** When it was paired (ms). */
  readonly created: number;
  /** When it last connected or disconnected (ms); null: never connected. */
  readonly last_seen: number | null;
  /** It has a session with the host right now. */
  readonly connected: boolean;
  /** It is the device that asked. */
  readonly current: boolean;
  /** Paired for one browser session only. */
  readonly session: boolean;
}

/** device -> host: cancel the scheduled text `msg_id` while it is still waiting. */
export interface Unschedule { readonly t: "unschedule"; readonly qid: number; readonly msg_id: number }

/** device -> host: list the paired devices. */
export interface Devices { readonly t: "devices"; readonly qid: number }

/** host -> device: every active device, oldest pairing first. */
export interface DeviceList { readonly t: "device_list"; readonly qid: number; readonly devices: readonly DeviceRecord[] }

/** device -> host: unpair `device_id` (this device too, if it names itself). */
export interface Revoke { readonly t: "revoke"; readonly qid: number; readonly device_id: string }

/** host -> device, live, not logged: another device was paired or unpaired. */
export interface DeviceChanged {
  readonly t: "device_changed";
  readonly change: "paired" | "unpaired";
  readonly device: DeviceRecord;
}

export interface ConvPage {
  readonly t: "conv_page";
  readonly qid: number;
  readonly convs: readonly ConversationRecord[];
  readonly more: boolean;
}

/**
 * device -> host: a page of `conv`'s messages older than `before` or newer than
 * `after` (at most one set; neither: the newest page).
 */
export interface Thread {
  readonly t: "thread";
  readonly qid: number;
  readonly conv: number;
  readonly before: Position | null;
  readonly after: Position | null;
  readonly limit: number;
}

/** host -> device: messages newest first; more: there are more in the asked direction. */
export interface ThreadPage {
  readonly t: "thread_page";
  readonly qid: number;
  readonly conv: number;
  readonly msgs: readonly MessageRecord[];
  readonly more: boolean;
}

/** device -> host: attachment `att`'s bytes from `offset`. */
export interface Fetch { readonly t: "fetch"; readonly qid: number; readonly att: number; readonly offset: number }

/** host -> device: up to CHUNK_BYTES of an attachment, base64. */
export interface Chunk {
  readonly t: "chunk";
  readonly qid: number;
  readonly att: number;
  readonly offset: number;
  readonly total: number;
  readonly type: string;
  readonly data: string;
}

export interface Ping { readonly t: "ping"; readonly n: number }

export interface Pong { readonly t: "pong"; readonly n: number }

/** either way: something was refused; code is one of docs/protocol.md section 10 (Python's `Error`). */
export interface ErrorMessage {
  readonly t: "error";
  readonly code: string;
  readonly message: string;
  readonly ref: string | null;
}

/** either way: the session ends (e.g. reason "revoked"). */
export interface Bye { readonly t: "bye"; readonly reason: string }

/** device -> host, pairing sessions only. */
export interface PairRequest {
  readonly t: "pair_request";
  readonly name: string;
  readonly agent: string;
  /** Pair for this browser session only. */
  readonly session: boolean;
}

/** host -> device, pairing sessions only, after the user confirmed on the host. */
export interface PairAccept {
  readonly t: "pair_accept";
  readonly host_name: string;
  readonly room: string;
  readonly token: string;
  readonly relay: string;
}

export interface PairReject { readonly t: "pair_reject"; readonly reason: string }

export type Message =
  | Hello
  | Welcome
  | Sync
  | Batch
  | Synced
  | Reset
  | EventMessage
  | Send
  | Ack
  | Read
  | Search
  | Results
  | Convs
  | ConvPage
  | Thread
  | ThreadPage
  | ConvSet
  | ConvDelete
  | Contact
  | Unschedule
  | Done
  | Devices
  | DeviceList
  | Revoke
  | DeviceChanged
  | Fetch
  | Chunk
  | Ping
  | Pong
  | ErrorMessage
  | Bye
  | PairRequest
  | PairAccept
  | PairReject;

export type MessageType = Message["t"];

// ---------------------------------------------------------------- schemas (field order = wire order)

const seq = int(0, MAX_SAFE);
const proto = int(1, 1);
const agent = str({ min: 1, max: 128 });
const b64_16 = str({ pattern: B64_16 });
const cmid = str({ pattern: CMID_PATTERN });
const peers = array(str({ pattern: ADDRESS_PATTERN }), 1, MAX_PEERS);
const position = nullable(tuple<[number, number]>(seq, seq));
const pageLimit = int(1, MAX_PAGE);
const contentType = str({ min: 1, max: 128 });
const state = literal("queued", "sending", "sent", "delivered", "failed", "unknown", "received");
const reason = str({ max: 500 });

const CAPABILITIES = struct<Capabilities>({
  delivery_reports: bool(),
  mms: bool(),
  max_parts: int(1, 255),
  dual_sim: optional(bool(), false),
  incoming: optional(literal("events", "polling"), "events"),
  text_ttl_ms: optional(nullable(int(1, MAX_SAFE)), null),
});

const ATTACHMENT_RECORD = struct<AttachmentRecord>({
  id: seq,
  type: contentType,
  name: nullable(str({ max: 128 })),
  size: seq,
  broken: nullable(str({ max: 200 })),
});

const MESSAGE_RECORD = struct<MessageRecord>({
  id: seq,
  conv: seq,
  dir: literal("in", "out"),
  peers,
  body: str({ max: MAX_BODY_CHARS }),
  at: seq,
  state,
  reason: nullable(reason),
  cmid: nullable(cmid),
  kind: optional(literal<Kind>("sms", "mms"), "sms"),
  sender: optional(str({ pattern: SENDER_PATTERN }), ""),
  subject: optional(nullable(str({ max: 200 })), null),
  atts: optional(array(ATTACHMENT_RECORD, 0, MAX_ATTACHMENTS), Object.freeze([])),
  parts: optional(int(1, 255), 1),
  missing: optional(array(int(1, 255), 0, 254), Object.freeze([])),
});

const CONVERSATION_RECORD = struct<ConversationRecord>({
  id: seq,
  peers,
  name: nullable(str({ max: 128 })),
  last_at: seq,
  snippet: str({ max: 200 }),
  unread: int(0, MAX_SAFE),
  hist: optional(seq, 0),
  pinned: optional(bool(), false),
  archived: optional(bool(), false),
  muted: optional(bool(), false),
  blocked: optional(bool(), false),
  names: optional(array(nullable(str({ max: 128 })), 0, MAX_PEERS), Object.freeze([])),
});

const STORE_EVENT = union<"k", StoreEvent>("k", {
  msg: struct({ seq, msg: MESSAGE_RECORD }),
  status: struct({ seq, id: seq, state, reason: nullable(reason), at: seq }),
  conv: struct({ seq, conv: CONVERSATION_RECORD }),
  gone: struct({ seq, conv: seq }),
});

/** At most this many devices in a `device_list`. */
export const MAX_DEVICES = 100;

const DEVICE_RECORD = struct<DeviceRecord>({
  id: b64_16,
  name: str({ min: 1, max: 64 }),
  agent,
  created: seq,
  last_seen: nullable(seq),
  connected: bool(),
  current: bool(),
  session: optional(bool(), false),
});

const HIT = struct<Hit>({ msg_id: seq, conv: seq, at: seq, snippet: str({ max: 500 }) });

/** The fields of each message type, without its tag. */
type MessageFields<T extends MessageType> = Fields<Omit<Extract<Message, { t: T }>, "t">>;

const MESSAGE_FIELDS: { readonly [T in MessageType]: MessageFields<T> } = {
  hello: { proto, agent },
  welcome: { proto, host_name: agent, device_id: b64_16, seq, caps: CAPABILITIES },
  sync: { since: seq, limit: int(1, 1000) },
  batch: { events: array(STORE_EVENT, 0, MAX_EVENTS), more: bool() },
  synced: { seq },
  reset: { seq },
  event: { event: STORE_EVENT },
  send: {
    cmid,
    to: array(str({ pattern: NUMBER_PATTERN }), 1, MAX_RECIPIENTS),
    body: str({ min: 1, max: MAX_BODY_CHARS }),
    at: optional(nullable(seq), null),
    created: optional(nullable(seq), null),
  },
  ack: { cmid, msg_id: seq, state, reason: nullable(reason) },
  read: { conv: seq },
  search: { qid: seq, query: str({ min: 1, max: 256 }), limit: int(1, 100), before: nullable(seq) },
  results: { qid: seq, hits: array(HIT, 0, MAX_HITS), more: bool() },
  convs: {
    qid: seq,
    before: position,
    limit: pageLimit,
    folder: optional(literal<Folder>("inbox", "pinned", "archived", "blocked"), "inbox"),
  },
  conv_page: { qid: seq, convs: array(CONVERSATION_RECORD, 0, MAX_PAGE), more: bool() },
  thread: { qid: seq, conv: seq, before: position, after: position, limit: pageLimit },
  thread_page: { qid: seq, conv: seq, msgs: array(MESSAGE_RECORD, 0, MAX_PAGE), more: bool() },
  conv_set: {
    qid: seq,
    conv: seq,
    pinned: optional(nullable(bool()), null),
    archived: optional(nullable(bool()), null),
    muted: optional(nullable(bool()), null),
    blocked: optional(nullable(bool()), null),
    unread: optional(nullable(bool()), null),
  },
  conv_delete: { qid: seq, conv: seq },
  contact: { qid: seq, number: str({ pattern: ADDRESS_PATTERN }), name: nullable(str({ min: 1, max: 128 })) },
  unschedule: { qid: seq, msg_id: seq },
  done: { qid: seq },
  devices: { qid: seq },
  device_list: { qid: seq, devices: array(DEVICE_RECORD, 0, MAX_DEVICES) },
  revoke: { qid: seq, device_id: b64_16 },
  device_changed: { change: literal("paired", "unpaired"), device: DEVICE_RECORD },
  fetch: { qid: seq, att: seq, offset: seq },
  chunk: {
    qid: seq,
    att: seq,
    offset: seq,
    total: seq,
    type: contentType,
    data: str({ max: 60_000, pattern: BASE64_PATTERN }),
  },
  ping: { n: seq },
  pong: { n: seq },
  error: { code: str({ pattern: CODE }), message: reason, ref: nullable(str({ max: 64 })) },
  bye: { reason },
  pair_request: { name: str({ min: 1, max: 64 }), agent, session: optional(bool(), false) },
  pair_accept: {
    host_name: agent,
    room: b64_16,
    token: str({ pattern: B64_32 }),
    relay: str({ pattern: RELAY_URL_PATTERN, max: 512 }),
  },
  pair_reject: { reason },
};

/** Every message type, in the order of messages.py. */
export const MESSAGE_TYPES = Object.keys(MESSAGE_FIELDS) as readonly MessageType[];

const MESSAGE: Schema<Message> = union<"t", Message>(
  "t",
  Object.fromEntries(
    Object.entries(MESSAGE_FIELDS).map(([tag, fields]) => [tag, struct(fields as Fields<object>)]),
  ) as never,
);

/** The JSON bytes of a message, identical to msgspec's. Fields are not re-validated. */
export function encodeMessage(message: Message): Bytes {
  return encodeJson(MESSAGE, message);
}

/** Decode one message body; throws ProtocolError with a section-10 code only. */
export function decodeMessage(body: Uint8Array): Message {
  try {
    return decodeJson(MESSAGE, body);
  } catch (err) {
    if (err instanceof JsonInvalid) throw new ProtocolError(`invalid message: ${err.message}`, codeFor(err));
    if (err instanceof JsonFailure) throw new ProtocolError(`malformed message: ${err.message}`, "bad_message");
    throw err;
  }
}

/**
 * The error code of an invalid message, as messages.py `_code_for` gives it:
 * an unknown `t` is unknown_type; anything wrong with `proto` is
 * version_mismatch; anything wrong with an element of `to` is invalid_number
 * (`to` itself not an array, empty or too long is bad_message); a `body` over
 * its length is body_too_long; the rest is bad_message.
 */
export function codeFor(failure: JsonInvalid): ErrorCode {
  const [field] = failure.path;
  if (failure.reason === "tag" && failure.path.length === 1 && field === "t") return "unknown_type";
  if (field === "proto") return "version_mismatch";
  if (field === "to" && failure.path.length > 1) return "invalid_number";
  if (field === "body" && failure.path.length === 1 && failure.reason === "too_long") return "body_too_long";
  return "bad_message";
}
