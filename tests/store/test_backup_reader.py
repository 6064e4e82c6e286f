"""The backup reader: real exports with exact counts, every SyncTech quirk, damage and
its position, files that are no backup, and constant memory on a file of 200 MB."""

from __future__ import annotations

import base64
import io
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import pytest

from textport.errors import BackupError, ConfigError, ErrorCode
from textport.store.backup import reader as reader_module
from textport.store.backup.reader import CORRUPT, NOT_INCLUDED, BackupReader, Damage
from textport.store.backup.records import Attachment, HistoryMessage

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "sms-backup-restore"
HEADER = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
PNG = bytes.fromhex("89504e470d0a1a0a") + b"pixels"
PNG_1x1 = (  # the one-pixel PNG the sample files carry
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
    "rkJggg=="
)


def read(data: bytes, **options: object) -> tuple[list[HistoryMessage], BackupReader]:
    reader = BackupReader(io.BytesIO(data), **options)  # type: ignore[arg-type]
    return list(reader.messages()), reader


def backup(*elements: str, count: str = "1") -> bytes:
    body = "".join(f"  {element}\n" for element in elements)
    return f'{HEADER}<smses count="{count}">\n{body}</smses>\n'.encode()


def sms(**attrs: str) -> str:
    values = {
        "protocol": "0",
        "address": "+15550100100",
        "date": "1512226167463",
        "type": "1",
        "subject": "null",
        "body": "hello",
        "read": "1",
        "status": "-1",
        "date_sent": "1512226166000",
        "contact_name": "(Unknown)",
    } | attrs
    return "<sms " + " ".join(f'{k}="{v}"' for k, v in values.items() if v is not None) + " />"


def mms(parts: list[dict[str, str]], addrs: list[tuple[str, str]], **attrs: str) -> str:
    values = {
        "date": "1721161764000",
        "date_sent": "1721161755",
        "msg_box": "1",
        "address": "+15550100100",
        "read": "1",
        "sub": "null",
        "contact_name": "(Unknown)",
    } | attrs
    head = "<mms " + " ".join(f'{k}="{v}"' for k, v in values.items()) + ">"
    part_xml = "".join(
        "<part " + " ".join(f'{k}="{v}"' for k, v in part.items()) + " />" for part in parts
    )
    addr_xml = "".join(f'<addr address="{a}" type="{t}" charset="106" />' for a, t in addrs)
    return f"{head}<parts>{part_xml}</parts><addrs>{addr_xml}</addrs></mms>"


def text(value: str) -> dict[str, str]:
    return {"seq": "0", "ct": "text/plain", "chset": "106", "text": value}


SMIL = {"seq": "-1", "ct": "application/smil", "text": "&lt;smil&gt;&lt;/smil&gt;"}


# The sample files, counted by hand (see test docstring).


@dataclass(frozen=True)
class Counts:
    messages: int
    sms: int
    conversations: int
    participants: int
    attachments: int
    broken: int
    inbound: int
    outbound: int
    unread: int
    declared: int


EXPECTED = {
    "sms_and_mms.xml": Counts(49, 41, 7, 8, 2, 0, 27, 22, 3, 58),
    "sms_small.xml": Counts(12, 12, 3, 3, 0, 0, 8, 4, 0, 12),
    "sample_small.xml": Counts(7, 5, 2, 2, 0, 0, 4, 3, 0, 7),
    "sample_mms.xml": Counts(4, 0, 1, 1, 4, 0, 4, 0, 0, 4),
    "corrupt_attachments.xml": Counts(2, 0, 1, 1, 2, 2, 2, 0, 0, 2),
    "empty.xml": Counts(0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
}


def counts(messages: list[HistoryMessage], declared: int | None) -> Counts:
    assert declared is not None
    return Counts(
        messages=len(messages),
        sms=sum(m.kind == "sms" for m in messages),
        conversations=len({m.peers for m in messages}),
        participants=len({p for m in messages for p in m.peers}),
        attachments=sum(len(m.attachments) for m in messages),
        broken=sum(a.data is None for m in messages for a in m.attachments),
        inbound=sum(m.direction == "in" for m in messages),
        outbound=sum(m.direction == "out" for m in messages),
        unread=sum(not m.read for m in messages),
        declared=declared,
    )


def test_every_sample_file_is_in_the_table() -> None:
    assert {p.name for p in SAMPLES.glob("*.xml")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_files_give_the_counts_established_by_hand(name: str) -> None:
    """Counted from the files with grep and by eye, not with the reader:

    - sms_and_mms.xml: 41 complete ``<sms>`` (21 type 1, 20 type 2; addresses …01 (29),
      …03 (2), …04 (8), …05 (2)) and 9 ``<mms>`` of which the 9th (line 133, msg_box 2 to
      …09~…12~…13) is cut off inside its ``<parts>``: 8 complete. MMS: …06 in, …06 out,
      three in the RCS group group_8@rcs.google.com whose addrs name …06, …09, …10 and
      the owner …07 (the FROM of the sent one, the single TO of the received ones), …06
      in, …11 in twice with one PNG each. So 49 messages; conversations {…01}, {…03},
      {…04}, {…05}, {…06}, {…06,…09,…10}, {…11} = 7; participants 8 (…07 is the owner);
      in 21+6 = 27, out 20+2 = 22; the MMS at lines 101, 111, 122 have read="0".
    - sms_small.xml: 12 ``<sms>``, types 1 1 1 1 2 1 2 1 1 2 1 2; addresses …01, …03, …04.
    - sample_small.xml: 5 ``<sms>`` (…01: in, out, in; …02: in, out) and 2 ``<mms>``
      (…01 in, …02 out): 4 in, 3 out, 2 conversations.
    - sample_mms.xml: 4 received MMS from …03, each one attachment (png, mp4, mp3, pdf)
      and a text part.
    - corrupt_attachments.xml: 2 received MMS from …04 whose one attachment each has
      ``data="not-valid-base64-content!!"``.
    - empty.xml: a root with count="0" and nothing in it.
    """
    messages, reader = read((SAMPLES / name).read_bytes())
    assert counts(messages, reader.declared) == EXPECTED[name]
    assert reader.skipped == 0
    assert reader.skip_reasons == {}
    if name != "sms_and_mms.xml":
        assert reader.damage is None


def test_the_truncated_export_keeps_every_complete_message_and_says_where_it_ends() -> None:
    data = (SAMPLES / "sms_and_mms.xml").read_bytes()
    messages, reader = read(data)
    assert len(data) == 26798
    # The file's last line is six spaces of indentation inside the unfinished <mms>.
    assert reader.damage == Damage(
        line=136, column=7, offset=26798, message=reader.damage.message if reader.damage else ""
    )
    assert reader.damage is not None
    assert "ends in the middle of a message (line 136" in reader.damage.message
    assert "export or copy the backup again" in reader.damage.message
    # SMS bodies are "Body text 1" to "44", three of them lines of one text (&#10;).
    bodies = [f"Body text {i}" for i in range(1, 45)]
    bodies[9:12] = ["Body text 10\nBody text 11\nBody text 12"]
    bodies[23:25] = ["Body text 26\n\nBody text 27"]
    assert [m.body for m in messages[:41]] == bodies
    assert [m.body for m in messages[41:]] == [f"Body text {i}" for i in (45, 46, 47, 48, 49)] + [
        "Body text 50\nBody text 51\nBody text 52\nBody text 53",
        "Body text 54",
        "Body text 55",
    ]


def test_sms_and_mms_participants_owner_and_senders() -> None:
    messages, reader = read((SAMPLES / "sms_and_mms.xml").read_bytes())
    assert reader.owners == {"+15550000007"}
    group = ("+15550000006", "+15550000009", "+15550000010")
    mms_list = [m for m in messages if m.kind == "mms"]
    assert [(m.direction, m.peers, m.sender) for m in mms_list] == [
        ("in", ("+15550000006",), "+15550000006"),
        ("out", ("+15550000006",), ""),
        ("in", group, "+15550000009"),
        ("out", group, ""),
        ("in", group, "+15550000010"),
        ("in", ("+15550000006",), "+15550000006"),
        ("in", ("+15550000011",), "+15550000011"),
        ("in", ("+15550000011",), "+15550000011"),
    ]
    # date is milliseconds; date_sent (seconds, 1721000123) is not used.
    assert mms_list[2].at_ms == 1721000123000
    assert mms_list[3].body == "Body text 48"
    assert mms_list[5].body == "Body text 50\nBody text 51\nBody text 52\nBody text 53"
    assert mms_list[6].attachments == (
        Attachment("image/png", "image_8.png", base64.b64decode(PNG_1x1), None),
    )
    # Names only for one-peer conversations, and "(Unknown)" is no name.
    assert mms_list[0].names == {"+15550000006": "Contact D"}
    assert mms_list[2].names == {}
    assert mms_list[6].names == {}
    assert messages[0].names == {"+15550000001": "Contact A"}
    # Two numbers may share a contact name; each keeps it.
    assert messages[13].names == {"+15550000005": "Contact B"}
    assert messages[3].names == {"+15550000003": "Contact B"}
    assert {m.state for m in messages if m.direction == "out"} == {"sent"}
    assert {m.state for m in messages if m.direction == "in"} == {"received"}
    assert all(m.subject is None for m in messages)


def test_sample_small_mms_with_the_peer_as_from_of_a_sent_message_keeps_the_peer() -> None:
    # sample_small.xml's sent MMS names its peer as FROM (a synthetic file's mistake):
    # the owner is never one of the numbers ``address`` lists.
    messages, reader = read((SAMPLES / "sample_small.xml").read_bytes())
    assert reader.owners == frozenset()
    assert messages[-1].peers == ("+15550000002",)
    assert messages[-1].direction == "out"
    assert messages[3].kind == "mms"
    assert messages[3].sender == "+15550000001"  # no FROM: the one peer


def test_sample_mms_attachments_decode_exactly() -> None:
    messages, _ = read((SAMPLES / "sample_mms.xml").read_bytes())
    assert [(m.body, [(a.content_type, a.name) for a in m.attachments]) for m in messages] == [
        ("Here is an image attachment", [("image/png", "image.png")]),
        ("Here is a video attachment", [("video/mp4", "video.mp4")]),
        ("Here is an audio attachment", [("audio/mp3", "audio.mp3")]),
        ("Here is a PDF attachment", [("application/pdf", "document.pdf")]),
    ]
    assert messages[0].attachments[0].data == base64.b64decode(PNG_1x1)
    assert messages[3].attachments[0].data is not None
    assert messages[3].attachments[0].data.startswith(b"%PDF-1.4")


def test_corrupt_base64_keeps_the_message_with_a_broken_attachment() -> None:
    messages, _ = read((SAMPLES / "corrupt_attachments.xml").read_bytes())
    assert [m.body for m in messages] == [
        "MMS with corrupted base64 image data",
        "MMS with unsupported attachment type",
    ]
    assert [m.attachments for m in messages] == [
        (Attachment("image/png", "corrupt_image.png", None, CORRUPT),),
        (Attachment("application/x-corrupt", "corrupt.file", None, CORRUPT),),
    ]


def test_empty_backup_yields_nothing() -> None:
    messages, reader = read((SAMPLES / "empty.xml").read_bytes())
    assert messages == []
    assert reader.declared == 0
    assert reader.damage is None


# SMS and MMS semantics.


@pytest.mark.parametrize(
    ("kind", "status", "direction", "state"),
    [
        ("1", "-1", "in", "received"),
        ("2", "-1", "out", "sent"),
        ("2", "0", "out", "delivered"),
        ("2", "32", "out", "sent"),
        ("2", "64", "out", "failed"),
        ("4", "-1", "out", "failed"),
        ("5", "64", "out", "failed"),
        ("6", "-1", "out", "failed"),
    ],
)
def test_sms_types_and_statuses(kind: str, status: str, direction: str, state: str) -> None:
    (message,), _ = read(backup(sms(type=kind, status=status)))
    assert (message.direction, message.state) == (direction, state)
    assert message.sender == ("+15550100100" if direction == "in" else "")
    assert message.kind == "sms"
    assert message.peers == ("+15550100100",)


def test_drafts_and_unusable_messages_are_skipped_and_counted() -> None:
    data = backup(
        sms(type="3"),
        sms(type="9"),
        sms(address="null"),
        sms(address="-1"),
        sms(date="null"),
        sms(date="12.5"),
        mms([text("draft")], [], msg_box="3"),
        mms([text("x")], [], msg_box="7"),
        mms([text("x")], [], address="null"),
        "<call number='1' />",
        sms(body="kept"),
    )
    messages, reader = read(data)
    assert [m.body for m in messages] == ["kept"]
    assert reader.skipped == 10
    assert reader.skip_reasons == {
        "draft": 2,
        "unknown message type": 1,
        "unknown message box": 1,
        "no usable address": 3,
        "no usable date": 2,
        "not a message (an element other than <sms> or <mms>)": 1,
    }


def test_null_means_absent_and_unknown_means_no_name() -> None:
    (message,), _ = read(backup(sms(body="null", subject="null", contact_name="(Unknown)")))
    assert (message.body, message.subject, message.names) == ("", None, {})
    (message,), _ = read(backup(sms(subject="Re: plans", contact_name=" Ann Smith ")))
    assert (message.subject, message.names) == ("Re: plans", {"+15550100100": "Ann Smith"})
    (message,), _ = read(backup(sms(contact_name="+15550100100")))
    assert message.names == {}
    (message,), _ = read(backup(sms(read="0")))
    assert not message.read
    (message,), _ = read(backup(sms(read=None)))  # type: ignore[arg-type]
    assert message.read


def test_national_numbers_are_read_in_the_region_given() -> None:
    (message,), _ = read(backup(sms(address="(555) 010-0100")))
    assert message.peers == ("+15550100100",)
    (message,), _ = read(backup(sms(address="07700 900123")), region="GB")
    assert message.peers == ("+447700900123",)
    (message,), _ = read(backup(sms(address="Google")))
    assert message.peers == ("Google",)
    with pytest.raises(ConfigError):
        BackupReader(io.BytesIO(b""), region="Atlantis")


@pytest.mark.parametrize(
    ("box", "direction", "state"),
    [("1", "in", "received"), ("2", "out", "sent"), ("4", "out", "failed"), ("5", "out", "failed")],
)
def test_mms_boxes(box: str, direction: str, state: str) -> None:
    (message,), _ = read(backup(mms([text("hi")], [], msg_box=box)))
    assert (message.kind, message.direction, message.state) == ("mms", direction, state)


def test_mms_date_sent_is_seconds_and_never_the_time() -> None:
    (message,), _ = read(
        backup(mms([text("hi")], [], date="1721161764123", date_sent="1721161755"))
    )
    assert message.at_ms == 1721161764123
    messages, reader = read(backup(mms([text("hi")], [], date="null", date_sent="1721161755")))
    assert messages == []
    assert reader.skip_reasons == {"no usable date": 1}


def test_mms_parts_text_joined_smil_dropped_attachments_checked() -> None:
    big = base64.b64encode(b"x" * 101).decode()
    wrapped = base64.b64encode(PNG).decode()
    wrapped = wrapped[:8] + "&#10;" + wrapped[8:]
    parts = [
        SMIL,
        text("first"),
        {
            "ct": "image/png",
            "name": "null",
            "cl": "photo.png",
            "data": base64.b64encode(PNG).decode(),
        },
        text("second &amp; last"),
        {"ct": "image/jpeg", "name": "gone.jpg", "text": "null"},
        {"ct": "image/jpeg", "name": "null", "data": "null"},
        {"ct": "video/mp4", "name": "big.mp4", "data": big},
        {"ct": "image/gif", "name": "bad.gif", "data": "R0lGOD*lhAQABAIAAAP"},
        {"ct": "image/png", "fn": "wrapped.png", "data": wrapped},
        {"ct": "text/plain", "chset": "106", "data": base64.b64encode("thé".encode()).decode()},
        {
            "ct": "text/x-vCard",
            "name": "ann.vcf",
            "data": base64.b64encode(b"BEGIN:VCARD").decode(),
        },
    ]
    (message,), _ = read(backup(mms(parts, [])), max_attachment=100)
    assert message.body == "first\nsecond & last\nthé"
    assert message.attachments == (
        Attachment("image/png", "photo.png", PNG),
        Attachment("image/jpeg", "gone.jpg", None, NOT_INCLUDED),
        Attachment("image/jpeg", None, None, NOT_INCLUDED),
        Attachment(
            "video/mp4", "big.mp4", None, "larger than the 100 bytes import limit; left out"
        ),
        Attachment("image/gif", "bad.gif", None, CORRUPT),
        Attachment("image/png", "wrapped.png", PNG),
        Attachment("text/x-vCard", "ann.vcf", b"BEGIN:VCARD"),
    )


def test_a_message_s_attachments_together_have_a_limit() -> None:
    five = base64.b64encode(b"y" * 100).decode()
    parts = [{"ct": "image/png", "name": f"{i}.png", "data": five} for i in range(7)]
    (message,), _ = read(backup(mms(parts, [])), max_attachment=100)
    assert [a.data is not None for a in message.attachments] == [True] * 5 + [False] * 2
    assert message.attachments[5].broken == (
        "left out: the message's attachments together are over the 500 bytes import limit"
    )


def test_too_many_parts_or_addresses_skip_the_message() -> None:
    parts = [text(str(i)) for i in range(reader_module.MAX_PARTS + 1)]
    addrs = [(f"+1555010{i:04d}", "130") for i in range(reader_module.MAX_ADDRS + 1)]
    messages, reader = read(
        backup(mms(parts, []), mms([text("x")], addrs, address="g@rcs.google.com"))
    )
    assert messages == []
    assert reader.skip_reasons == {"more than 200 parts or 500 addresses": 2}


def test_a_group_larger_than_a_record_can_carry_is_skipped() -> None:
    many = "~".join(f"+1555010{i:04d}" for i in range(101))
    messages, reader = read(backup(mms([text("hi")], [], address=many, msg_box="2")))
    assert messages == []
    assert reader.skip_reasons == {"more than 100 participants": 1}


def test_tilde_joined_group_addresses_are_normalised_sorted_and_deduplicated() -> None:
    (message,), _ = read(
        backup(
            mms(
                [text("hi all")],
                [("+15550000009", "137"), ("+15550000007", "151"), ("+15550000012", "151")],
                address="(555) 000-0012~+15550000009~+1 555 000 0013~5550000012",
                contact_name="Ann, Bo, Cy",
            )
        )
    )
    assert message.peers == ("+15550000009", "+15550000012", "+15550000013")
    assert message.sender == "+15550000009"
    assert message.names == {}


def test_the_owner_learnt_from_an_rcs_group_is_dropped_from_later_address_lists() -> None:
    group = "group_8@rcs.google.com"
    data = backup(
        # Sent in an RCS group: FROM is the owner.
        mms(
            [text("one")],
            [("+15550000007", "137"), ("+15550000009", "151"), ("+15550000006", "151")],
            msg_box="2",
            address=group,
        ),
        # A plain group MMS whose address list names the owner too.
        mms(
            [text("two")],
            [("insert-address-token", "137"), ("+15550000009", "151")],
            msg_box="2",
            address="+15550000009~+15550000007~+15550000010",
        ),
        # Received in the group: the FROM is the sender; the owner is among the CCs.
        mms(
            [text("three")],
            [("+15550000006", "137"), ("+15550000007", "130"), ("+15550000009", "130")],
            address=group,
        ),
        # A message to the owner alone keeps its one peer rather than none.
        sms(address="+15550000007", body="note to self"),
    )
    messages, reader = read(data)
    assert reader.owners == {"+15550000007"}
    assert [(m.body, m.peers, m.sender) for m in messages] == [
        ("one", ("+15550000006", "+15550000009"), ""),
        ("two", ("+15550000009", "+15550000010"), ""),
        ("three", ("+15550000006", "+15550000009"), "+15550000006"),
        ("note to self", ("+15550000007",), "+15550000007"),
    ]


def test_an_rcs_message_without_addrs_keeps_its_address() -> None:
    (message,), _ = read(backup(mms([text("hi")], [], address="someone@example.org")))
    assert message.peers == ("someone@example.org",)


# Surrogate pair references.

SURROGATES = (
    "a&#55357;&#56832;b&#xD83D;&#xDE00;c&#55357;&#xde00;d&#55357;e&#56832;"
    "f&#0055357;&#56832;g&amp;#55357;h&#55357;&#55357;&#56832;i&#x1F600;"
    "j&#55357;&#56832;&#55357;&#56832;&#xD83D;&#xDE00;&#56832;"
)
SURROGATES_READ = "a😀b😀c😀d\ufffde\ufffdf😀g&#55357;h\ufffd😀i😀j😀😀😀\ufffd"


def test_surrogate_pair_references_are_merged_and_lone_halves_replaced() -> None:
    (message,), reader = read(backup(sms(body=SURROGATES)))
    assert message.body == SURROGATES_READ
    assert reader.damage is None


def test_surrogate_pairs_split_across_every_chunk_boundary() -> None:
    data = backup(sms(body=SURROGATES), mms([text(SURROGATES)], []))
    for chunk_size in range(1, 120):
        messages, reader = read(data, chunk_size=chunk_size)
        assert [m.body for m in messages] == [SURROGATES_READ] * 2, chunk_size
        assert reader.damage is None


def test_repaired_references_keep_damage_offsets_those_of_the_file() -> None:
    good = sms(body="&#55357;&#56832;" * 50)
    data = backup(good, good) + b""
    broken = data.replace(b"</smses>", b"<sms \x01 /></smses>")
    messages, reader = read(broken)
    assert len(messages) == 2
    assert reader.damage is not None
    assert reader.damage.offset == broken.index(b"\x01")


# Damage and files that are no backup.


def test_garbage_in_the_middle_gives_damage_with_its_position_and_keeps_what_came_before() -> None:
    head = backup(*(sms(body=f"m{i}") for i in range(3)), count="5")
    garbage = b"\xff\xfe\x00\x01 garbage"
    cut = head.rindex(b"</smses>")
    data = head[:cut] + b'  <sms address="+15550100100" body="half' + garbage + head[cut:]
    messages, reader = read(data, chunk_size=7)
    assert [m.body for m in messages] == ["m0", "m1", "m2"]
    damage = reader.damage
    assert damage is not None
    where = data.index(garbage)
    assert damage.offset == where
    assert damage.line == data[:where].count(b"\n") + 1 == 6
    assert damage.column == where - data[:where].rindex(b"\n")
    assert f"damaged at line 6, column {damage.column} (byte {where})" in damage.message
    assert "not well-formed" in damage.message


def test_every_truncation_yields_a_prefix_of_the_messages_and_never_crashes() -> None:
    data = (SAMPLES / "sample_small.xml").read_bytes()
    everything, _ = read(data)
    root_end = data.index(b"<smses ") + data[data.index(b"<smses ") :].index(b">") + 1
    for end in range(len(data)):
        try:
            messages, reader = read(data[:end])
        except BackupError:
            assert end < root_end
            continue
        assert end >= root_end
        assert messages == everything[: len(messages)]
        if data[:end].rstrip().endswith(b"</smses>"):
            assert reader.damage is None
            assert messages == everything
        else:
            assert reader.damage is not None
            assert reader.damage.offset <= end


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "The file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "it is not XML"),
        (b'{"messages": []}', "it is not XML"),
        (b"   \n", "ends before its first element"),
        (b"<?xml version='1.0'?>\n", "ends before its first element"),
        (b"<?xml version='1.0'?>\n<smses", "it is not XML"),
        (b"<html><body>hi</body></html>", "its root element is <html>, not <smses>"),
        (b'<calls count="1"><call number="1"/></calls>', "call log backup"),
        (b'<!DOCTYPE smses [<!ENTITY a "b">]><smses/>', "document type"),
        (b"<?xml version='1.0' encoding='UF-T8'?><smses/>", "character encoding"),
        (b"<?xml version='1.0' encoding='shift_jis'?><smses/>", "character encoding"),
    ],
)
def test_a_file_that_is_no_backup_raises_backup_error(data: bytes, words: str) -> None:
    with pytest.raises(BackupError) as caught:
        read(data)
    assert caught.value.code is ErrorCode.BAD_FILE
    assert words in caught.value.message


def test_junk_after_the_backup_is_damage_after_every_message() -> None:
    messages, reader = read(backup(sms()) + b"<smses/>")
    assert len(messages) == 1
    assert reader.damage is not None
    assert "junk after document element" in reader.damage.message


def test_an_element_past_the_size_limit_ends_the_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reader_module, "MAX_ELEMENT", 100_000)
    huge = base64.b64encode(b"z" * 200_000).decode()
    data = backup(sms(body="before"), mms([{"ct": "image/png", "data": huge}], []), sms())
    messages, reader = read(data, max_attachment=1000)
    assert [m.body for m in messages] == ["before"]
    assert reader.damage is not None
    assert "runs on for more than 97.7 KB" in reader.damage.message


def test_declared_count_is_what_the_root_says_or_none() -> None:
    assert read(backup(count="junk"))[1].declared is None
    assert read(backup(count="7"))[1].declared == 7


def test_messages_reads_the_stream_once() -> None:
    reader = BackupReader(io.BytesIO(backup(sms())))
    assert len(list(reader.messages())) == 1
    with pytest.raises(RuntimeError):
        list(reader.messages())


# A big file in bounded memory.

BLOCK_SMS = 500
BLOCK_MMS = 4
BIG_FILE = 200 * 1024 * 1024


def test_a_200_mb_backup_is_read_in_bounded_memory(tmp_path: Path) -> None:
    # Each block: 500 texts and 4 MMS with a picture of 100 KB (133 KB of base64).
    picture = {"ct": "image/png", "name": "p.png", "data": base64.b64encode(PNG * 7000).decode()}
    people = [("+15550000011", "137"), ("+15550000007", "151")]
    texts = (
        sms(
            address=f"+1555000{i % 97:04d}",
            date=str(1512226167463 + i),
            body=f"Text {i} with a few more words in it &#55357;&#56832;",
            contact_name=f"Contact {i % 97}",
        )
        for i in range(BLOCK_SMS)
    )
    pictures_ = mms([SMIL, text("a picture"), picture], people, address="+15550000011")
    block = "".join(f"  {element}\n" for element in [*texts, *[pictures_] * BLOCK_MMS])
    encoded = block.encode()
    blocks = BIG_FILE // len(encoded) + 1
    path = tmp_path / "big.xml"
    with path.open("wb") as out:
        out.write(f'{HEADER}<smses count="{blocks * (BLOCK_SMS + BLOCK_MMS)}">\n'.encode())
        for _ in range(blocks):
            out.write(encoded)
        out.write(b"</smses>\n")
    assert path.stat().st_size > BIG_FILE

    started = time.monotonic()
    seen = pictures = 0
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            reader = BackupReader(stream)
            tracemalloc.reset_peak()
            for message in reader.messages():
                seen += 1
                pictures += len(message.attachments)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        path.unlink()  # pytest keeps recent tmp_path folders: not 200 MB of them
    assert seen == blocks * (BLOCK_SMS + BLOCK_MMS)
    assert pictures == blocks * BLOCK_MMS
    assert reader.damage is None
    assert reader.declared == seen
    assert peak < 4 * 1024 * 1024, f"peak {peak} bytes"
    assert time.monotonic() - started < 60


def test_an_address_phonenumbers_calls_impossible_is_kept_as_written() -> None:
    """History loses nothing: the demo's +1 555 0100 has too few digits for the US plan."""
    (message,), reader = read(backup(sms(address="+1 555 0100", body="kept")))
    assert (message.peers, message.body, reader.skipped) == (("+15550100",), "kept", 0)
