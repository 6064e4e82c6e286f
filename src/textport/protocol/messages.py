"""The application messages of protocol v1 (docs/protocol.md section 9).

Each message is one UTF-8 JSON object inside a transport message; ``t`` names its type.
They are frozen msgspec structs, decoded once at the edge with every limit checked, so
handlers never see raw dicts. web/src/protocol/messages.ts mirrors this module.
"""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal

import msgspec

from textport.errors import ErrorCode, ProtocolError
from textport.protocol.frames import B64_16, B64_32

MAX_BODY_CHARS: Final = 10_000
MAX_RECIPIENTS: Final = 20
MAX_PEERS: Final = 100
"""Group conversations in imported history can be larger than a text's recipients."""
MAX_EVENTS: Final = 1000
MAX_HITS: Final = 100
MAX_PAGE: Final = 100
MAX_ATTACHMENTS: Final = 20
CHUNK_BYTES: Final = 45_000
"""The most attachment bytes one ``chunk`` carries (60 000 base64 characters)."""
MAX_SAFE: Final = 2**53 - 1

NUMBER_PATTERN: Final = r"^(\+[1-9][0-9]{1,14}|[0-9]{3,8})\Z"
"""A recipient: E.164, or a short code of 3 to 8 digits."""
ADDRESS_PATTERN: Final = r"^[^\x00-\x1f\x7f,]{1,64}\Z"
"""A conversation peer: any address history holds — a number, a short code, an
alphanumeric sender id, an e-mail address — without control characters or commas."""

Seq = Annotated[int, msgspec.Meta(ge=0, le=MAX_SAFE)]
Proto = Annotated[int, msgspec.Meta(ge=1, le=1)]
Agent = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
DeviceName = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
RELAY_PATTERN: Final = r"^wss?://[^\s/?#]+(/[^\s?#]*)?\Z"
"""A relay URL: ws:// or wss://, a host, an optional path; no query or fragment."""
RelayUrl = Annotated[str, msgspec.Meta(pattern=RELAY_PATTERN, max_length=512)]
Cmid = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{32}\Z")]
Number = Annotated[str, msgspec.Meta(pattern=NUMBER_PATTERN)]
Peer = Annotated[str, msgspec.Meta(pattern=ADDRESS_PATTERN)]
Sender = Annotated[str, msgspec.Meta(pattern=r"^[^\x00-\x1f\x7f,]{0,64}\Z")]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_BODY_CHARS)]
StoredBody = Annotated[str, msgspec.Meta(max_length=MAX_BODY_CHARS)]
Query = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Reason = Annotated[str, msgspec.Meta(max_length=500)]
Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,32}\Z")]
Ref = Annotated[str, msgspec.Meta(max_length=64)]
Limit = Annotated[int, msgspec.Meta(ge=1, le=1000)]
SearchLimit = Annotated[int, msgspec.Meta(ge=1, le=100)]
MaxParts = Annotated[int, msgspec.Meta(ge=1, le=255)]
PartNumber = Annotated[int, msgspec.Meta(ge=1, le=255)]
Unread = Annotated[int, msgspec.Meta(ge=0, le=MAX_SAFE)]
Snippet = Annotated[str, msgspec.Meta(max_length=500)]
ContactName = Annotated[str, msgspec.Meta(max_length=128)]
PageLimit = Annotated[int, msgspec.Meta(ge=1, le=MAX_PAGE)]
Position = tuple[Seq, Seq]
"""A keyset position: ``[last_at, id]`` of a conversation, ``[at, id]`` of a message."""
ContentType = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
FileName = Annotated[str, msgspec.Meta(max_length=128)]
Subject = Annotated[str, msgspec.Meta(max_length=200)]
Broken = Annotated[str, msgspec.Meta(max_length=200)]
ChunkData = Annotated[str, msgspec.Meta(max_length=60_000, pattern=r"^[A-Za-z0-9+/]*={0,2}\Z")]
Kind = Literal["sms", "mms"]
State = Literal["queued", "sending", "sent", "delivered", "failed", "unknown", "received"]
Direction = Literal["in", "out"]
Folder = Literal["inbox", "pinned", "archived", "blocked"]
MAX_PINNED: Final = 5
"""At most this many conversations are pinned (Google Messages' limit)."""
MAX_DEVICES: Final = 100
"""The most devices a ``device_list`` carries (a host lists its first 100 pairings)."""
ContactSetName = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
TextTtl = Annotated[int, msgspec.Meta(ge=1, le=MAX_SAFE)]


class _Struct(msgspec.Struct, frozen=True):
    pass


# ---------------------------------------------------------------- records inside events


class Capabilities(_Struct, frozen=True):
    delivery_reports: bool
    mms: bool
    max_parts: MaxParts
    dual_sim: bool = False
    incoming: Literal["events", "polling"] = "events"
    text_ttl_ms: TextTtl | None = None
    """How long (ms) a text may wait for the network before it fails as expired, counted
    from when the person pressed Send (``created`` of ``send``); None: not said (an older
    host). A device fails a text still in its outbox after this long without sending it."""


class AttachmentRecord(_Struct, frozen=True):
    id: Seq
    type: ContentType
    name: FileName | None
    size: Seq
    broken: Broken | None


class MessageRecord(_Struct, frozen=True):
    id: Seq
    conv: Seq
    dir: Direction
    peers: Annotated[list[Peer], msgspec.Meta(min_length=1, max_length=MAX_PEERS)]
    body: StoredBody
    at: Seq
    state: State
    reason: Reason | None
    cmid: Cmid | None
    kind: Kind = "sms"
    sender: Sender = ""
    subject: Subject | None = None
    atts: Annotated[list[AttachmentRecord], msgspec.Meta(max_length=MAX_ATTACHMENTS)] = []
    parts: MaxParts = 1
    """How many SMS a received text came as."""
    missing: Annotated[list[PartNumber], msgspec.Meta(max_length=254)] = []
    """Parts of a received text that never arrived: it is partial when not empty."""


class ConversationRecord(_Struct, frozen=True):
    id: Seq
    peers: Annotated[list[Peer], msgspec.Meta(min_length=1, max_length=MAX_PEERS)]
    name: ContactName | None
    last_at: Seq
    snippet: Annotated[str, msgspec.Meta(max_length=200)]
    unread: Unread
    hist: Seq = 0
    """Grows when messages were added out of time order (an import): drop cached pages."""
    pinned: bool = False
    archived: bool = False
    muted: bool = False
    """No notification for its texts; they still count as unread."""
    blocked: bool = False
    """Its texts are kept but hidden from every folder but "blocked", never unread."""
    names: Annotated[list[ContactName | None], msgspec.Meta(max_length=MAX_PEERS)] = []
    """The contact name of each of ``peers`` (None: none), for a group's participants."""


class _Event(_Struct, frozen=True, tag_field="k"):
    pass


class MessageEvent(_Event, frozen=True, tag="msg"):
    seq: Seq
    msg: MessageRecord


class StatusEvent(_Event, frozen=True, tag="status"):
    seq: Seq
    id: Seq
    state: State
    reason: Reason | None
    at: Seq


class ConversationEvent(_Event, frozen=True, tag="conv"):
    seq: Seq
    conv: ConversationRecord


class GoneEvent(_Event, frozen=True, tag="gone"):
    """The conversation was deleted: drop it and every message cached for it."""

    seq: Seq
    conv: Seq


Event = MessageEvent | StatusEvent | ConversationEvent | GoneEvent


class Hit(_Struct, frozen=True):
    msg_id: Seq
    conv: Seq
    at: Seq
    snippet: Snippet


# ---------------------------------------------------------------- messages


class _Message(_Struct, frozen=True, tag_field="t"):
    pass


class Hello(_Message, frozen=True, tag="hello"):
    """device -> host, first message of a session."""

    proto: Proto
    agent: Agent


class Welcome(_Message, frozen=True, tag="welcome"):
    """host -> device, the answer to hello."""

    proto: Proto
    host_name: Agent
    device_id: B64_16
    seq: Seq
    caps: Capabilities


class Sync(_Message, frozen=True, tag="sync"):
    """device -> host: send me events with seq > since (the cursor is the ack)."""

    since: Seq
    limit: Limit


class Batch(_Message, frozen=True, tag="batch"):
    """host -> device: events in seq order; more says whether another batch follows."""

    events: Annotated[list[Event], msgspec.Meta(max_length=MAX_EVENTS)]
    more: bool


class Synced(_Message, frozen=True, tag="synced"):
    """host -> device: caught up at seq; live events follow."""

    seq: Seq


class Reset(_Message, frozen=True, tag="reset"):
    """host -> device: the cursor is unknown here; drop the cache and sync from 0."""

    seq: Seq


class EventMessage(_Message, frozen=True, tag="event"):
    """host -> device: one live change."""

    event: Event


class Send(_Message, frozen=True, tag="send"):
    """device -> host: queue a text; cmid is the device's idempotency key. ``at`` (ms)
    schedules it for later (at most a year ahead; None, past or within 5 s: now).
    ``created`` (ms, the device's clock) is when the person pressed Send: the text's
    lifetime counts from then (None: from when the host accepts it, an older device)."""

    cmid: Cmid
    to: Annotated[list[Number], msgspec.Meta(min_length=1, max_length=MAX_RECIPIENTS)]
    body: Body
    at: Seq | None = None
    created: Seq | None = None


class Ack(_Message, frozen=True, tag="ack"):
    """host -> device: the text is committed (or refused); a duplicate gets the same ack."""

    cmid: Cmid
    msg_id: Seq
    state: State
    reason: Reason | None


class Read(_Message, frozen=True, tag="read"):
    """device -> host: the user has seen conversation ``conv``; its unread count drops to 0."""

    conv: Seq


class Search(_Message, frozen=True, tag="search"):
    """device -> host: full-text search, newest first, older than ``before``."""

    qid: Seq
    query: Query
    limit: SearchLimit
    before: Seq | None


class Results(_Message, frozen=True, tag="results"):
    """host -> device: search hits for qid."""

    qid: Seq
    hits: Annotated[list[Hit], msgspec.Meta(max_length=MAX_HITS)]
    more: bool


class Convs(_Message, frozen=True, tag="convs"):
    """device -> host: a page of a folder's conversations, newest first, older than
    ``before``."""

    qid: Seq
    before: Position | None
    limit: PageLimit
    folder: Folder = "inbox"


class ConvPage(_Message, frozen=True, tag="conv_page"):
    qid: Seq
    convs: Annotated[list[ConversationRecord], msgspec.Meta(max_length=MAX_PAGE)]
    more: bool


class Thread(_Message, frozen=True, tag="thread"):
    """device -> host: a page of ``conv``'s messages older than ``before`` or newer than
    ``after`` (at most one set; neither: the newest page)."""

    qid: Seq
    conv: Seq
    before: Position | None
    after: Position | None
    limit: PageLimit


class ThreadPage(_Message, frozen=True, tag="thread_page"):
    """host -> device: messages newest first; more: there are more in the asked direction."""

    qid: Seq
    conv: Seq
    msgs: Annotated[list[MessageRecord], msgspec.Meta(max_length=MAX_PAGE)]
    more: bool


class ConvSet(_Message, frozen=True, tag="conv_set"):
    """device -> host: set each given flag of ``conv`` (None: leave it); ``unread``
    true marks it unread (at least 1), false read."""

    qid: Seq
    conv: Seq
    pinned: bool | None = None
    archived: bool | None = None
    muted: bool | None = None
    blocked: bool | None = None
    unread: bool | None = None


class ConvDelete(_Message, frozen=True, tag="conv_delete"):
    """device -> host: delete ``conv`` with its messages and attachments."""

    qid: Seq
    conv: Seq


class Contact(_Message, frozen=True, tag="contact"):
    """device -> host: name ``number`` (None: forget its name) in every conversation."""

    qid: Seq
    number: Peer
    name: ContactSetName | None


class Unschedule(_Message, frozen=True, tag="unschedule"):
    """device -> host: cancel the scheduled text ``msg_id`` while it is still waiting."""

    qid: Seq
    msg_id: Seq


class Done(_Message, frozen=True, tag="done"):
    """host -> device: the request ``qid`` is done (its effects follow as events)."""

    qid: Seq


class DeviceRecord(_Struct, frozen=True):
    """A paired device as the devices page lists it (no key, no token)."""

    id: B64_16
    name: DeviceName
    agent: Agent
    created: Seq
    last_seen: Seq | None
    """When it last connected or disconnected (ms); None: it never connected."""
    connected: bool
    """It has a session with the host right now."""
    current: bool
    """It is the device that asked."""
    session: bool = False
    """Paired for one browser session: unpaired soon after it disconnects for good."""


class Devices(_Message, frozen=True, tag="devices"):
    """device -> host: list the paired devices."""

    qid: Seq


class DeviceList(_Message, frozen=True, tag="device_list"):
    """host -> device: every active device, oldest pairing first."""

    qid: Seq
    devices: Annotated[list[DeviceRecord], msgspec.Meta(max_length=MAX_DEVICES)]


class Revoke(_Message, frozen=True, tag="revoke"):
    """device -> host: unpair ``device_id`` (this device too, if it names itself)."""

    qid: Seq
    device_id: B64_16


class DeviceChanged(_Message, frozen=True, tag="device_changed"):
    """host -> device, live, not logged: another device was paired or unpaired."""

    change: Literal["paired", "unpaired"]
    device: DeviceRecord


class Fetch(_Message, frozen=True, tag="fetch"):
    """device -> host: attachment ``att``'s bytes from ``offset``."""

    qid: Seq
    att: Seq
    offset: Seq


class Chunk(_Message, frozen=True, tag="chunk"):
    """host -> device: up to CHUNK_BYTES of an attachment, base64."""

    qid: Seq
    att: Seq
    offset: Seq
    total: Seq
    type: ContentType
    data: ChunkData


class Ping(_Message, frozen=True, tag="ping"):
    n: Seq


class Pong(_Message, frozen=True, tag="pong"):
    n: Seq


class Error(_Message, frozen=True, tag="error"):
    """either way: something was refused; code is one of docs/protocol.md section 10."""

    code: Code
    message: Reason
    ref: Ref | None


class Bye(_Message, frozen=True, tag="bye"):
    """either way: the session ends (e.g. reason "revoked")."""

    reason: Reason


class PairRequest(_Message, frozen=True, tag="pair_request"):
    """device -> host, pairing sessions only; ``session``: for this browser session only."""

    name: DeviceName
    agent: Agent
    session: bool = False


class PairAccept(_Message, frozen=True, tag="pair_accept"):
    """host -> device, pairing sessions only, after the user confirmed on the host."""

    host_name: Agent
    room: B64_16
    token: B64_32
    relay: RelayUrl


class PairReject(_Message, frozen=True, tag="pair_reject"):
    reason: Reason


Message = (
    Hello
    | Welcome
    | Sync
    | Batch
    | Synced
    | Reset
    | EventMessage
    | Send
    | Ack
    | Read
    | Search
    | Results
    | Convs
    | ConvPage
    | Thread
    | ThreadPage
    | ConvSet
    | ConvDelete
    | Contact
    | Unschedule
    | Done
    | Devices
    | DeviceList
    | Revoke
    | DeviceChanged
    | Fetch
    | Chunk
    | Ping
    | Pong
    | Error
    | Bye
    | PairRequest
    | PairAccept
    | PairReject
)

MESSAGE_TYPES: Final = tuple(cls.__struct_config__.tag for cls in Message.__args__)

_encoder = msgspec.json.Encoder()
_decoder: msgspec.json.Decoder[Message] = msgspec.json.Decoder(Message)
_PATH = re.compile(r" - at `\$\.([a-z_]+)[^`]*`\Z")


def encode(message: Message) -> bytes:
    return _encoder.encode(message)


def decode(body: bytes) -> Message:
    """Decode one message body; raises ProtocolError with a section-10 code only."""
    try:
        return _decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise ProtocolError(f"invalid message: {exc}", _code_for(str(exc))) from exc
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ProtocolError(f"malformed message: {exc}", ErrorCode.BAD_MESSAGE) from exc


class _SendHead(msgspec.Struct):
    t: str
    cmid: Cmid


_send_head: msgspec.json.Decoder[_SendHead] = msgspec.json.Decoder(_SendHead)


def refused_send(body: bytes) -> str | None:
    """The ``cmid`` of a body that :func:`decode` refused, if it is a ``send`` with one.

    A receiver answers such a send with ``error{ref: cmid}`` (docs/protocol.md section 9)
    so that the device fails that one text rather than resending it on every connect.
    None when the body is not a JSON object whose ``t`` is ``send`` and whose ``cmid`` is
    well formed.
    """
    try:
        head = _send_head.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return None
    return head.cmid if head.t == "send" else None


def _code_for(error: str) -> ErrorCode:
    match = _PATH.search(error)  # msgspec ends its message with the path; values may quote it
    field = match.group(1) if match else ""
    if field == "t" and error.startswith("Invalid value"):
        return ErrorCode.UNKNOWN_TYPE
    if field == "proto":
        return ErrorCode.VERSION_MISMATCH
    if field == "to" and "Expected `array`" not in error:
        return ErrorCode.INVALID_NUMBER
    if field == "body" and "length <=" in error:
        return ErrorCode.BODY_TOO_LONG
    return ErrorCode.BAD_MESSAGE
