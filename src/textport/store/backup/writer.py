"""Write history records as an "SMS Backup & Restore" XML backup, one message at a time.

    <?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
    <smses count="N">
      <sms protocol="0" address date type subject body read status contact_name …/>
      <mms date msg_box address m_type read sub contact_name …>
        <parts><part ct="text/plain" text/><part ct name data/>…</parts>
        <addrs><addr address type/>…</addrs>
      </mms>
    </smses>

An SMS record with one peer and no attachments is an ``<sms>``; anything else an
``<mms>`` whose parts are the text, then each attachment (base64; one whose bytes are
missing has no ``data``, which the reader takes as "not included in the backup"). The
writer does not know the owner's number: a received MMS names its sender as FROM (137)
and the other peers as CC (130); a sent one has Android's ``insert-address-token`` as
FROM and every peer as TO (151).

``count`` cannot be known before the last message on a stream: on a seekable file the
writer leaves room in the root tag and writes the true number there at the end (the
room is spaces between attributes, which XML ignores); on a stream that cannot seek it
writes the ``count`` it was given, and refuses to start without one.

Every string goes through ``_attr``: XML's five specials and newlines, carriage returns
and tabs become references (an attribute keeps them only so), and the characters XML
1.0 cannot carry at all (most C0 controls, lone surrogates, U+FFFE and U+FFFF) become
U+FFFD.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from typing import BinaryIO, Final

from textport.store.backup.reader import ADDRESS_TOKEN, CC, FROM, TO
from textport.store.backup.records import Attachment, HistoryMessage

__all__ = ["write_backup"]

HEADER: Final = (
    b"<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n"
    b'<?xml-stylesheet type="text/xsl" href="sms.xsl"?>\n'
)
_COUNT_ROOM: Final = 20
"""Digits the root tag leaves room for when ``count`` is written at the end."""
_ESCAPES: Final = {
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
    ord('"'): "&quot;",
    ord("\n"): "&#10;",
    ord("\r"): "&#13;",
    ord("\t"): "&#9;",
}
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SPECIAL: Final = re.compile('[&<>"\n\r\t]')
_SMS_TYPE: Final = {"received": ("1", "-1"), "sent": ("2", "-1"), "delivered": ("2", "0")}


def _attr(value: str) -> str:
    """``value`` as the inside of a double-quoted attribute."""
    value = _NOT_XML.sub("\ufffd", value)
    return value.translate(_ESCAPES) if _SPECIAL.search(value) else value


def _optional(value: str | None) -> str:
    return "null" if value is None else _attr(value)


def _name(message: HistoryMessage) -> str:
    if len(message.peers) == 1 and message.peers[0] in message.names:
        return _attr(message.names[message.peers[0]])
    return "(Unknown)"


def _sms(message: HistoryMessage) -> str:
    if message.direction == "in":
        kind, status = "1", "-1"
    else:
        kind, status = _SMS_TYPE.get(message.state, ("5", "64"))
    return (
        f'  <sms protocol="0" address="{_attr(message.peers[0])}" date="{message.at_ms}" '
        f'type="{kind}" subject="{_optional(message.subject)}" body="{_attr(message.body)}" '
        f'toa="null" sc_toa="null" service_center="null" read="{int(message.read)}" '
        f'status="{status}" locked="0" date_sent="0" sub_id="-1" '
        f'contact_name="{_name(message)}" />\n'
    )


def _part(seq: int, attachment: Attachment) -> str:
    name = _optional(attachment.name)
    data = ""
    if attachment.data is not None:
        data = f' data="{base64.b64encode(attachment.data).decode("ascii")}"'
    return (
        f'      <part seq="{seq}" ct="{_attr(attachment.content_type)}" name="{name}" '
        f'chset="null" cd="null" fn="null" cid="null" cl="{name}" ctt_s="null" '
        f'ctt_t="null" text="null"{data} />\n'
    )


def _mms(message: HistoryMessage) -> str:
    incoming = message.direction == "in"
    box = "1" if incoming else ("5" if message.state == "failed" else "2")
    lines = [
        f'  <mms date="{message.at_ms}" ct_t="application/vnd.wap.multipart.related" '
        f'msg_box="{box}" address="{_attr("~".join(message.peers))}" '
        f'm_type="{132 if incoming else 128}" read="{int(message.read)}" '
        f'sub="{_optional(message.subject)}" date_sent="0" '
        f'text_only="{0 if message.attachments else 1}" contact_name="{_name(message)}">\n',
        "    <parts>\n",
    ]
    if message.body:
        lines.append(
            '      <part seq="0" ct="text/plain" name="text_0.txt" chset="106" '
            f'cl="text_0.txt" text="{_attr(message.body)}" />\n'
        )
    lines += [_part(seq, a) for seq, a in enumerate(message.attachments, start=1)]
    lines.append("    </parts>\n    <addrs>\n")
    if incoming:
        if message.sender:
            lines.append(_addr(message.sender, FROM))
        lines += [_addr(peer, CC) for peer in message.peers if peer != message.sender]
    else:
        lines.append(_addr(ADDRESS_TOKEN, FROM))
        lines += [_addr(peer, TO) for peer in message.peers]
    lines.append("    </addrs>\n  </mms>\n")
    return "".join(lines)


def _addr(address: str, kind: str) -> str:
    return f'      <addr address="{_attr(address)}" type="{kind}" charset="106" />\n'


def _element(message: HistoryMessage) -> str:
    if message.kind == "sms" and len(message.peers) == 1 and not message.attachments:
        return _sms(message)
    return _mms(message)


def write_backup(
    messages: Iterable[HistoryMessage], out: BinaryIO, *, count: int | None = None
) -> int:
    """Write ``messages`` to ``out`` as a backup; return how many were written.

    On a seekable ``out`` the root's ``count`` is the number written, whatever ``count``
    says; on a stream ``count`` is required and written as given.
    """
    seekable = out.seekable()
    if not seekable and count is None:
        raise ValueError(
            "write_backup needs count= on a stream it cannot seek back in, to fill in the "
            "root's count attribute before the messages"
        )
    out.write(HEADER)
    place = out.tell() if seekable else 0
    out.write(_root(count or 0, room=seekable))
    written = 0
    for message in messages:
        out.write(_element(message).encode("utf-8"))
        written += 1
    out.write(b"</smses>\n")
    if seekable:
        end = out.tell()
        out.seek(place)
        out.write(_root(written, room=True))
        out.seek(end)
    return written


def _root(count: int, *, room: bool) -> bytes:
    tag = f'<smses count="{count}"'
    if room:
        tag = tag.ljust(len('<smses count=""') + _COUNT_ROOM)
    return (tag + ">\n").encode("ascii")
