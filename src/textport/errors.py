"""The one exception tree of textport.

Every error carries a stable machine-readable ``code`` (the same strings travel in the
protocol's ``error`` message and are listed in docs/protocol.md) and a sentence for people
that says what happened and what to do. Messages never contain keys, codes, message bodies
or full phone numbers.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable error codes; docs/protocol.md section "Error codes" documents each one."""

    BAD_FRAME = "bad_frame"
    TOO_LARGE = "too_large"
    BAD_MESSAGE = "bad_message"
    UNKNOWN_TYPE = "unknown_type"
    DECRYPT_FAILED = "decrypt_failed"
    HANDSHAKE_STATE = "handshake_state"
    VERSION_MISMATCH = "version_mismatch"
    BAD_KEY = "bad_key"
    COMMITMENT_MISMATCH = "commitment_mismatch"
    BAD_PAIRING_CODE = "bad_pairing_code"
    PAIRING_EXPIRED = "pairing_expired"
    PAIRING_USED = "pairing_used"
    PAIRING_UNKNOWN = "pairing_unknown"
    PAIRING_REJECTED = "pairing_rejected"
    RELAY_NOT_ALLOWED = "relay_not_allowed"
    NOT_PAIRED = "not_paired"
    REVOKED = "revoked"
    UNAUTHORIZED = "unauthorized"
    ROOM_UNKNOWN = "room_unknown"
    RATE_LIMITED = "rate_limited"
    SESSION_CLOSED = "session_closed"
    REKEY_REQUIRED = "rekey_required"
    INVALID_NUMBER = "invalid_number"
    BODY_TOO_LONG = "body_too_long"
    BAD_FILE = "bad_file"
    INTERNAL = "internal"


class TextportError(Exception):
    """Base of every error textport raises on purpose."""

    default_code = ErrorCode.INTERNAL

    def __init__(self, message: str, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.code: ErrorCode = code if code is not None else self.default_code

    @property
    def message(self) -> str:
        return str(self.args[0])


class ProtocolError(TextportError):
    """A peer sent something malformed, oversized, unexpected or out of order."""

    default_code = ErrorCode.BAD_MESSAGE


class CryptoError(TextportError):
    """Authentication failed: wrong key, tampered, replayed, dropped or reordered data."""

    default_code = ErrorCode.DECRYPT_FAILED


class StoreError(TextportError):
    """The message store cannot do what was asked (schema, disk, constraint)."""


class TransportError(TextportError):
    """An SMS source (modem, phone, SMSC) failed.

    ``permanent`` errors (a refused number, a rejected text) fail the text with this
    message as its reason; the others are retried with backoff until the text expires.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message, ErrorCode.INTERNAL)
        self.permanent = permanent


class ConfigError(TextportError):
    """A setting or file given by the user is missing or invalid."""


class BackupError(TextportError):
    """A file given to import is not a message backup at all (not XML, another root).

    A backup that is damaged part-way is not an error: its reader keeps every message
    before the damage and reports where it is.
    """

    default_code = ErrorCode.BAD_FILE
