"""textport's Noise against an independent implementation (the ``noiseprotocol`` package,
used only here, as a test oracle) with random keys, payloads and roles."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from noise.connection import Keypair, NoiseConnection

from textport.protocol.noise import HandshakeState, KeyPair

PATTERNS = {
    "Noise_XXpsk0_25519_AESGCM_SHA256": (False, False),
    "Noise_XX_25519_AESGCM_SHA256": (False, False),
    "Noise_IK_25519_AESGCM_SHA256": (False, True),  # initiator knows the responder's key
}


def _oracle(
    name: str, initiator: bool, static: KeyPair, remote: bytes | None, psk: bytes
) -> NoiseConnection:
    conn = NoiseConnection.from_name(name.encode())
    if initiator:
        conn.set_as_initiator()
    else:
        conn.set_as_responder()
    conn.set_keypair_from_private_bytes(Keypair.STATIC, static.private_bytes())
    if remote is not None:
        conn.set_keypair_from_public_bytes(Keypair.REMOTE_STATIC, remote)
    if "psk" in name:
        conn.set_psks(psk)
    conn.set_prologue(b"textport oracle")
    conn.start_handshake()
    return conn


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(sorted(PATTERNS)),
    ours_initiates=st.booleans(),
    psk=st.binary(min_size=32, max_size=32),
    payloads=st.lists(st.binary(max_size=300), min_size=6, max_size=6),
)
def test_interoperates_with_noiseprotocol(
    name: str, ours_initiates: bool, psk: bytes, payloads: list[bytes]
) -> None:
    init_key, resp_key = KeyPair.generate(), KeyPair.generate()
    knows_responder = PATTERNS[name][1]
    remote = resp_key.public if knows_responder else None
    if ours_initiates:
        ours = HandshakeState(
            name,
            initiator=True,
            prologue=b"textport oracle",
            s=init_key,
            rs=remote,
            psks=[psk] if "psk" in name else [],
        )
        theirs = _oracle(name, False, resp_key, None, psk)
    else:
        ours = HandshakeState(
            name,
            initiator=False,
            prologue=b"textport oracle",
            s=resp_key,
            psks=[psk] if "psk" in name else [],
        )
        theirs = _oracle(name, True, init_key, remote, psk)
    index = 0
    writer_is_ours = ours_initiates
    while not ours.complete:
        payload = payloads[index]
        if writer_is_ours:
            assert theirs.read_message(ours.write_message(payload)) == payload
        else:
            assert ours.read_message(theirs.write_message(payload)) == payload
        writer_is_ours = not writer_is_ours
        index += 1
    assert theirs.handshake_finished
    assert ours.result.handshake_hash == theirs.get_handshake_hash()
    for payload in payloads[index:]:
        assert theirs.decrypt(ours.result.send.encrypt_with_ad(b"", payload)) == payload
        assert ours.result.receive.decrypt_with_ad(b"", theirs.encrypt(payload)) == payload
