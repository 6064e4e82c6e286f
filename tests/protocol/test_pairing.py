"""Pairing offers, typed codes and both pairing handshakes."""

from __future__ import annotations

import pytest

from tests.protocol.flows import NOW, RELAY, code_flow, offer_flow
from tests.vectors.generate import BAD_OFFERS
from textport.errors import ErrorCode, ProtocolError
from textport.protocol import derive, messages, pairing
from textport.protocol.noise import KeyPair


def test_offer_round_trips_through_its_uri_and_a_link_fragment() -> None:
    offer = pairing.PairingOffer.create(RELAY, now=NOW, ttl=60)
    uri = offer.to_uri()
    assert uri.startswith("textport-pair:1?r=ws%3A%2F%2F127.0.0.1%3A8750%2Fv1&c=")
    for text in (uri, f"http://127.0.0.1:8750/#{uri}", f"  {uri}\n"):
        assert pairing.PairingOffer.parse(text, now=NOW, allowed_relays=[RELAY]) == offer


def test_offer_repr_hides_the_secret() -> None:
    offer = pairing.PairingOffer.create(RELAY, now=NOW, ttl=60)
    assert derive.b64url(offer.secret) not in repr(offer)
    assert offer.secret.hex() not in repr(offer)


@pytest.mark.parametrize(
    ("now", "allowed", "code"),
    [
        (NOW + 61, [RELAY], ErrorCode.PAIRING_EXPIRED),
        (NOW, ["wss://relay.example/v1"], ErrorCode.RELAY_NOT_ALLOWED),
        (NOW - 3600, [RELAY], ErrorCode.BAD_PAIRING_CODE),
    ],
)
def test_offer_checks(now: int, allowed: list[str], code: ErrorCode) -> None:
    uri = pairing.PairingOffer.create(RELAY, now=NOW, ttl=60).to_uri()
    with pytest.raises(ProtocolError) as caught:
        pairing.PairingOffer.parse(uri, now=now, allowed_relays=allowed)
    assert caught.value.code == code


def test_offer_for_a_non_websocket_relay_cannot_be_made() -> None:
    with pytest.raises(ProtocolError):
        pairing.PairingOffer.create("https://relay.example", now=NOW, ttl=60)


def test_offer_pairing_gives_matching_codes_and_a_working_session() -> None:
    pair = offer_flow()
    assert derive.confirmation_code(pair.device.handshake_hash) == derive.confirmation_code(
        pair.host.handshake_hash
    )
    request = messages.PairRequest(name="Firefox on laptop", agent="Mozilla/5.0")
    assert pair.host.open(pair.device.seal(request)) == request


def test_offer_messages_have_the_documented_sizes() -> None:
    sizes: list[int] = []

    def measure(_index: int, message: bytes) -> bytes:
        sizes.append(len(message))
        return message

    offer_flow(measure)
    assert sizes == [48, 96, 64]


def test_typed_code_format_and_normalisation() -> None:
    code = pairing.new_code()
    assert len(code) == 9 and code[4] == "-"
    assert pairing.normalize_code(code.lower().replace("-", " ")) == code.replace("-", "")
    assert pairing.code_channel("k7qf-3m9x") == "code-K7QF3M9X"
    with pytest.raises(ProtocolError) as caught:
        pairing.normalize_code("K7QF-3M9")
    assert caught.value.code == ErrorCode.BAD_PAIRING_CODE


def test_typed_code_pairing_both_sides_learn_each_others_static_key() -> None:
    host_key, device_key = KeyPair.generate(), KeyPair.generate()
    host = pairing.CodeHostHandshake("K7QF-3M9X", RELAY, host_key)
    device = pairing.CodeDeviceHandshake("k7qf3m9x", RELAY, device_key)
    device.read_commitment(host.commitment)
    host.read(device.write())
    device.read(host.write())
    host.read(device.write())
    assert host.remote_static == device_key.public
    assert device.remote_static == host_key.public
    assert host.comparison_code() == device.comparison_code()
    assert len(host.comparison_code()) == 7 and host.comparison_code()[3] == " "


def test_typed_code_device_waits_for_the_commitment() -> None:
    device = pairing.CodeDeviceHandshake("K7QF-3M9X", RELAY, KeyPair.generate())
    with pytest.raises(ProtocolError) as caught:
        device.write()
    assert caught.value.code == ErrorCode.HANDSHAKE_STATE


def test_typed_code_with_another_version_prefix_is_refused_at_once() -> None:
    device = pairing.CodeDeviceHandshake("K7QF-3M9X", RELAY, KeyPair.generate())
    with pytest.raises(ProtocolError) as caught:
        device.read_commitment(b"TPC2" + bytes(32))
    assert caught.value.code == ErrorCode.VERSION_MISMATCH


def test_code_flow_sessions_work_both_ways() -> None:
    pair = code_flow()
    assert pair.device.open(pair.host.seal(messages.Ping(n=1))) == messages.Ping(n=1)
    assert pair.host.open(pair.device.seal(messages.Pong(n=1))) == messages.Pong(n=1)


def test_offers_with_malformed_relay_urls_are_bad_codes() -> None:
    """Regression: fuzz/decoders.py found urlsplit raising ValueError on '[' hosts."""
    for uri, code in BAD_OFFERS:
        with pytest.raises(ProtocolError) as caught:
            pairing.PairingOffer.parse(uri, now=NOW, allowed_relays=[RELAY])
        assert caught.value.code == code, uri
