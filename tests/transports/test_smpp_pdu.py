"""The SMPP codec, receipts and command_status meanings, pure: bytes in, values out.

Round trips are generated (Hypothesis); malformed input, generated or hand-made, must
raise ProtocolError with a sentence, never IndexError, struct.error or the like.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textport.errors import ProtocolError
from textport.transports import gsm, reports
from textport.transports.smpp import pdu, receipt, status
from textport.transports.smpp.transport import decode_text

U8 = st.integers(0, 255)
U32 = st.integers(0, 0xFFFFFFFF)
TLVS = st.lists(
    st.builds(pdu.Tlv, st.integers(0, 0xFFFF), st.binary(max_size=300)), max_size=4
).map(tuple)


def ascii_text(limit: int) -> st.SearchStrategy[str]:
    """C-Octet strings SMPP can carry: ASCII without NUL, under ``limit`` with the NUL."""
    return st.text(st.characters(min_codepoint=1, max_codepoint=127), max_size=limit - 1)


def short_message(kind: type[pdu.ShortMessage]) -> st.SearchStrategy[pdu.ShortMessage]:
    return st.builds(
        kind,
        sequence=U32,
        status=U32,
        service_type=ascii_text(pdu.MAX_SERVICE_TYPE),
        source_addr_ton=U8,
        source_addr_npi=U8,
        source_addr=ascii_text(pdu.MAX_ADDR),
        dest_addr_ton=U8,
        dest_addr_npi=U8,
        destination_addr=ascii_text(pdu.MAX_ADDR),
        esm_class=U8,
        protocol_id=U8,
        priority_flag=U8,
        schedule_delivery_time=ascii_text(pdu.MAX_TIME),
        validity_period=ascii_text(pdu.MAX_TIME),
        registered_delivery=U8,
        replace_if_present_flag=U8,
        data_coding=U8,
        sm_default_msg_id=U8,
        short_message=st.binary(max_size=pdu.MAX_SHORT_MESSAGE),
        tlvs=TLVS,
    )


PDUS: st.SearchStrategy[pdu.Pdu] = st.one_of(
    st.builds(
        pdu.BindTransceiver,
        sequence=U32,
        status=U32,
        system_id=ascii_text(pdu.MAX_SYSTEM_ID),
        password=ascii_text(pdu.MAX_PASSWORD),
        system_type=ascii_text(pdu.MAX_SYSTEM_TYPE),
        interface_version=U8,
        addr_ton=U8,
        addr_npi=U8,
        address_range=ascii_text(pdu.MAX_ADDRESS_RANGE),
    ),
    st.builds(
        pdu.BindTransceiverResp,
        sequence=U32,
        status=U32,
        system_id=ascii_text(pdu.MAX_SYSTEM_ID),
        tlvs=TLVS,
    ),
    short_message(pdu.SubmitSm),
    short_message(pdu.DeliverSm),
    st.builds(
        pdu.SubmitSmResp, sequence=U32, status=U32, message_id=ascii_text(pdu.MAX_MESSAGE_ID)
    ),
    st.builds(
        pdu.DeliverSmResp, sequence=U32, status=U32, message_id=ascii_text(pdu.MAX_MESSAGE_ID)
    ),
    *(
        st.builds(cls, sequence=U32, status=U32)
        for cls in (pdu.GenericNack, pdu.EnquireLink, pdu.EnquireLinkResp, pdu.Unbind)
    ),
    st.builds(pdu.UnbindResp, sequence=U32, status=U32),
    st.builds(
        pdu.Other,
        sequence=U32,
        status=U32,
        command=st.sampled_from([0x103, 0x80000103, 0x3, 0x102, 0x0B]),
        body=st.binary(max_size=200),
    ),
)


@settings(max_examples=400)
@given(PDUS)
def test_every_pdu_round_trips(message: pdu.Pdu) -> None:
    wire = pdu.encode(message)
    assert pdu.command_length(wire[:4]) == len(wire)
    assert pdu.decode(wire) == message


@settings(max_examples=300)
@given(PDUS, st.data())
def test_a_cut_or_padded_pdu_is_a_protocol_error(message: pdu.Pdu, data: st.DataObject) -> None:
    wire = pdu.encode(message)
    cut = data.draw(st.integers(0, len(wire) - 1))
    with pytest.raises(ProtocolError):
        pdu.decode(wire[:cut])
    # The length field corrected, the body cut: the fields themselves must say so.
    body = wire[16 : 16 + data.draw(st.integers(0, max(0, len(wire) - 17)))]
    shorter = struct.pack(">I", 16 + len(body)) + wire[4:16] + body
    try:
        pdu.decode(shorter)
    except ProtocolError as exc:
        assert exc.message.startswith(("malformed SMPP", "an SMPP PDU"))
    if not isinstance(message, pdu.Other):
        padded = struct.pack(">I", len(wire) + 1) + wire[4:] + b"\x00"
        if isinstance(message, pdu.ShortMessage | pdu.BindTransceiverResp):
            with pytest.raises(ProtocolError, match="TLV"):  # a 1-octet TLV header
                pdu.decode(padded)
        else:
            with pytest.raises(ProtocolError):
                pdu.decode(padded)


@settings(max_examples=2000)
@given(st.binary(max_size=400))
def test_any_bytes_decode_or_raise_protocol_error(data: bytes) -> None:
    try:
        pdu.decode(data)
    except ProtocolError as exc:
        assert exc.message  # a sentence, not a bare exception


@settings(max_examples=1000)
@given(
    st.sampled_from(
        [
            pdu.SUBMIT_SM,
            pdu.DELIVER_SM,
            pdu.BIND_TRANSCEIVER,
            pdu.BIND_TRANSCEIVER | pdu.RESPONSE,
            pdu.SUBMIT_SM | pdu.RESPONSE,
            pdu.DELIVER_SM | pdu.RESPONSE,
            pdu.ENQUIRE_LINK,
        ]
    ),
    st.binary(max_size=300),
)
def test_garbage_bodies_of_known_commands_raise_protocol_error(command: int, body: bytes) -> None:
    frame = struct.pack(">IIII", 16 + len(body), command, 0, 7) + body
    try:
        decoded = pdu.decode(frame)
    except ProtocolError as exc:
        assert "SMPP" in exc.message
    else:
        assert decoded.sequence == 7


def test_malformed_pdus_say_what_is_wrong() -> None:
    def frame(command: int, body: bytes) -> bytes:
        return struct.pack(">IIII", 16 + len(body), command, 0, 1) + body

    with pytest.raises(ProtocolError, match="at least 16 octets"):
        pdu.decode(b"\x00\x00\x00\x10\x00")
    with pytest.raises(ProtocolError, match="says it is 99 octets but has 16"):
        pdu.decode(struct.pack(">IIII", 99, pdu.ENQUIRE_LINK, 0, 1))
    with pytest.raises(ProtocolError, match="system_id has no terminating NUL"):
        pdu.decode(frame(pdu.BIND_TRANSCEIVER, b"textport"))
    with pytest.raises(ProtocolError, match="system_id is over 15 characters"):
        pdu.decode(frame(pdu.BIND_TRANSCEIVER, b"x" * 40 + b"\x00"))
    with pytest.raises(ProtocolError, match="short_message is cut short"):
        good = pdu.encode(pdu.DeliverSm(sequence=1, short_message=b"hello"))
        pdu.decode(frame(pdu.DELIVER_SM, good[16:-2]))
    with pytest.raises(ProtocolError, match="TLV 0x0424 is cut short"):
        pdu.decode(frame(pdu.DELIVER_SM, good[16:] + b"\x04\x24\x00\x09abc"))
    with pytest.raises(ProtocolError, match="EnquireLink: it has a body of 2 octets"):
        pdu.decode(frame(pdu.ENQUIRE_LINK, b"\x00\x00"))
    with pytest.raises(ProtocolError, match="3 octets are left over"):
        pdu.decode(frame(pdu.SUBMIT_SM | pdu.RESPONSE, b"42\x00abc"))
    for length in (0, 15, pdu.MAX_PDU + 1):
        with pytest.raises(ProtocolError, match="says it is"):
            pdu.command_length(struct.pack(">I", length))


def test_encoding_refuses_what_smpp_cannot_carry() -> None:
    with pytest.raises(ProtocolError, match="system_id is at most 15"):
        pdu.encode(pdu.BindTransceiver(sequence=1, system_id="x" * 16))
    with pytest.raises(ProtocolError, match="ASCII"):
        pdu.encode(pdu.SubmitSm(sequence=1, destination_addr="٤٤٧٧"))
    with pytest.raises(ProtocolError, match="254 octets"):
        pdu.encode(pdu.SubmitSm(sequence=1, short_message=b"x" * 255))
    with pytest.raises(ProtocolError, match="one octet"):
        pdu.encode(pdu.SubmitSm(sequence=1, data_coding=256))


def test_a_known_bind_on_the_wire() -> None:
    """Byte for byte as SMPP 3.4 4.1.5 lays it out (checked by hand, and by Jasmin's
    decoder in test_smpp.py's real binds)."""
    wire = pdu.encode(
        pdu.BindTransceiver(sequence=1, system_id="tp", password="pw", system_type="")
    )
    assert wire.hex() == "0000001b0000000900000000000000017470007077000034000000"
    assert pdu.encode(pdu.DeliverSmResp(sequence=2)).hex() == "0000001180000005000000000000000200"


def test_responses_answer_their_requests() -> None:
    deliver = pdu.DeliverSm(sequence=9)
    assert pdu.response_to(deliver, 0x64) == pdu.DeliverSmResp(sequence=9, status=0x64)
    assert pdu.response_to(pdu.EnquireLink(sequence=3)) == pdu.EnquireLinkResp(sequence=3)
    assert pdu.response_to(pdu.Unbind(sequence=4)) == pdu.UnbindResp(sequence=4)
    other = pdu.Other(sequence=5, command=0x103)
    assert pdu.response_to(other, 3) == pdu.GenericNack(sequence=5, status=3)


# ------------------------------------------------------------ receipts


def receipt_pdu(text: str, *tlvs: pdu.Tlv, esm_class: int = 0x04) -> pdu.DeliverSm:
    return pdu.DeliverSm(sequence=1, esm_class=esm_class, short_message=text.encode(), tlvs=tlvs)


def test_a_receipt_text_is_read() -> None:
    text = (
        "id:0123456789 sub:001 dlvrd:001 submit date:2605050826 done date:260505082612 "
        "stat:UNDELIV err:034 Text:stat:DELIVRD id:999"
    )
    found = receipt.parse(receipt_pdu(text))
    assert found == receipt.Receipt(
        "0123456789",
        reports.Verdict("failed", "Not delivered: the number cannot be reached."),
        "034",
    )
    assert receipt.is_receipt(receipt_pdu(text))
    assert not receipt.is_receipt(receipt_pdu(text, esm_class=0x40))


def test_receipt_tlvs_win_over_the_text() -> None:
    message = receipt_pdu(
        "id:1 stat:UNDELIV",
        pdu.Tlv(pdu.RECEIPTED_MESSAGE_ID, b"ab-12\x00"),
        pdu.Tlv(pdu.MESSAGE_STATE, b"\x02"),
        esm_class=0,
    )
    assert receipt.is_receipt(message)  # by the TLV alone: Jasmin's simulator sets no 0x04
    found = receipt.parse(message)
    assert found is not None
    assert (found.message_id, found.verdict.outcome) == ("ab-12", "delivered")


def test_receipts_without_an_id_or_still_pending() -> None:
    assert receipt.parse(receipt_pdu("stat:DELIVRD")) is None
    found = receipt.parse(receipt_pdu("id:7 stat:ACCEPTD err:000"))
    assert found is not None and found.verdict.outcome == "pending"


@given(st.binary(max_size=300), TLVS, U8)
def test_receipt_parsing_never_raises(data: bytes, tlvs: tuple[pdu.Tlv, ...], esm: int) -> None:
    message = pdu.DeliverSm(sequence=1, esm_class=esm, short_message=data, tlvs=tlvs)
    receipt.is_receipt(message)
    found = receipt.parse(message)
    assert found is None or 0 < len(found.message_id) <= receipt.MAX_ID


def test_message_ids_match_across_decimal_and_hex() -> None:
    assert receipt.match_keys("0000012345") == ("12345", "3039", "74565")
    assert "12345" in receipt.match_keys("3039")  # reported in hex, submitted in decimal
    assert receipt.match_keys("ABC-def") == ("abc-def",)


# ------------------------------------------------------------ statuses and text


def test_submit_errors_are_classified_with_reasons() -> None:
    throttled = status.submit_error(status.ESME_RTHROTTLED)
    assert not throttled.permanent and "ESME_RTHROTTLED" in throttled.message
    assert not status.submit_error(status.ESME_RMSGQFUL).permanent
    assert status.is_throttling(0x58) and status.is_throttling(0x14)
    bad_number = status.submit_error(0x0B)
    assert bad_number.permanent
    assert bad_number.message == "The SMSC refused the recipient's number. (ESME_RINVDSTADR)"
    assert not status.submit_error(0x12345).permanent  # unknown: the expiry bounds retries
    assert "0x00012345" in status.submit_error(0x12345).message
    assert status.bind_error(status.ESME_RINVPASWD).permanent
    assert "password" in status.bind_error(status.ESME_RINVPASWD).message


@given(st.text(st.sampled_from(gsm.DEFAULT_ALPHABET.replace("\x1b", "") + "{}[]~|^€\\")))
def test_gsm_septets_and_ucs2_decode_as_sent(text: str) -> None:
    assert decode_text(gsm.to_septets(text), pdu.CODING_DEFAULT) == text
    assert decode_text(text.encode("utf-16-be"), pdu.CODING_UCS2) == text


@given(st.binary(max_size=200), U8)
def test_any_coding_decodes_without_raising(data: bytes, coding: int) -> None:
    assert isinstance(decode_text(data, coding), str)


def test_binary_messages_are_a_note_not_bytes() -> None:
    assert decode_text(b"\x01\x02", 4).startswith("(A data message of 2 bytes")
    assert decode_text("é".encode("latin-1"), 3) == "é"
