"""Every label, identifier and derived value of protocol v1, in one place.

docs/protocol.md sections 3, 5 and 6 define these; web/src/protocol/derive.ts mirrors this
module label for label. Nothing here does I/O or keeps state.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from textport.errors import ErrorCode, ProtocolError

PROTO = 1
SESSION_PROTOCOL = "Noise_IK_25519_AESGCM_SHA256"
PAIR_PROTOCOL = "Noise_XXpsk0_25519_AESGCM_SHA256"
CODE_PROTOCOL = "Noise_XX_25519_AESGCM_SHA256"

SESSION_PROLOGUE_LABEL = b"textport/1"
PAIR_PROLOGUE_LABEL = b"textport-pair/1"
CODE_PROLOGUE_LABEL = b"textport-code/1"
COMMIT_PREFIX = b"TPC1"

_HOST_ID = b"textport/1 host-id"
_DEVICE_ID = b"textport/1 device-id"
_RELAY_TOKEN = b"textport/1 relay-token"
_HOST_CREDENTIAL = b"textport/1 host-credential"
_COMMIT = b"textport/1 commit"
_CONFIRM = b"textport/1 confirm"
_SAS = b"textport/1 sas"

ID_LEN = 16
ROOM_LEN = 16
TOKEN_LEN = 32
SECRET_LEN = 32
CHANNEL_LEN = 16


def lp(*fields: bytes) -> bytes:
    """Concatenate fields, each prefixed with its length as u16be."""
    out = bytearray()
    for field in fields:
        if len(field) > 0xFFFF:
            raise ProtocolError("a prologue field is over 65535 bytes", ErrorCode.TOO_LARGE)
        out += len(field).to_bytes(2, "big") + field
    return bytes(out)


def hkdf(ikm: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA256 (RFC 5869) with an empty salt."""
    return HKDF(algorithm=SHA256(), length=length, salt=None, info=info).derive(ikm)


def host_id(host_public: bytes) -> bytes:
    return hashlib.sha256(_HOST_ID + host_public).digest()[:ID_LEN]


def device_id(device_public: bytes) -> bytes:
    return hashlib.sha256(_DEVICE_ID + device_public).digest()[:ID_LEN]


def token_hash(token: bytes) -> bytes:
    """What the relay stores instead of a device's token."""
    return hashlib.sha256(_RELAY_TOKEN + token).digest()


def credential_hash(credential: bytes) -> bytes:
    """What a relay's configuration holds instead of a host's operator credential."""
    return hashlib.sha256(_HOST_CREDENTIAL + credential).digest()


def session_prologue(room: bytes, host: bytes) -> bytes:
    return lp(SESSION_PROLOGUE_LABEL, room, host)


def pair_prologue(relay: str, channel: str) -> bytes:
    return lp(PAIR_PROLOGUE_LABEL, relay.encode(), channel.encode())


def code_prologue(relay: str, channel: str) -> bytes:
    return lp(CODE_PROLOGUE_LABEL, relay.encode(), channel.encode())


def commitment(ephemeral_public: bytes) -> bytes:
    """The typed-code pairing's first message: version tag and the host's commitment."""
    return COMMIT_PREFIX + hashlib.sha256(_COMMIT + ephemeral_public).digest()


def confirmation_code(handshake_hash: bytes) -> str:
    """The code both sides show after QR/link pairing, e.g. ``4F2A-91C3``."""
    digits = hkdf(handshake_hash, _CONFIRM, 4).hex().upper()
    return f"{digits[:4]}-{digits[4:]}"


def comparison_code(initiator_ephemeral: bytes, responder_ephemeral: bytes) -> str:
    """The six digits both sides show after typed-code pairing, e.g. ``012 345``."""
    value = int.from_bytes(hkdf(initiator_ephemeral + responder_ephemeral, _SAS, 8), "big")
    digits = f"{value % 1_000_000:06d}"
    return f"{digits[:3]} {digits[3:]}"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str, length: int | None = None) -> bytes:
    """Decode unpadded base64url strictly; ``length`` checks the decoded size."""
    if not text.isascii() or "=" in text or len(text) % 4 == 1:
        raise ProtocolError("not unpadded base64url", ErrorCode.BAD_MESSAGE)
    try:
        data = base64.b64decode(
            text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True
        )
    except binascii.Error as exc:
        raise ProtocolError("not unpadded base64url", ErrorCode.BAD_MESSAGE) from exc
    if b64url(data) != text:  # refuse non-canonical trailing bits
        raise ProtocolError("not canonical base64url", ErrorCode.BAD_MESSAGE)
    if length is not None and len(data) != length:
        raise ProtocolError(f"expected {length} bytes, got {len(data)}", ErrorCode.BAD_MESSAGE)
    return data
