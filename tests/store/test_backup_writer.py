"""The backup writer: read(write(messages)) == messages for whatever the format can carry,
escaping, the root's count on files and streams, and one message at a time."""

from __future__ import annotations

import dataclasses
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textport.numbers import normalise
from textport.store.backup.reader import NOT_INCLUDED, BackupReader
from textport.store.backup.records import Attachment, HistoryMessage
from textport.store.backup.writer import write_backup

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "sms-backup-restore"


def write(messages: list[HistoryMessage], **options: int) -> bytes:
    out = io.BytesIO()
    assert write_backup(messages, out, **options) == len(messages)
    return out.getvalue()


def read(data: bytes) -> list[HistoryMessage]:
    reader = BackupReader(io.BytesIO(data))
    messages = list(reader.messages())
    assert reader.damage is None
    assert reader.skipped == 0
    return messages


def message(**fields: object) -> HistoryMessage:
    values: dict[str, object] = {
        "kind": "sms",
        "direction": "in",
        "peers": ("+15550100100",),
        "sender": "+15550100100",
        "body": "hello",
        "at_ms": 1_700_000_000_000,
        "read": True,
        "state": "received",
    } | fields
    return HistoryMessage(**values)  # type: ignore[arg-type]


# What the format can carry.


def _normal(address: str) -> bool:
    return normalise(address, "US") == address


PEERS = st.one_of(
    st.from_regex(r"\+1[2-9][0-9]{2}[2-9][0-9]{6}", fullmatch=True),
    st.from_regex(r"\+447[0-9]{9}", fullmatch=True),
    st.from_regex(r"[1-9][0-9]{4,5}", fullmatch=True),
    st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,9}( [A-Za-z]{1,5})?", fullmatch=True),
    st.from_regex(r"[a-z0-9_.]{1,10}@[a-z]{1,8}\.[a-z]{2,3}", fullmatch=True),
).filter(_normal)
XML_TEXT = st.text(
    st.characters(
        blacklist_categories=["Cs"],
        blacklist_characters=[chr(c) for c in range(32) if chr(c) not in "\t\n\r"]
        + ["\ufffe", "\uffff"],
    ),
    max_size=60,
)
NAMES = st.from_regex(r"[A-Z][a-z]{1,8}( [A-Z][a-zé]{1,8})?", fullmatch=True)
ATTACHMENTS = st.builds(
    Attachment,
    content_type=st.sampled_from(
        ["image/png", "image/jpeg", "video/mp4", "audio/amr", "application/pdf", "text/x-vCard"]
    ),
    name=st.none() | st.from_regex(r"[a-z0-9_]{1,10}\.[a-z]{3}", fullmatch=True),
    data=st.binary(min_size=1, max_size=300),
) | st.builds(
    Attachment,
    content_type=st.just("image/jpeg"),
    name=st.none() | st.just("lost.jpg"),
    data=st.none(),
    broken=st.just(NOT_INCLUDED),
)


@st.composite
def representable(draw: st.DrawFn) -> HistoryMessage:
    kind = draw(st.sampled_from(["sms", "mms"]))
    peers = tuple(
        sorted(set(draw(st.lists(PEERS, min_size=1, max_size=1 if kind == "sms" else 4))))
    )
    direction = draw(st.sampled_from(["in", "out"]))
    if direction == "in":
        state = "received"
    else:
        state = draw(
            st.sampled_from(
                ["sent", "delivered", "failed"] if kind == "sms" else ["sent", "failed"]
            )
        )
    names: dict[str, str] = {}
    if len(peers) == 1 and draw(st.booleans()):
        name = draw(NAMES)
        if name != peers[0]:
            names = {peers[0]: name}
    return HistoryMessage(
        kind="sms" if kind == "sms" else "mms",
        direction="in" if direction == "in" else "out",
        peers=peers,
        sender=draw(st.sampled_from(peers)) if direction == "in" else "",
        body=draw(XML_TEXT.filter(lambda body: body != "null")),
        at_ms=draw(st.integers(0, 2**53 - 1)),
        read=draw(st.booleans()),
        state=state,  # type: ignore[arg-type]
        subject=draw(st.none() | XML_TEXT.filter(lambda s: s not in ("", "null"))),
        names=names,
        attachments=tuple(draw(st.lists(ATTACHMENTS, max_size=3))) if kind == "mms" else (),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages=st.lists(representable(), max_size=8))
def test_reading_what_was_written_gives_the_same_messages(messages: list[HistoryMessage]) -> None:
    data = write(messages)
    assert read(data) == messages
    ET.fromstring(data)  # well-formed for any other XML reader too


# Escaping.


def test_specials_newlines_and_what_xml_cannot_carry() -> None:
    body = "a & b < c > d \" e ' f\ng\r\nh\ti 😀 \x00\x07\x1b\ufffe end"
    data = write([message(body=body, subject="<&>")])
    assert b"&#10;" in data
    assert b"&#13;&#10;" in data
    assert b"&#9;" in data
    assert "😀".encode() in data  # the real character, never surrogate references
    root = ET.fromstring(data)
    element = root[0]
    assert (
        element.get("body") == "a & b < c > d \" e ' f\ng\r\nh\ti 😀 \ufffd\ufffd\ufffd\ufffd end"
    )
    assert element.get("subject") == "<&>"
    (back,) = read(data)
    assert back.body == element.get("body")


def test_lone_surrogates_in_a_record_become_the_replacement_character() -> None:
    (back,) = read(write([message(body="a\ud83db")]))
    assert back.body == "a\ufffdb"


def test_the_layout_matches_sms_backup_and_restore() -> None:
    picture = Attachment("image/png", "p.png", b"\x89PNG")
    data = write(
        [
            message(names={"+15550100100": "Ann"}),
            message(direction="out", sender="", state="delivered"),
            message(kind="mms", peers=("+15550000009", "+15550100100"), attachments=(picture,)),
        ]
    ).decode()
    assert data.startswith("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n")
    root = ET.fromstring(data)
    assert root.tag == "smses"
    assert root.get("count") == "3"
    first, second, third = root
    assert (first.tag, first.get("type"), first.get("contact_name")) == ("sms", "1", "Ann")
    assert (second.get("type"), second.get("status"), second.get("contact_name")) == (
        "2",
        "0",
        "(Unknown)",
    )
    assert third.tag == "mms"
    assert third.get("address") == "+15550000009~+15550100100"
    assert third.get("msg_box") == "1"
    parts = third.findall("parts/part")
    assert [(p.get("ct"), p.get("text"), p.get("data")) for p in parts] == [
        ("text/plain", "hello", None),
        ("image/png", "null", "iVBORw=="),
    ]
    assert [(a.get("address"), a.get("type")) for a in third.findall("addrs/addr")] == [
        ("+15550100100", "137"),
        ("+15550000009", "130"),
    ]


# The root's count.


class Stream(io.RawIOBase):
    """A stream that cannot seek, like a socket or a pipe."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        assert isinstance(data, bytes | bytearray | memoryview)
        self.data += data
        return len(data)


def test_a_seekable_file_gets_the_number_written_whatever_count_said() -> None:
    messages = [message(at_ms=i) for i in range(3)]
    assert ET.fromstring(write(messages)).get("count") == "3"
    assert ET.fromstring(write(messages, count=10)).get("count") == "3"
    assert ET.fromstring(write([])).get("count") == "0"


def test_a_stream_needs_count_and_gets_it_as_given() -> None:
    stream = Stream()
    assert write_backup([message()], cast(BinaryIO, stream), count=1) == 1
    assert ET.fromstring(bytes(stream.data)).get("count") == "1"
    with pytest.raises(ValueError, match="needs count="):
        write_backup([message()], cast(BinaryIO, Stream()))


def test_messages_are_written_one_at_a_time() -> None:
    out = io.BytesIO()
    sizes: list[int] = []

    def produce() -> Iterator[HistoryMessage]:
        for i in range(3):
            sizes.append(len(out.getvalue()))
            yield message(at_ms=i, body="x" * 100)

    write_backup(produce(), out)
    assert sizes[0] < sizes[1] < sizes[2]


# Samples: read, write, read again.


def _as_written(message: HistoryMessage) -> HistoryMessage:
    """A missing attachment comes back as "not included", whatever broke it."""
    attachments = tuple(
        a if a.data is not None else dataclasses.replace(a, broken=NOT_INCLUDED)
        for a in message.attachments
    )
    return dataclasses.replace(message, attachments=attachments)


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.xml")))
def test_every_sample_survives_a_round_trip(name: str, tmp_path: Path) -> None:
    with (SAMPLES / name).open("rb") as stream:
        original = list(BackupReader(stream).messages())
    path = tmp_path / "export.xml"
    with path.open("wb") as out:
        assert write_backup(original, out) == len(original)
    assert read(path.read_bytes()) == [_as_written(m) for m in original]
