/**
 * Relay frames (docs/protocol.md section 4): the only bytes the relay reads.
 *
 * A frame is one binary WebSocket message: `0x01 ‖ JSON` for control
 * operations, or `0x02 ‖ u32be link ‖ payload` for opaque data (one Noise
 * message). Decoding happens once, here, into typed values; anything else
 * throws `ProtocolError` ("bad_frame" or "too_large"). Mirrors
 * src/textport/protocol/frames.py.
 */

import { type Bytes, bytes, concat } from "./bytes";
import { ProtocolError } from "./errors";
import { type Schema, JsonFailure, bool, decodeJson, encodeJson, int, str, struct, union } from "./json";

export const CONTROL = 0x01;
export const DATA = 0x02;
/** Largest CONTROL frame, kind byte included. */
export const MAX_CONTROL = 4096;
/** Largest DATA payload: one Noise message. */
export const MAX_PAYLOAD = 65535;
export const DATA_HEADER = 5;
export const MAX_FRAME = DATA_HEADER + MAX_PAYLOAD;
export const MAX_LINK = 2 ** 32 - 1;

/** Canonical unpadded base64url of 16 bytes. */
export const B64_16 = /^[A-Za-z0-9_-]{21}[AQgw]$/u;
/** Canonical unpadded base64url of 32 bytes. */
export const B64_32 = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/u;
const CREDENTIAL = /^[A-Za-z0-9_-]{22,86}$/u;
const CHANNEL = /^[A-Za-z0-9_-]{1,64}$/u;
/** An error code (docs/protocol.md section 10). */
export const CODE = /^[a-z_]{1,32}$/u;

const b64_16 = str({ pattern: B64_16 });
const b64_32 = str({ pattern: B64_32 });
const link = int(1, MAX_LINK);
const channel = str({ pattern: CHANNEL });
const text = str({ max: 200 });

/** host -> relay: claim room `room` with the operator credential `cred`. */
export interface HostOp { readonly op: "host"; readonly room: string; readonly cred: string }
/** relay -> host or device: admitted; `online` says whether the host is connected. */
export interface ReadyOp { readonly op: "ready"; readonly online: boolean }
/** host -> relay: allow a device token (by its hash) into the room. */
export interface RegisterOp { readonly op: "register"; readonly token_hash: string }
/** host -> relay: revoke a device token and close the links that used it. */
export interface UnregisterOp { readonly op: "unregister"; readonly token_hash: string }
/** host -> relay: close one device link. */
export interface CloseOp { readonly op: "close"; readonly link: number; readonly reason: string }
/** relay -> host: a device joined the room on `link`. */
export interface OpenedOp { readonly op: "opened"; readonly link: number }
/** relay -> host: the device link ended. */
export interface ClosedOp { readonly op: "closed"; readonly link: number }
/** device -> relay: join `room` with the device's capability token. */
export interface JoinOp { readonly op: "join"; readonly room: string; readonly token: string }
/** relay -> device: the host came online or went offline. */
export interface PresenceOp { readonly op: "presence"; readonly online: boolean }
/** any -> relay: open a single-use pairing channel and wait in it. */
export interface OfferOp { readonly op: "offer"; readonly channel: string; readonly ttl: number }
/** any -> relay: enter the pairing channel someone offered. */
export interface AcceptOp { readonly op: "accept"; readonly channel: string }
/** relay -> any: both ends of the pairing channel are present. */
export interface PeerOp { readonly op: "peer" }
/** relay -> any: refused; `code` is one of docs/protocol.md section 10. */
export interface ErrorOp { readonly op: "error"; readonly code: string; readonly message: string }

export type ControlOp =
  | HostOp
  | ReadyOp
  | RegisterOp
  | UnregisterOp
  | CloseOp
  | OpenedOp
  | ClosedOp
  | JoinOp
  | PresenceOp
  | OfferOp
  | AcceptOp
  | PeerOp
  | ErrorOp;

/**
 * An opaque payload for (or from) device link `link`; 0 on device and pairing
 * sockets. Its `op` is "data" so that `Frame` is one discriminated union; no
 * CONTROL frame can carry that op.
 */
export interface DataFrame { readonly op: "data"; readonly link: number; readonly payload: Bytes }

export type Frame = ControlOp | DataFrame;

const CONTROL_OP: Schema<ControlOp> = union<"op", ControlOp>("op", {
  host: struct({ room: b64_16, cred: str({ pattern: CREDENTIAL }) }),
  ready: struct({ online: bool() }),
  register: struct({ token_hash: b64_32 }),
  unregister: struct({ token_hash: b64_32 }),
  close: struct({ link, reason: text }),
  opened: struct({ link }),
  closed: struct({ link }),
  join: struct({ room: b64_16, token: b64_32 }),
  presence: struct({ online: bool() }),
  offer: struct({ channel, ttl: int(1, 600) }),
  accept: struct({ channel }),
  peer: struct({}),
  error: struct({ code: str({ pattern: CODE }), message: text }),
});

/** `0x01 ‖ JSON`; throws "too_large" over 4096 bytes. Fields are not re-validated. */
export function encodeControl(op: ControlOp): Bytes {
  const data = concat(Uint8Array.of(CONTROL), encodeJson(CONTROL_OP, op));
  if (data.length > MAX_CONTROL) {
    throw new ProtocolError("a control frame is at most 4096 bytes", "too_large");
  }
  return data;
}

/** `0x02 ‖ u32be link ‖ payload`. */
export function encodeData(link: number, payload: Uint8Array): Bytes {
  if (!Number.isInteger(link) || link < 0 || link > MAX_LINK) {
    throw new ProtocolError("a link id is a 32-bit unsigned integer", "bad_frame");
  }
  if (payload.length === 0) {
    throw new ProtocolError("a data frame carries at least one byte", "bad_frame");
  }
  if (payload.length > MAX_PAYLOAD) {
    throw new ProtocolError("a data payload is at most 65535 bytes", "too_large");
  }
  const header = new Uint8Array(DATA_HEADER);
  header[0] = DATA;
  new DataView(header.buffer).setUint32(1, link, false);
  return concat(header, payload);
}

/** Decode one WebSocket message; throws ProtocolError ("bad_frame", "too_large") only. */
export function decodeFrame(data: Uint8Array): Frame {
  if (data.length === 0) throw new ProtocolError("empty frame", "bad_frame");
  const kind = data[0];
  if (kind === DATA) {
    if (data.length > MAX_FRAME) {
      throw new ProtocolError("a data payload is at most 65535 bytes", "too_large");
    }
    if (data.length <= DATA_HEADER) {
      throw new ProtocolError("a data frame needs a link and a payload", "bad_frame");
    }
    const link = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(1, false);
    return { op: "data", link, payload: bytes(data.slice(DATA_HEADER)) };
  }
  if (kind === CONTROL) {
    if (data.length > MAX_CONTROL) {
      throw new ProtocolError("a control frame is at most 4096 bytes", "too_large");
    }
    try {
      return decodeJson(CONTROL_OP, data.subarray(1));
    } catch (err) {
      if (err instanceof JsonFailure) throw new ProtocolError(`bad control frame: ${err.message}`, "bad_frame");
      throw err;
    }
  }
  throw new ProtocolError(`unknown frame kind 0x${(kind ?? 0).toString(16).padStart(2, "0")}`, "bad_frame");
}
