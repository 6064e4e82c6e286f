"""Handshake rules, padding and the transport session."""

from __future__ import annotations

import pytest

from tests.protocol.flows import ROOM, session_flow
from textport.errors import ErrorCode, ProtocolError
from textport.protocol import derive, messages, session
from textport.protocol.noise import HandshakeState, KeyPair
from textport.protocol.session import BUCKETS, MAX_BODY, Handshake, pad, unpad


def test_padding_uses_buckets_and_round_trips() -> None:
    for size in (0, 1, 126, 127, 1000, MAX_BODY):
        padded = pad(b"\x07" * size)
        assert len(padded) in BUCKETS
        assert len(padded) == min(b for b in BUCKETS if b >= size + 2)
        assert unpad(bytes(padded)) == b"\x07" * size


def test_padding_refuses_oversized_bodies_and_bad_padding() -> None:
    with pytest.raises(ProtocolError) as caught:
        pad(bytes(MAX_BODY + 1))
    assert caught.value.code == ErrorCode.TOO_LARGE
    with pytest.raises(ProtocolError):
        unpad(bytes(100))  # not a bucket size
    with pytest.raises(ProtocolError):
        unpad((200).to_bytes(2, "big") + bytes(126))  # length past the end
    with pytest.raises(ProtocolError):
        unpad((1).to_bytes(2, "big") + b"x" + b"\x01" + bytes(124))  # non-zero padding


def test_ik_message_sizes_and_static_key_learned() -> None:
    host_key, device_key = KeyPair.generate(), KeyPair.generate()
    device = session.device_handshake(device_key, host_key.public, ROOM)
    host = session.host_handshake(host_key, ROOM)
    first = device.write()
    host.read(first)
    assert len(first) == 96
    assert host.remote_static == device_key.public
    second = host.write()
    assert len(second) == 48
    device.read(second)
    assert device.done and host.done


def test_message_1_with_a_payload_is_refused() -> None:
    """Message 1 is replayable, so protocol v1 forbids application data in it."""
    host_key = KeyPair.generate()
    raw = HandshakeState(
        derive.SESSION_PROTOCOL,
        initiator=True,
        prologue=derive.session_prologue(ROOM, derive.host_id(host_key.public)),
        s=KeyPair.generate(),
        rs=host_key.public,
    )
    host = session.host_handshake(host_key, ROOM)
    with pytest.raises(ProtocolError) as caught:
        host.read(raw.write_message(b'{"t":"send"}'))
    assert caught.value.code == ErrorCode.BAD_MESSAGE
    with pytest.raises(ProtocolError) as again:
        host.write()
    assert again.value.code == ErrorCode.HANDSHAKE_STATE


def test_a_failed_handshake_stays_failed() -> None:
    host = session.host_handshake(KeyPair.generate(), ROOM)
    with pytest.raises(ProtocolError):
        host.read(b"short")
    assert host.failed
    with pytest.raises(ProtocolError):
        host.read(bytes(96))


def test_session_before_the_end_is_refused() -> None:
    device = session.device_handshake(KeyPair.generate(), KeyPair.generate().public, ROOM)
    with pytest.raises(ProtocolError):
        device.session(0)


def test_transport_both_ways_with_padding_sizes() -> None:
    pair = session_flow()
    sealed = pair.device.seal(messages.Ping(n=1))
    assert len(sealed) == 128 + 16
    assert pair.host.open(sealed) == messages.Ping(n=1)
    big = messages.Send(cmid="ab" * 16, to=["+15550100"], body="x" * 5000)
    sealed = pair.device.seal(big)
    assert len(sealed) == 8192 + 16
    assert pair.host.open(sealed) == big
    assert pair.device.open(pair.host.seal(messages.Pong(n=1))) == messages.Pong(n=1)


def test_garbage_inside_a_valid_ciphertext_closes_the_session() -> None:
    pair = session_flow()
    with pytest.raises(ProtocolError) as caught:
        pair.host.open(pair.device.seal_body(b"not json"))
    assert caught.value.code == ErrorCode.BAD_MESSAGE
    assert pair.host.closed


def test_message_limit_forces_a_new_handshake() -> None:
    pair = session_flow()
    pair.device._send.n = session.MAX_SESSION_MESSAGES  # as if 2**20 messages went by
    with pytest.raises(ProtocolError) as caught:
        pair.device.seal(messages.Ping(n=1))
    assert caught.value.code == ErrorCode.REKEY_REQUIRED
    assert pair.device.closed


def test_rekey_due_after_a_day() -> None:
    pair = session_flow()
    assert not pair.device.rekey_due(pair.device.started_at + 3600)
    assert pair.device.rekey_due(pair.device.started_at + session.MAX_SESSION_SECONDS)


def test_handshake_wrapper_reports_keys() -> None:
    state = HandshakeState("Noise_NN_25519_AESGCM_SHA256", initiator=True)
    wrapper = Handshake(state)
    assert wrapper.local_ephemeral is None
    wrapper.write()
    assert wrapper.local_ephemeral is not None and len(wrapper.local_ephemeral) == 32
