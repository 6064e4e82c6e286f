"""SMPP 3.4 protocol data units: bytes to typed values and back, without I/O.

Every PDU is a 16-octet header (``command_length``, ``command_id``, ``command_status``,
``sequence_number``, all big-endian 32-bit) and a body. Only what an ESME that binds as a
transceiver needs is decoded into its own type:

    -> bind_transceiver          <- bind_transceiver_resp
    -> submit_sm                 <- submit_sm_resp
    <- deliver_sm                -> deliver_sm_resp        (texts and delivery receipts)
    <> enquire_link              <> enquire_link_resp
    <> unbind                    <> unbind_resp
    <> generic_nack

Any other command decodes as :class:`Other` (its body kept as bytes) so the session can
answer it with ``generic_nack``. :func:`decode` raises only
:class:`~textport.errors.ProtocolError`, with a sentence saying what is wrong, for any
input: a field without its terminating NUL, a string over its SMPP maximum, a truncated
TLV, a body with octets left over, a length outside ``16..MAX_PDU``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import ClassVar, Final

from textport.errors import ProtocolError

HEADER: Final = struct.Struct(">IIII")
MAX_PDU: Final = 0x10000 + 1024
"""The longest PDU read (a ``message_payload`` TLV may hold 64 KiB; nothing else comes near)."""
INTERFACE_VERSION: Final = 0x34

# command ids (SMPP 3.4, 5.1.2.1)
GENERIC_NACK: Final = 0x80000000
BIND_TRANSCEIVER: Final = 0x00000009
SUBMIT_SM: Final = 0x00000004
DELIVER_SM: Final = 0x00000005
UNBIND: Final = 0x00000006
ENQUIRE_LINK: Final = 0x00000015
RESPONSE: Final = 0x80000000
"""The bit a response's command id adds to its request's."""

# TLV tags (SMPP 3.4, 5.3.2)
RECEIPTED_MESSAGE_ID: Final = 0x001E
SAR_MSG_REF_NUM: Final = 0x020C
SAR_TOTAL_SEGMENTS: Final = 0x020E
SAR_SEGMENT_SEQNUM: Final = 0x020F
SC_INTERFACE_VERSION: Final = 0x0210
NETWORK_ERROR_CODE: Final = 0x0423
MESSAGE_PAYLOAD: Final = 0x0424
MESSAGE_STATE: Final = 0x0427

# esm_class bits (5.2.12)
ESM_UDHI: Final = 0x40
"""The short message starts with a user data header."""
ESM_TYPE_MASK: Final = 0x3C
ESM_DELIVERY_RECEIPT: Final = 0x04

# data_coding (5.2.19)
CODING_DEFAULT: Final = 0x00
"""The SMSC's default alphabet: GSM 03.38 septets, one per octet, on most SMSCs."""
CODING_LATIN1: Final = 0x03
CODING_UCS2: Final = 0x08

# C-Octet String maxima, NUL included (5.2)
MAX_SYSTEM_ID: Final = 16
MAX_PASSWORD: Final = 9
MAX_SYSTEM_TYPE: Final = 13
MAX_ADDRESS_RANGE: Final = 41
MAX_SERVICE_TYPE: Final = 6
MAX_ADDR: Final = 21
MAX_TIME: Final = 17
MAX_MESSAGE_ID: Final = 65
MAX_SHORT_MESSAGE: Final = 254


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes


# ------------------------------------------------------------ PDU types


@dataclass(frozen=True, kw_only=True)
class Pdu:
    command_id: ClassVar[int]
    sequence: int
    status: int = 0

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & RESPONSE)


@dataclass(frozen=True, kw_only=True)
class GenericNack(Pdu):
    command_id: ClassVar[int] = GENERIC_NACK


@dataclass(frozen=True, kw_only=True)
class BindTransceiver(Pdu):
    command_id: ClassVar[int] = BIND_TRANSCEIVER
    system_id: str
    password: str = field(default="", repr=False)
    system_type: str = ""
    interface_version: int = INTERFACE_VERSION
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""


@dataclass(frozen=True, kw_only=True)
class BindTransceiverResp(Pdu):
    command_id: ClassVar[int] = BIND_TRANSCEIVER | RESPONSE
    system_id: str = ""
    tlvs: tuple[Tlv, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ShortMessage(Pdu):
    """The body ``submit_sm`` and ``deliver_sm`` share (5.2, 4.4.1 and 4.6.1)."""

    service_type: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    source_addr: str = ""
    dest_addr_ton: int = 0
    dest_addr_npi: int = 0
    destination_addr: str = ""
    esm_class: int = 0
    protocol_id: int = 0
    priority_flag: int = 0
    schedule_delivery_time: str = ""
    validity_period: str = ""
    registered_delivery: int = 0
    replace_if_present_flag: int = 0
    data_coding: int = 0
    sm_default_msg_id: int = 0
    short_message: bytes = field(default=b"", repr=False)
    tlvs: tuple[Tlv, ...] = field(default=(), repr=False)

    def tlv(self, tag: int) -> bytes | None:
        """The first TLV with ``tag``, if there is one."""
        return find_tlv(self.tlvs, tag)


@dataclass(frozen=True, kw_only=True)
class SubmitSm(ShortMessage):
    command_id: ClassVar[int] = SUBMIT_SM


@dataclass(frozen=True, kw_only=True)
class DeliverSm(ShortMessage):
    command_id: ClassVar[int] = DELIVER_SM

    @property
    def is_receipt(self) -> bool:
        """A delivery receipt, not a text (message type 0001 in esm_class, 5.2.12)."""
        return self.esm_class & ESM_TYPE_MASK == ESM_DELIVERY_RECEIPT


@dataclass(frozen=True, kw_only=True)
class SubmitSmResp(Pdu):
    command_id: ClassVar[int] = SUBMIT_SM | RESPONSE
    message_id: str = ""


@dataclass(frozen=True, kw_only=True)
class DeliverSmResp(Pdu):
    """Its body is a ``message_id`` that SMPP 3.4 says is unused: one NUL octet."""

    command_id: ClassVar[int] = DELIVER_SM | RESPONSE
    message_id: str = ""


@dataclass(frozen=True, kw_only=True)
class EnquireLink(Pdu):
    command_id: ClassVar[int] = ENQUIRE_LINK


@dataclass(frozen=True, kw_only=True)
class EnquireLinkResp(Pdu):
    command_id: ClassVar[int] = ENQUIRE_LINK | RESPONSE


@dataclass(frozen=True, kw_only=True)
class Unbind(Pdu):
    command_id: ClassVar[int] = UNBIND


@dataclass(frozen=True, kw_only=True)
class UnbindResp(Pdu):
    command_id: ClassVar[int] = UNBIND | RESPONSE


@dataclass(frozen=True, kw_only=True)
class Other(Pdu):
    """A command this ESME does not handle (data_sm, query_sm_resp, outbind, …)."""

    command_id: ClassVar[int] = 0
    command: int
    body: bytes = field(default=b"", repr=False)

    @property
    def is_response(self) -> bool:
        return bool(self.command & RESPONSE)


_EMPTY: Final[dict[int, type[Pdu]]] = {
    cls.command_id: cls for cls in (GenericNack, EnquireLink, EnquireLinkResp, Unbind, UnbindResp)
}
"""Commands whose body is empty."""


def find_tlv(tlvs: tuple[Tlv, ...], tag: int) -> bytes | None:
    for tlv in tlvs:
        if tlv.tag == tag:
            return tlv.value
    return None


def response_to(request: Pdu, status: int = 0) -> Pdu:
    """The answer to ``request`` (deliver_sm, enquire_link, unbind), or a generic_nack
    for anything else."""
    if isinstance(request, DeliverSm):
        return DeliverSmResp(sequence=request.sequence, status=status)
    answer = _EMPTY.get(request.command_id | RESPONSE)
    if answer is None or answer is GenericNack or request.is_response:
        return GenericNack(sequence=request.sequence, status=status)
    return answer(sequence=request.sequence, status=status)


# ------------------------------------------------------------ encoding


class _Writer:
    def __init__(self) -> None:
        self.out = bytearray()

    def cstring(self, value: str, limit: int, name: str) -> None:
        if not value.isascii() or "\x00" in value:
            raise ProtocolError(f"SMPP {name} must be ASCII without NUL characters")
        raw = value.encode("ascii")
        if len(raw) >= limit:
            raise ProtocolError(f"SMPP {name} is at most {limit - 1} characters")
        self.out += raw + b"\x00"

    def octet(self, value: int, name: str) -> None:
        if not 0 <= value <= 0xFF:
            raise ProtocolError(f"SMPP {name} is one octet (0 to 255)")
        self.out.append(value)

    def tlvs(self, tlvs: tuple[Tlv, ...]) -> None:
        for tlv in tlvs:
            if not 0 <= tlv.tag <= 0xFFFF or len(tlv.value) > 0xFFFF:
                raise ProtocolError("an SMPP TLV has a 16-bit tag and at most 65535 octets")
            self.out += struct.pack(">HH", tlv.tag, len(tlv.value)) + tlv.value


def encode(pdu: Pdu) -> bytes:
    """The PDU on the wire, header included. Raises ProtocolError for a field SMPP
    cannot carry (too long, not ASCII, out of range)."""
    w = _Writer()
    command_id = pdu.command if isinstance(pdu, Other) else pdu.command_id
    if isinstance(pdu, BindTransceiver):
        w.cstring(pdu.system_id, MAX_SYSTEM_ID, "system_id")
        w.cstring(pdu.password, MAX_PASSWORD, "password")
        w.cstring(pdu.system_type, MAX_SYSTEM_TYPE, "system_type")
        w.octet(pdu.interface_version, "interface_version")
        w.octet(pdu.addr_ton, "addr_ton")
        w.octet(pdu.addr_npi, "addr_npi")
        w.cstring(pdu.address_range, MAX_ADDRESS_RANGE, "address_range")
    elif isinstance(pdu, BindTransceiverResp):
        w.cstring(pdu.system_id, MAX_SYSTEM_ID, "system_id")
        w.tlvs(pdu.tlvs)
    elif isinstance(pdu, ShortMessage):
        _encode_short_message(w, pdu)
    elif isinstance(pdu, SubmitSmResp | DeliverSmResp):
        w.cstring(pdu.message_id, MAX_MESSAGE_ID, "message_id")
    elif isinstance(pdu, Other):
        w.out += pdu.body
    for name, value in (("command_status", pdu.status), ("sequence_number", pdu.sequence)):
        if not 0 <= value <= 0xFFFFFFFF:
            raise ProtocolError(f"SMPP {name} is an unsigned 32-bit number")
    length = HEADER.size + len(w.out)
    if length > MAX_PDU:
        raise ProtocolError(f"an SMPP PDU is at most {MAX_PDU} octets here")
    return HEADER.pack(length, command_id, pdu.status, pdu.sequence) + bytes(w.out)


def _encode_short_message(w: _Writer, pdu: ShortMessage) -> None:
    w.cstring(pdu.service_type, MAX_SERVICE_TYPE, "service_type")
    w.octet(pdu.source_addr_ton, "source_addr_ton")
    w.octet(pdu.source_addr_npi, "source_addr_npi")
    w.cstring(pdu.source_addr, MAX_ADDR, "source_addr")
    w.octet(pdu.dest_addr_ton, "dest_addr_ton")
    w.octet(pdu.dest_addr_npi, "dest_addr_npi")
    w.cstring(pdu.destination_addr, MAX_ADDR, "destination_addr")
    w.octet(pdu.esm_class, "esm_class")
    w.octet(pdu.protocol_id, "protocol_id")
    w.octet(pdu.priority_flag, "priority_flag")
    w.cstring(pdu.schedule_delivery_time, MAX_TIME, "schedule_delivery_time")
    w.cstring(pdu.validity_period, MAX_TIME, "validity_period")
    w.octet(pdu.registered_delivery, "registered_delivery")
    w.octet(pdu.replace_if_present_flag, "replace_if_present_flag")
    w.octet(pdu.data_coding, "data_coding")
    w.octet(pdu.sm_default_msg_id, "sm_default_msg_id")
    if len(pdu.short_message) > MAX_SHORT_MESSAGE:
        raise ProtocolError(
            f"an SMPP short_message is at most {MAX_SHORT_MESSAGE} octets "
            "(longer ones go in message_payload)"
        )
    w.octet(len(pdu.short_message), "sm_length")
    w.out += pdu.short_message
    w.tlvs(pdu.tlvs)


# ------------------------------------------------------------ decoding


def command_length(header: bytes) -> int:
    """The whole PDU's length from its first four octets; ProtocolError when it is not
    16 to MAX_PDU (a stream that says otherwise cannot be trusted any further)."""
    if len(header) < 4:
        raise ProtocolError("an SMPP PDU was cut short before its length")
    (length,) = struct.unpack_from(">I", header)
    if not HEADER.size <= length <= MAX_PDU:
        raise ProtocolError(f"an SMPP PDU says it is {length} octets long (16 to {MAX_PDU})")
    return int(length)


class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self.data = data
        self.at = 0
        self.what = what

    def _fail(self, why: str) -> ProtocolError:
        return ProtocolError(f"malformed SMPP {self.what}: {why}")

    def cstring(self, limit: int, name: str) -> str:
        end = self.data.find(b"\x00", self.at, self.at + limit)
        if end < 0:
            if len(self.data) - self.at < limit and self.data.find(b"\x00", self.at) < 0:
                raise self._fail(f"{name} has no terminating NUL")
            raise self._fail(f"{name} is over {limit - 1} characters")
        value = self.data[self.at : end].decode("latin-1")
        self.at = end + 1
        return value

    def octet(self, name: str) -> int:
        if self.at >= len(self.data):
            raise self._fail(f"it ends before {name}")
        value = self.data[self.at]
        self.at += 1
        return value

    def octets(self, count: int, name: str) -> bytes:
        if self.at + count > len(self.data):
            raise self._fail(f"{name} is cut short")
        value = self.data[self.at : self.at + count]
        self.at += count
        return value

    def tlvs(self) -> tuple[Tlv, ...]:
        out: list[Tlv] = []
        while self.at < len(self.data):
            if len(self.data) - self.at < 4:
                raise self._fail("a TLV is cut short in its tag or length")
            tag, length = struct.unpack_from(">HH", self.data, self.at)
            self.at += 4
            out.append(Tlv(tag, self.octets(length, f"TLV 0x{tag:04X}")))
        return tuple(out)

    def end(self) -> None:
        if self.at != len(self.data):
            raise self._fail(f"{len(self.data) - self.at} octets are left over")


def decode(frame: bytes) -> Pdu:
    """One whole PDU (header and body) as its typed value; ProtocolError if malformed."""
    if len(frame) < HEADER.size:
        raise ProtocolError(f"an SMPP PDU is at least 16 octets, not {len(frame)}")
    length, command_id, status, sequence = HEADER.unpack_from(frame)
    if length != len(frame):
        raise ProtocolError(f"an SMPP PDU says it is {length} octets but has {len(frame)}")
    body = frame[HEADER.size :]
    empty = _EMPTY.get(command_id)
    if empty is not None:
        if body:
            raise ProtocolError(
                f"malformed SMPP {empty.__name__}: it has a body of {len(body)} octets"
            )
        return empty(sequence=sequence, status=status)
    if command_id == BIND_TRANSCEIVER:
        r = _Reader(body, "bind_transceiver")
        pdu: Pdu = BindTransceiver(
            sequence=sequence,
            status=status,
            system_id=r.cstring(MAX_SYSTEM_ID, "system_id"),
            password=r.cstring(MAX_PASSWORD, "password"),
            system_type=r.cstring(MAX_SYSTEM_TYPE, "system_type"),
            interface_version=r.octet("interface_version"),
            addr_ton=r.octet("addr_ton"),
            addr_npi=r.octet("addr_npi"),
            address_range=r.cstring(MAX_ADDRESS_RANGE, "address_range"),
        )
    elif command_id == BIND_TRANSCEIVER | RESPONSE:
        r = _Reader(body, "bind_transceiver_resp")
        if not body:  # an error response may carry no body (4.1.6)
            return BindTransceiverResp(sequence=sequence, status=status)
        pdu = BindTransceiverResp(
            sequence=sequence,
            status=status,
            system_id=r.cstring(MAX_SYSTEM_ID, "system_id"),
            tlvs=r.tlvs(),
        )
    elif command_id in (SUBMIT_SM, DELIVER_SM):
        kind = SubmitSm if command_id == SUBMIT_SM else DeliverSm
        r = _Reader(body, "submit_sm" if command_id == SUBMIT_SM else "deliver_sm")
        pdu = _decode_short_message(kind, r, sequence, status)
    elif command_id in (SUBMIT_SM | RESPONSE, DELIVER_SM | RESPONSE):
        resp = SubmitSmResp if command_id == SUBMIT_SM | RESPONSE else DeliverSmResp
        r = _Reader(body, "submit_sm_resp" if resp is SubmitSmResp else "deliver_sm_resp")
        if not body:  # an error response carries no message_id (4.4.2); some peers omit it
            return resp(sequence=sequence, status=status)
        pdu = resp(
            sequence=sequence, status=status, message_id=r.cstring(MAX_MESSAGE_ID, "message_id")
        )
    else:
        return Other(sequence=sequence, status=status, command=command_id, body=bytes(body))
    r.end()
    return pdu


def _decode_short_message(
    kind: type[ShortMessage], r: _Reader, sequence: int, status: int
) -> ShortMessage:
    service_type = r.cstring(MAX_SERVICE_TYPE, "service_type")
    source_addr_ton = r.octet("source_addr_ton")
    source_addr_npi = r.octet("source_addr_npi")
    source_addr = r.cstring(MAX_ADDR, "source_addr")
    dest_addr_ton = r.octet("dest_addr_ton")
    dest_addr_npi = r.octet("dest_addr_npi")
    destination_addr = r.cstring(MAX_ADDR, "destination_addr")
    esm_class = r.octet("esm_class")
    protocol_id = r.octet("protocol_id")
    priority_flag = r.octet("priority_flag")
    schedule_delivery_time = r.cstring(MAX_TIME, "schedule_delivery_time")
    validity_period = r.cstring(MAX_TIME, "validity_period")
    registered_delivery = r.octet("registered_delivery")
    replace_if_present_flag = r.octet("replace_if_present_flag")
    data_coding = r.octet("data_coding")
    sm_default_msg_id = r.octet("sm_default_msg_id")
    sm_length = r.octet("sm_length")
    short_message = r.octets(sm_length, "short_message")
    return kind(
        sequence=sequence,
        status=status,
        service_type=service_type,
        source_addr_ton=source_addr_ton,
        source_addr_npi=source_addr_npi,
        source_addr=source_addr,
        dest_addr_ton=dest_addr_ton,
        dest_addr_npi=dest_addr_npi,
        destination_addr=destination_addr,
        esm_class=esm_class,
        protocol_id=protocol_id,
        priority_flag=priority_flag,
        schedule_delivery_time=schedule_delivery_time,
        validity_period=validity_period,
        registered_delivery=registered_delivery,
        replace_if_present_flag=replace_if_present_flag,
        data_coding=data_coding,
        sm_default_msg_id=sm_default_msg_id,
        short_message=bytes(short_message),
        tlvs=r.tlvs(),
    )
