"""Relay frames (docs/protocol.md section 4): the only bytes the relay reads.

A frame is one binary WebSocket message: ``0x01 ‖ JSON`` for control operations, or
``0x02 ‖ u32be link ‖ payload`` for opaque data (one Noise message). Decoding happens
once, here, into frozen typed values; anything else raises :class:`ProtocolError`.
"""

from __future__ import annotations

from typing import Annotated, Final

import msgspec

from textport.errors import ErrorCode, ProtocolError

CONTROL: Final = 0x01
DATA: Final = 0x02
MAX_CONTROL: Final = 4096
"""Largest CONTROL frame, kind byte included."""
MAX_PAYLOAD: Final = 65535
"""Largest DATA payload: one Noise message."""
DATA_HEADER: Final = 5
MAX_FRAME: Final = DATA_HEADER + MAX_PAYLOAD
MAX_LINK: Final = 2**32 - 1

B64_16 = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{21}[AQgw]\Z")]
B64_32 = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]\Z")]
Credential = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{22,86}\Z")]
Link = Annotated[int, msgspec.Meta(ge=1, le=MAX_LINK)]
Channel = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}\Z")]
Ttl = Annotated[int, msgspec.Meta(ge=1, le=600)]
Text = Annotated[str, msgspec.Meta(max_length=200)]
Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,32}\Z")]


class _Op(msgspec.Struct, frozen=True, forbid_unknown_fields=False, tag_field="op"):
    pass


class HostOp(_Op, frozen=True, tag="host"):
    """host -> relay: claim room ``room`` with the operator credential ``cred``."""

    room: B64_16
    cred: Credential


class ReadyOp(_Op, frozen=True, tag="ready"):
    """relay -> host or device: admitted; ``online`` says whether the host is connected."""

    online: bool


class RegisterOp(_Op, frozen=True, tag="register"):
    """host -> relay: allow a device token (by its hash) into the room."""

    token_hash: B64_32


class UnregisterOp(_Op, frozen=True, tag="unregister"):
    """host -> relay: revoke a device token and close the links that used it."""

    token_hash: B64_32


class CloseOp(_Op, frozen=True, tag="close"):
    """host -> relay: close one device link."""

    link: Link
    reason: Text


class OpenedOp(_Op, frozen=True, tag="opened"):
    """relay -> host: a device joined the room on ``link``."""

    link: Link


class ClosedOp(_Op, frozen=True, tag="closed"):
    """relay -> host: the device link ended."""

    link: Link


class JoinOp(_Op, frozen=True, tag="join"):
    """device -> relay: join ``room`` with the device's capability token."""

    room: B64_16
    token: B64_32


class PresenceOp(_Op, frozen=True, tag="presence"):
    """relay -> device: the host came online or went offline."""

    online: bool


class OfferOp(_Op, frozen=True, tag="offer"):
    """any -> relay: open a single-use pairing channel and wait in it."""

    channel: Channel
    ttl: Ttl


class AcceptOp(_Op, frozen=True, tag="accept"):
    """any -> relay: enter the pairing channel someone offered."""

    channel: Channel


class PeerOp(_Op, frozen=True, tag="peer"):
    """relay -> any: both ends of the pairing channel are present."""


class ErrorOp(_Op, frozen=True, tag="error"):
    """relay -> any: refused; ``code`` is one of docs/protocol.md section 10."""

    code: Code
    message: Text


ControlOp = (
    HostOp
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
    | ErrorOp
)


class DataFrame(msgspec.Struct, frozen=True):
    """An opaque payload for (or from) device link ``link``; 0 on device and pairing sockets."""

    link: int
    payload: bytes


Frame = ControlOp | DataFrame

_encoder = msgspec.json.Encoder()
_decoder: msgspec.json.Decoder[ControlOp] = msgspec.json.Decoder(ControlOp)


def encode_control(op: ControlOp) -> bytes:
    data = b"\x01" + _encoder.encode(op)
    if len(data) > MAX_CONTROL:
        raise ProtocolError("a control frame is at most 4096 bytes", ErrorCode.TOO_LARGE)
    return data


def encode_data(link: int, payload: bytes) -> bytes:
    if not 0 <= link <= MAX_LINK:
        raise ProtocolError("a link id is a 32-bit unsigned integer", ErrorCode.BAD_FRAME)
    if not payload:
        raise ProtocolError("a data frame carries at least one byte", ErrorCode.BAD_FRAME)
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError("a data payload is at most 65535 bytes", ErrorCode.TOO_LARGE)
    return b"\x02" + link.to_bytes(4, "big") + payload


def decode_frame(data: bytes) -> Frame:
    """Decode one WebSocket message; raises ProtocolError (bad_frame, too_large) only."""
    if not data:
        raise ProtocolError("empty frame", ErrorCode.BAD_FRAME)
    kind = data[0]
    if kind == DATA:
        if len(data) > MAX_FRAME:
            raise ProtocolError("a data payload is at most 65535 bytes", ErrorCode.TOO_LARGE)
        if len(data) <= DATA_HEADER:
            raise ProtocolError("a data frame needs a link and a payload", ErrorCode.BAD_FRAME)
        return DataFrame(int.from_bytes(data[1:5], "big"), bytes(data[5:]))
    if kind == CONTROL:
        if len(data) > MAX_CONTROL:
            raise ProtocolError("a control frame is at most 4096 bytes", ErrorCode.TOO_LARGE)
        try:
            return _decoder.decode(data[1:])
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise ProtocolError(f"bad control frame: {exc}", ErrorCode.BAD_FRAME) from exc
    raise ProtocolError(f"unknown frame kind 0x{kind:02x}", ErrorCode.BAD_FRAME)
