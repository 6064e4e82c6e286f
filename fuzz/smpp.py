"""atheris fuzz target: what textport reads from an SMSC raises only documented errors.

Run: ``python fuzz/smpp.py -max_total_time=60 CORPUS_DIR`` (the test command runs it for
a bounded time). An empty corpus folder is first seeded with valid PDUs.

- :func:`textport.transports.smpp.pdu.decode` raises only ProtocolError; a PDU it
  decodes and that encodes again decodes to the same value.
- A decoded ``deliver_sm`` goes through what the transport does with one, without a
  socket: receipt detection and parsing, and the text of the part (UDH or SAR
  concatenation, every data_coding), none of which may raise.

Any other exception, or a broken promise, is a crash that atheris reports with its input.
"""

from __future__ import annotations

import random
import struct

import atheris
import phonenumbers  # noqa: F401 - not ours: imported before instrumenting, it runs at full speed

import runner

with atheris.instrument_imports():
    from textport.errors import ProtocolError
    from textport.transports import gsm
    from textport.transports.smpp import SmppSettings, SmppTransport, pdu, receipt

TRANSPORT = SmppTransport(
    SmppSettings(host="smsc", system_id="fuzz", source_addr="+447700900123", region="GB"),
    rng=random.Random(0),
)


def test_one_input(data: bytes) -> None:
    # The length field is set right, so that the body's fields are what gets fuzzed.
    frame = struct.pack(">I", len(data) + 4) + data if len(data) >= 12 else data
    try:
        message = pdu.decode(frame)
    except ProtocolError:
        return
    try:
        wire = pdu.encode(message)
    except ProtocolError:
        pass  # decoded Latin-1 text that SMPP's C strings (ASCII here) cannot carry back
    else:
        if pdu.decode(wire) != message:
            raise AssertionError(f"{message!r} does not survive its own encoding")
    if isinstance(message, pdu.DeliverSm):
        if receipt.is_receipt(message):
            found = receipt.parse(message)
            if found is not None and not 0 < len(found.message_id) <= receipt.MAX_ID:
                raise AssertionError(f"an impossible receipt {found!r}")
        part = TRANSPORT._part(message, (1, message.sequence), 0)
        if not 1 <= part.number <= max(part.total, 1):
            raise AssertionError(f"an impossible part {part!r}")


def seeds() -> list[bytes]:
    """Valid PDUs (without their length field)."""
    messages: list[pdu.Pdu] = [
        pdu.BindTransceiverResp(sequence=1, system_id="SMSC"),
        pdu.SubmitSmResp(sequence=2, message_id="1234567890"),
        pdu.DeliverSm(
            sequence=3,
            source_addr="447700900123",
            source_addr_ton=1,
            esm_class=pdu.ESM_UDHI,
            data_coding=pdu.CODING_UCS2,
            short_message=gsm.concat_udh(gsm.Concat(7, 2, 1)) + "Привет".encode("utf-16-be"),
        ),
        pdu.DeliverSm(
            sequence=4,
            esm_class=pdu.ESM_DELIVERY_RECEIPT,
            short_message=b"id:42 sub:001 dlvrd:001 stat:DELIVRD err:000 text:hi",
            tlvs=(
                pdu.Tlv(pdu.RECEIPTED_MESSAGE_ID, b"42\x00"),
                pdu.Tlv(pdu.MESSAGE_STATE, b"\x02"),
            ),
        ),
        pdu.DeliverSm(
            sequence=5,
            short_message=gsm.to_septets("part {one}"),
            tlvs=(
                pdu.Tlv(pdu.SAR_MSG_REF_NUM, b"\x01\x02"),
                pdu.Tlv(pdu.SAR_TOTAL_SEGMENTS, b"\x02"),
                pdu.Tlv(pdu.SAR_SEGMENT_SEQNUM, b"\x01"),
            ),
        ),
        pdu.EnquireLink(sequence=6),
        pdu.GenericNack(sequence=7, status=3),
    ]
    return [pdu.encode(message)[4:] for message in messages]


if __name__ == "__main__":
    runner.run(test_one_input, seeds)
