"""Relay frame codec."""

from __future__ import annotations

import pytest

from textport.errors import ErrorCode, ProtocolError
from textport.protocol import frames


def test_data_frames_round_trip() -> None:
    encoded = frames.encode_data(7, b"noise")
    assert encoded == b"\x02\x00\x00\x00\x07noise"
    assert frames.decode_frame(encoded) == frames.DataFrame(7, b"noise")


def test_control_frames_round_trip() -> None:
    op = frames.OfferOp(channel="code-K7QF3M9X", ttl=120)
    assert frames.decode_frame(frames.encode_control(op)) == op


@pytest.mark.parametrize(
    ("link", "payload", "code"),
    [
        (-1, b"x", ErrorCode.BAD_FRAME),
        (2**32, b"x", ErrorCode.BAD_FRAME),
        (1, b"", ErrorCode.BAD_FRAME),
        (1, bytes(frames.MAX_PAYLOAD + 1), ErrorCode.TOO_LARGE),
    ],
)
def test_data_frames_refuse_bad_values(link: int, payload: bytes, code: ErrorCode) -> None:
    with pytest.raises(ProtocolError) as caught:
        frames.encode_data(link, payload)
    assert caught.value.code == code


def test_largest_data_frame_is_accepted() -> None:
    frame = frames.encode_data(1, bytes(frames.MAX_PAYLOAD))
    assert len(frame) == frames.MAX_FRAME
    decoded = frames.decode_frame(frame)
    assert isinstance(decoded, frames.DataFrame) and len(decoded.payload) == frames.MAX_PAYLOAD


def test_oversized_control_frame_cannot_be_encoded() -> None:
    with pytest.raises(ProtocolError) as caught:
        frames.encode_control(frames.ErrorOp(code="internal", message="x" * 5000))
    assert caught.value.code == ErrorCode.TOO_LARGE


def test_unknown_fields_in_control_frames_are_ignored() -> None:
    decoded = frames.decode_frame(b'\x01{"op":"ready","online":true,"later":1}')
    assert decoded == frames.ReadyOp(online=True)
