"""Property tests (Hypothesis) for the handshakes, the transport and the decoders."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.protocol.flows import FLOWS, MESSAGE_COUNTS, ROOM, code_flow, offer_flow, session_flow
from textport.errors import CryptoError, ErrorCode, ProtocolError, TextportError
from textport.protocol import derive, frames, messages, session
from textport.protocol.noise import KeyPair
from textport.protocol.session import Session

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DOCUMENTED_FRAME_ERRORS = {ErrorCode.BAD_FRAME, ErrorCode.TOO_LARGE}
DOCUMENTED_MESSAGE_ERRORS = {
    ErrorCode.BAD_MESSAGE,
    ErrorCode.UNKNOWN_TYPE,
    ErrorCode.INVALID_NUMBER,
    ErrorCode.BODY_TOO_LONG,
    ErrorCode.VERSION_MISMATCH,
}


@FAST
@given(
    flow=st.sampled_from(sorted(FLOWS)),
    data=st.data(),
)
def test_any_flipped_bit_in_a_handshake_message_is_rejected(flow: str, data: st.DataObject) -> None:
    target = data.draw(st.integers(0, MESSAGE_COUNTS[flow] - 1), label="message")
    seen: list[int] = []

    def flip(index: int, message: bytes) -> bytes:
        if index != target:
            return message
        bit = data.draw(st.integers(0, len(message) * 8 - 1), label="bit")
        seen.append(bit)
        out = bytearray(message)
        out[bit // 8] ^= 1 << (bit % 8)
        return bytes(out)

    with pytest.raises(TextportError) as caught:
        FLOWS[flow](flip)
    assert seen, "the flipped message was never sent"
    assert caught.value.code in {
        ErrorCode.DECRYPT_FAILED,
        ErrorCode.COMMITMENT_MISMATCH,
        ErrorCode.VERSION_MISMATCH,
        ErrorCode.BAD_KEY,
    }


def _exchange(sender: Session, receiver: Session, count: int) -> list[bytes]:
    return [sender.seal(messages.Ping(n=i)) for i in range(count)]


@FAST
@given(flow=st.sampled_from(sorted(FLOWS)), data=st.data())
def test_any_flipped_bit_in_a_transport_message_closes_the_session(
    flow: str, data: st.DataObject
) -> None:
    pair = FLOWS[flow]()
    from_device = data.draw(st.booleans(), label="from_device")
    sender, receiver = (pair.device, pair.host) if from_device else (pair.host, pair.device)
    wire = _exchange(sender, receiver, 3)
    receiver.open(wire[0])
    bit = data.draw(st.integers(0, len(wire[1]) * 8 - 1), label="bit")
    tampered = bytearray(wire[1])
    tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(CryptoError):
        receiver.open(bytes(tampered))
    with pytest.raises(ProtocolError) as caught:
        receiver.open(wire[1])  # even the genuine message is refused now
    assert caught.value.code == ErrorCode.SESSION_CLOSED


@FAST
@given(
    order=st.lists(st.integers(0, 4), min_size=1, max_size=6).filter(
        lambda xs: xs != list(range(len(xs)))
    )
)
def test_replayed_dropped_or_reordered_transport_messages_close_the_session(
    order: list[int],
) -> None:
    """Deliver five sealed messages in any order but the right one: it must fail, for good."""
    pair = session_flow()
    wire = _exchange(pair.device, pair.host, 5)
    with pytest.raises(TextportError):
        for expected, index in enumerate(order):
            assert pair.host.open(wire[index]) == messages.Ping(n=expected)
    assert pair.host.closed
    with pytest.raises(ProtocolError):
        pair.host.open(wire[0])


@FAST
@given(secret=st.binary(min_size=32, max_size=32))
def test_wrong_psk_is_rejected_at_pairing_message_1(secret: bytes) -> None:
    seen: list[int] = []

    def record(index: int, message: bytes) -> bytes:
        seen.append(index)
        return message

    with pytest.raises(CryptoError) as caught:
        offer_flow(record, device_secret=secret)
    assert caught.value.code == ErrorCode.DECRYPT_FAILED
    assert seen == [0], "the device must refuse the host's first message"


@FAST
@given(room=st.binary(min_size=16, max_size=16).filter(lambda r: r != ROOM))
def test_session_prologue_mismatch_is_rejected_at_message_1(room: bytes) -> None:
    seen: list[int] = []

    def record(index: int, message: bytes) -> bytes:
        seen.append(index)
        return message

    with pytest.raises(CryptoError):
        session_flow(record, device_room=room)
    assert seen == [0]


def test_session_with_another_host_key_is_rejected_at_message_1() -> None:
    """The device pinned H; a relay answering with another host key fails at once."""
    device = session.device_handshake(KeyPair.generate(), KeyPair.generate().public, ROOM)
    host = session.host_handshake(KeyPair.generate(), ROOM)
    with pytest.raises(CryptoError):
        host.read(device.write())


@FAST
@given(data=st.data())
def test_typed_code_with_mismatched_commitment_fails(data: st.DataObject) -> None:
    """A commitment to any other key (a relay that swapped its own in) is refused."""
    other = KeyPair.generate()

    def swap(index: int, message: bytes) -> bytes:
        if index == 0:
            return derive.commitment(other.public)
        return message

    with pytest.raises(CryptoError) as caught:
        code_flow(swap)
    assert caught.value.code == ErrorCode.COMMITMENT_MISMATCH


def test_typed_code_with_a_different_code_fails() -> None:
    with pytest.raises(CryptoError):
        code_flow(device_code="0000-0000")


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=5000) | st.builds(lambda b: b"\x01" + b, st.binary(max_size=300)))
def test_frame_decoder_raises_only_documented_errors(data: bytes) -> None:
    try:
        frames.decode_frame(data)
    except ProtocolError as exc:
        assert exc.code in DOCUMENTED_FRAME_ERRORS


@settings(max_examples=200, deadline=None)
@given(size=st.integers(frames.MAX_PAYLOAD + 1, frames.MAX_PAYLOAD + 5000))
def test_oversized_frames_are_too_large(size: int) -> None:
    with pytest.raises(ProtocolError) as caught:
        frames.decode_frame(b"\x02\x00\x00\x00\x01" + bytes(size))
    assert caught.value.code == ErrorCode.TOO_LARGE


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(
    body=st.binary(max_size=2000)
    | st.builds(
        lambda t, fields: msgspec.json.encode({"t": t, **fields}),
        st.sampled_from([*messages.MESSAGE_TYPES, "nope"]),
        st.dictionaries(
            st.sampled_from(
                [
                    "proto",
                    "agent",
                    "cmid",
                    "to",
                    "body",
                    "since",
                    "limit",
                    "events",
                    "seq",
                    "qid",
                    "n",
                    "code",
                    "reason",
                ]
            ),
            json_values,
            max_size=6,
        ),
    )
)
def test_message_decoder_raises_only_documented_errors(body: bytes) -> None:
    try:
        messages.decode(body)
    except ProtocolError as exc:
        assert exc.code in DOCUMENTED_MESSAGE_ERRORS


@settings(max_examples=100, deadline=None)
@given(
    body=st.text(min_size=1, max_size=messages.MAX_BODY_CHARS).filter(lambda s: "\ud800" not in s),
    to=st.lists(st.from_regex(r"\A\+[1-9][0-9]{1,14}\Z"), min_size=1, max_size=20),
    created=st.none() | st.integers(0, messages.MAX_SAFE),
)
def test_send_round_trips(body: str, to: list[str], created: int | None) -> None:
    message = messages.Send(cmid="ab" * 16, to=to, body=body, created=created)
    try:
        encoded = messages.encode(message)
    except UnicodeEncodeError:
        return  # lone surrogates cannot be UTF-8; the browser never produces them
    assert messages.decode(encoded) == message
