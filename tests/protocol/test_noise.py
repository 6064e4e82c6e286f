"""The generic Noise implementation against every published 25519_AESGCM_SHA256 vector."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from textport.errors import CryptoError, ProtocolError
from textport.protocol.noise import (
    MAX_MESSAGE,
    HandshakeState,
    KeyPair,
    parse_protocol_name,
)

VECTOR_DIR = Path(__file__).resolve().parents[1] / "vectors" / "noise"


def _load() -> list[dict[str, Any]]:
    vectors: list[dict[str, Any]] = []
    for name in ("cacophony-25519_AESGCM_SHA256.json", "snow-25519_AESGCM_SHA256.json"):
        data = json.loads((VECTOR_DIR / name).read_text())
        for index, vector in enumerate(data["vectors"]):
            vector["_id"] = f"{name.split('-')[0]}[{index}]{vector['protocol_name']}"
            vectors.append(vector)
    return vectors


VECTORS = _load()


def test_all_published_vectors_are_present() -> None:
    assert len(VECTORS) == 110


def _key(vector: dict[str, Any], field: str) -> KeyPair | None:
    raw = vector.get(field)
    return KeyPair.from_private_bytes(bytes.fromhex(raw)) if raw else None


def _pub(vector: dict[str, Any], field: str) -> bytes | None:
    raw = vector.get(field)
    return bytes.fromhex(raw) if raw else None


def _side(vector: dict[str, Any], prefix: str, initiator: bool) -> HandshakeState:
    return HandshakeState(
        vector["protocol_name"],
        initiator=initiator,
        prologue=bytes.fromhex(vector[f"{prefix}_prologue"]),
        s=_key(vector, f"{prefix}_static"),
        e=_key(vector, f"{prefix}_ephemeral"),
        rs=_pub(vector, f"{prefix}_remote_static"),
        psks=[bytes.fromhex(p) for p in vector.get(f"{prefix}_psks", [])],
    )


@pytest.mark.parametrize("vector", VECTORS, ids=[v["_id"] for v in VECTORS])
def test_vector(vector: dict[str, Any]) -> None:
    initiator = _side(vector, "init", True)
    responder = _side(vector, "resp", False)
    one_way = initiator.pattern.one_way
    handshake_len = len(initiator.pattern.messages)
    sender, receiver = initiator, responder
    send_cs = recv_cs = None
    for index, message in enumerate(vector["messages"]):
        payload = bytes.fromhex(message["payload"])
        expected = bytes.fromhex(message["ciphertext"])
        if index < handshake_len:
            assert sender.write_message(payload) == expected
            assert receiver.read_message(expected) == payload
            sender, receiver = receiver, sender
            continue
        if index == handshake_len:
            hash_hex = vector.get("handshake_hash")
            if hash_hex:
                assert initiator.result.handshake_hash == bytes.fromhex(hash_hex)
            assert responder.result.handshake_hash == initiator.result.handshake_hash
        # Transport messages go on alternating from where the handshake stopped
        # (one-way patterns: initiator only).
        from_initiator = one_way or index % 2 == 0
        send_cs = initiator.result.send if from_initiator else responder.result.send
        recv_cs = responder.result.receive if from_initiator else initiator.result.receive
        assert send_cs.encrypt_with_ad(b"", payload) == expected
        assert recv_cs.decrypt_with_ad(b"", expected) == payload
    assert initiator.complete and responder.complete


def _xx_pair() -> tuple[HandshakeState, HandshakeState]:
    return (
        HandshakeState("Noise_XX_25519_AESGCM_SHA256", initiator=True, s=KeyPair.generate()),
        HandshakeState("Noise_XX_25519_AESGCM_SHA256", initiator=False, s=KeyPair.generate()),
    )


def test_flipped_bit_in_handshake_message_is_rejected() -> None:
    init, resp = _xx_pair()
    resp.read_message(init.write_message())
    msg2 = bytearray(resp.write_message())
    msg2[40] ^= 0x01
    with pytest.raises(CryptoError):
        init.read_message(bytes(msg2))


def test_oversized_message_is_rejected() -> None:
    init, _ = _xx_pair()
    with pytest.raises(ProtocolError) as caught:
        init.write_message(b"\x00" * MAX_MESSAGE)
    assert caught.value.code == "too_large"
    _, resp = _xx_pair()
    with pytest.raises(ProtocolError):
        resp.read_message(b"\x00" * (MAX_MESSAGE + 1))


def test_out_of_turn_and_after_finish() -> None:
    init, resp = _xx_pair()
    with pytest.raises(ProtocolError):
        resp.write_message()
    resp.read_message(init.write_message())
    init.read_message(resp.write_message())
    resp.read_message(init.write_message())
    with pytest.raises(ProtocolError):
        init.write_message()


@pytest.mark.parametrize(
    "name",
    [
        "Noise_XX_25519_ChaChaPoly_BLAKE2s",
        "Noise_ZZ_25519_AESGCM_SHA256",
        "XX",
        "Noise_NNpsk9_25519_AESGCM_SHA256",
    ],
)
def test_unsupported_protocol_names(name: str) -> None:
    with pytest.raises(ProtocolError):
        parse_protocol_name(name)


def test_small_order_public_key_is_refused() -> None:
    key = KeyPair.generate()
    with pytest.raises(CryptoError):
        key.dh(b"\x00" * 32)


def test_keypair_repr_hides_private_key() -> None:
    key = KeyPair.from_private_bytes(bytes(range(32)))
    assert bytes(range(32)).hex()[:16] not in repr(key)
