/**
 * The exception tree of the browser client, mirroring the Python host's
 * `textport.errors`: every error carries a stable machine-readable `code`
 * (the strings listed in docs/protocol.md) and a sentence for people.
 * Messages never contain keys or message bodies.
 */

/** Stable error codes, the same strings as Python's `ErrorCode`. */
export type ErrorCode =
  | "bad_frame"
  | "too_large"
  | "bad_message"
  | "unknown_type"
  | "decrypt_failed"
  | "handshake_state"
  | "version_mismatch"
  | "bad_key"
  | "commitment_mismatch"
  | "bad_pairing_code"
  | "pairing_expired"
  | "pairing_used"
  | "pairing_unknown"
  | "pairing_rejected"
  | "relay_not_allowed"
  | "not_paired"
  | "revoked"
  | "unauthorized"
  | "room_unknown"
  | "rate_limited"
  | "session_closed"
  | "rekey_required"
  | "invalid_number"
  | "body_too_long"
  | "bad_file"
  | "internal";

/** Base of every error textport raises on purpose. */
export class TextportError extends Error {
  readonly code: ErrorCode;

  constructor(message: string, code: ErrorCode = "internal") {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A peer sent something malformed, oversized, unexpected or out of order. */
export class ProtocolError extends TextportError {
  constructor(message: string, code: ErrorCode = "bad_message") {
    super(message, code);
  }
}

/** Authentication failed: wrong key, tampered, replayed, dropped or reordered data. */
export class CryptoError extends TextportError {
  constructor(message: string, code: ErrorCode = "decrypt_failed") {
    super(message, code);
  }
}
