"""Run each of protocol v1's handshakes in memory, with a hook to tamper with messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textport.protocol import pairing, session
from textport.protocol.noise import KeyPair

RELAY = "ws://127.0.0.1:8750/v1"
NOW = 1_790_000_000
ROOM = b"\x11" * 16

Tamper = Callable[[int, bytes], bytes]
"""Called with (message index, message) for every message on the wire; returns what arrives."""


def untouched(_index: int, message: bytes) -> bytes:
    return message


@dataclass
class Pair:
    device: session.Session
    host: session.Session


def offer_flow(tamper: Tamper = untouched, *, device_secret: bytes | None = None) -> Pair:
    """QR/link pairing: the device made the offer, the host read it (and initiates)."""
    host_key, device_key = KeyPair.generate(), KeyPair.generate()
    offer = pairing.PairingOffer.create(RELAY, now=NOW, ttl=60)
    device_offer = offer
    if device_secret is not None:
        device_offer = pairing.PairingOffer(
            offer.relay, offer.channel, device_secret, offer.expires
        )
    host = pairing.offer_handshake(offer, host_key, made_offer=False)
    device = pairing.offer_handshake(device_offer, device_key, made_offer=True)
    device.read(tamper(0, host.write()))
    host.read(tamper(1, device.write()))
    device.read(tamper(2, host.write()))
    return Pair(device.session(NOW), host.session(NOW))


def code_flow(tamper: Tamper = untouched, *, device_code: str | None = None) -> Pair:
    """Typed-code pairing: commitment, then XX with the device initiating."""
    code = pairing.new_code()
    host = pairing.CodeHostHandshake(code, RELAY, KeyPair.generate())
    device = pairing.CodeDeviceHandshake(device_code or code, RELAY, KeyPair.generate())
    device.read_commitment(tamper(0, host.commitment))
    host.read(tamper(1, device.write()))
    device.read(tamper(2, host.write()))
    host.read(tamper(3, device.write()))
    if host.comparison_code() != device.comparison_code():
        raise AssertionError("comparison codes differ")
    return Pair(device.session(NOW), host.session(NOW))


def session_flow(
    tamper: Tamper = untouched, *, device_room: bytes = ROOM, host_key: KeyPair | None = None
) -> Pair:
    """A session handshake (IK, device initiating)."""
    host_key = host_key or KeyPair.generate()
    device = session.device_handshake(KeyPair.generate(), host_key.public, device_room)
    host = session.host_handshake(host_key, ROOM)
    host.read(tamper(0, device.write()))
    device.read(tamper(1, host.write()))
    return Pair(device.session(NOW), host.session(NOW))


FLOWS: dict[str, Callable[..., Pair]] = {
    "offer": offer_flow,
    "code": code_flow,
    "session": session_flow,
}
MESSAGE_COUNTS = {"offer": 3, "code": 4, "session": 2}
