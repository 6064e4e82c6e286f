"""A Python host pairs with, and talks to, a TypeScript device: the three flows of v1.

Each scenario plays the host with textport.protocol and the device through a
:class:`~tests.interop.devices.Device`, and checks every byte that matters: codes shown
on both sides, static keys learned, and messages sealed by one side opened by the other.
"""

from __future__ import annotations

import time

import msgspec

from tests.interop.devices import Device, DeviceError
from textport.errors import ErrorCode, TextportError
from textport.protocol import derive, messages, pairing, session
from textport.protocol.noise import KeyPair

RELAY = "ws://127.0.0.1:8750/v1"


def _json(message: messages.Message) -> str:
    return messages.encode(message).decode()


def exchange(device: Device, host: session.Session) -> None:
    """Messages both ways, every type a session carries; then a tampered one closes it."""
    outgoing: tuple[messages.Message, ...] = (
        messages.Hello(proto=1, agent="textport-web/0.1 (interop)"),
        messages.Send(cmid="5a" * 16, to=["+15550100"], body="Ünïcödé 😀 — and\nlines"),
        messages.Search(qid=1, query="dinner", limit=20, before=None),
    )
    for message in outgoing:
        sealed = bytes.fromhex(device.call("seal", body=_json(message))["ciphertext"])
        assert host.open(sealed) == message
    incoming: tuple[messages.Message, ...] = (
        messages.Welcome(
            proto=1,
            host_name="Ana's phone",
            device_id=derive.b64url(bytes(16)),
            seq=3,
            caps=messages.Capabilities(delivery_reports=True, mms=False, max_parts=10),
        ),
        messages.Ack(cmid="5a" * 16, msg_id=7, state="sending", reason=None),
        messages.Results(qid=1, hits=[], more=False),
    )
    for message in incoming:
        opened = device.call("open", ciphertext=host.seal(message).hex())["body"]
        assert msgspec.json.decode(opened) == msgspec.json.decode(_json(message))
    tampered = bytearray(host.seal(messages.Ping(n=1)))
    tampered[20] ^= 0x04
    for expected in (ErrorCode.DECRYPT_FAILED, ErrorCode.SESSION_CLOSED):
        try:
            device.call("open", ciphertext=bytes(tampered).hex())
        except DeviceError as exc:
            assert exc.code == expected
        else:
            raise AssertionError("the device opened a tampered message")


def offer_pairing(device: Device, host_key: KeyPair) -> bytes:
    """The device shows a QR offer; the host reads it and runs XXpsk0. Returns D.pub."""
    now = int(time.time())
    uri = device.call("offer_make", relay=RELAY, now=now)["uri"]
    offer = pairing.PairingOffer.parse(uri, now=now, allowed_relays=[RELAY])
    host = pairing.offer_handshake(offer, host_key, made_offer=False)
    reply = device.call("offer_read", message=host.write().hex())["message"]
    host.read(bytes.fromhex(reply))
    shown = device.call("offer_finish", message=host.write().hex())["confirmation_code"]
    host_session = host.session(now)
    assert shown == derive.confirmation_code(host_session.handshake_hash)
    assert host.remote_static == bytes.fromhex(device.call("device_public")["public"])
    exchange(device, host_session)
    assert host.remote_static is not None
    return host.remote_static


def code_pairing(device: Device, host_key: KeyPair) -> bytes:
    """The device shows a typed code; the host commits, XX runs, both show six digits."""
    code = device.call("code_new", relay=RELAY)["code"]
    host = pairing.CodeHostHandshake(code, RELAY, host_key)
    first = device.call("code_commit", message=host.commitment.hex())["message"]
    host.read(bytes.fromhex(first))
    answer = device.call("code_read", message=host.write().hex())
    host.read(bytes.fromhex(answer["message"]))
    assert answer["comparison_code"] == host.comparison_code()
    exchange(device, host.session(time.time()))
    assert host.remote_static is not None
    return host.remote_static


def code_pairing_with_a_swapped_commitment(device: Device, host_key: KeyPair) -> None:
    """A relay that commits to its own key is caught by the device at message 2."""
    code = device.call("code_new", relay=RELAY)["code"]
    host = pairing.CodeHostHandshake(code, RELAY, host_key)
    forged = derive.commitment(KeyPair.generate().public)
    host.read(bytes.fromhex(device.call("code_commit", message=forged.hex())["message"]))
    try:
        device.call("code_read", message=host.write().hex())
    except DeviceError as exc:
        assert exc.code == ErrorCode.COMMITMENT_MISMATCH
    else:
        raise AssertionError("the device accepted a key that did not match the commitment")


def ik_session(device: Device, host_key: KeyPair, device_public: bytes) -> None:
    """A paired device connects: IK, the host checks the key it learned when pairing."""
    room = KeyPair.generate().public[:16]
    host = session.host_handshake(host_key, room)
    first = device.call("session_start", host_public=host_key.public.hex(), room=room.hex())
    host.read(bytes.fromhex(first["message"]))
    assert host.remote_static == device_public, "the host must see the paired device's key"
    device.call("session_finish", message=host.write().hex())
    exchange(device, host.session(time.time()))


def ik_session_with_wrong_room_fails_at_message_1(device: Device, host_key: KeyPair) -> None:
    host = session.host_handshake(host_key, b"\x01" * 16)
    first = device.call("session_start", host_public=host_key.public.hex(), room="02" * 16)
    try:
        host.read(bytes.fromhex(first["message"]))
    except TextportError as exc:
        assert exc.code == ErrorCode.DECRYPT_FAILED
    else:
        raise AssertionError("a session for another room was accepted")


def all_flows(device: Device) -> None:
    host_key = KeyPair.generate()
    paired_by_offer = offer_pairing(device, host_key)
    paired_by_code = code_pairing(device, host_key)
    assert paired_by_offer == paired_by_code, "one device, one static key"
    code_pairing_with_a_swapped_commitment(device, host_key)
    ik_session(device, host_key, paired_by_offer)
    ik_session_with_wrong_room_fails_at_message_1(device, host_key)
