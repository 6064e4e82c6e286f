"""Application messages: the fields that let a text's lifetime count from its Send.

``send{created}`` (when the person pressed Send) and ``caps.text_ttl_ms`` (the host's
text lifetime) are optional both ways: an older peer's messages decode to their
defaults, and a newer peer's extra field is ignored by an older one.
"""

from __future__ import annotations

import msgspec
import pytest

from textport.errors import ErrorCode, ProtocolError
from textport.protocol import messages

CMID = "ab" * 16
SEND = b'{"t":"send","cmid":"' + CMID.encode() + b'","to":["+15550100"],"body":"hi"'
WELCOME = (
    b'{"t":"welcome","proto":1,"host_name":"h","device_id":"AAAAAAAAAAAAAAAAAAAAAA","seq":0,'
    b'"caps":{"delivery_reports":true,"mms":false,"max_parts":10'
)


def test_a_send_from_an_older_device_has_no_created_and_a_new_one_round_trips() -> None:
    old = messages.decode(SEND + b"}")
    assert isinstance(old, messages.Send)
    assert (old.at, old.created) == (None, None)
    new = messages.Send(cmid=CMID, to=["+15550100"], body="hi", created=1_790_000_000_000)
    encoded = messages.encode(new)
    assert encoded == SEND + b',"at":null,"created":1790000000000}'
    assert messages.decode(encoded) == new


def test_a_welcome_from_an_older_host_says_no_lifetime_and_a_new_one_does() -> None:
    old = messages.decode(WELCOME + b"}}")
    assert isinstance(old, messages.Welcome)
    assert old.caps.text_ttl_ms is None
    new = messages.decode(WELCOME + b',"text_ttl_ms":86400000}}')
    assert isinstance(new, messages.Welcome)
    assert new.caps.text_ttl_ms == 86_400_000


def test_an_older_peer_ignores_the_new_fields() -> None:
    """What an older decoder sees: a struct without the new field skips it."""

    class OldCaps(msgspec.Struct, frozen=True):
        delivery_reports: bool
        mms: bool
        max_parts: int
        dual_sim: bool = False
        incoming: str = "events"

    caps = messages.Capabilities(delivery_reports=True, mms=False, max_parts=3, text_ttl_ms=5)
    assert msgspec.json.decode(msgspec.json.encode(caps), type=OldCaps) == OldCaps(True, False, 3)


@pytest.mark.parametrize("created", [b"-1", b"1.5", b'"now"', b"9007199254740992", b"true"])
def test_a_bad_created_is_refused_by_cmid(created: bytes) -> None:
    body = SEND + b',"created":' + created + b"}"
    with pytest.raises(ProtocolError) as raised:
        messages.decode(body)
    assert raised.value.code == ErrorCode.BAD_MESSAGE
    assert messages.refused_send(body) == CMID, "the device fails that one text"


@pytest.mark.parametrize("ttl", [b"0", b"-5", b"60.5", b'"1 day"', b"9007199254740992"])
def test_a_bad_text_ttl_is_refused(ttl: bytes) -> None:
    with pytest.raises(ProtocolError) as raised:
        messages.decode(WELCOME + b',"text_ttl_ms":' + ttl + b"}}")
    assert raised.value.code == ErrorCode.BAD_MESSAGE
