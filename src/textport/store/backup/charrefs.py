"""Repair the UTF-16 surrogate character references old backups write, before XML parsing.

Old versions of SMS Backup & Restore (and Signal and Silence exports) write an emoji as
the two UTF-16 halves of it, ``&#55357;&#56832;`` or ``&#xD83D;&#xDE00;``, which XML
forbids: expat stops at the first one. ``SurrogateRefs`` rewrites a high-low pair into
the one reference of the real character and a lone half into U+FFFD, on raw bytes fed in
chunks of any size, a pair split across chunks included.

Every rewrite keeps the byte length (the new number is padded with leading zeros, which
XML allows: ``&#55357;&#56832;`` → ``&#0000000128512;``), so the parser's line, column
and byte offsets are those of the original file.
"""

from __future__ import annotations

import re
from typing import Final

_SURROGATE_REF: Final = re.compile(
    rb"&#(?:0{0,32}(5[5-7][0-9]{3})|x0{0,32}([dD][89a-fA-F][0-9a-fA-F]{2}));"
)
"""A reference that may be to a surrogate (D800 to DFFF is 55296 to 57343); at most 45 bytes."""
_HOLD: Final = 64
"""A tail this long may still be an unfinished reference: keep it for the next chunk."""
_REPLACEMENT: Final = 0xFFFD


def _code(match: re.Match[bytes]) -> int:
    decimal, hexadecimal = match.group(1), match.group(2)
    return int(decimal) if decimal is not None else int(hexadecimal, 16)


def _is_high(code: int) -> bool:
    return 0xD800 <= code <= 0xDBFF


def _is_low(code: int) -> bool:
    return 0xDC00 <= code <= 0xDFFF


def _reference(code: int, length: int) -> bytes:
    """``&#code;`` padded with zeros to ``length`` bytes (always room: see ``rewrite``)."""
    return b"&#%0*d;" % (length - 3, code)


def rewrite(data: bytes) -> bytes:
    """``data`` with every surrogate pair reference merged and every lone half U+FFFD.

    A pair spans at least 16 bytes and the merged number has at most 7 digits; a lone half
    spans at least 8 bytes and 65533 has 5 digits: the padded rewrite always fits.
    """
    matches = [m for m in _SURROGATE_REF.finditer(data) if 0xD800 <= _code(m) <= 0xDFFF]
    if not matches:
        return data
    out = bytearray()
    done = 0
    index = 0
    while index < len(matches):
        match = matches[index]
        code = _code(match)
        start, end = match.span()
        following = matches[index + 1] if index + 1 < len(matches) else None
        if (
            _is_high(code)
            and following is not None
            and following.start() == end
            and _is_low(_code(following))
        ):
            merged = 0x10000 + ((code - 0xD800) << 10) + (_code(following) - 0xDC00)
            end = following.end()
            replacement = _reference(merged, end - start)
            index += 2
        else:
            replacement = _reference(_REPLACEMENT, end - start)
            index += 1
        out += data[done:start]
        out += replacement
        done = end
    out += data[done:]
    return bytes(out)


def _tail_start(data: bytes) -> int:
    """Where the part of ``data`` that may need the next chunk to be rewritten begins."""
    amp = data.rfind(b"&", max(0, len(data) - _HOLD))
    if amp < 0:
        return len(data)
    # A high half that ends where the last reference starts stays with it: that may be
    # its low half, or the start of it.
    before = _SURROGATE_REF.search(data, max(0, amp - _HOLD), amp)
    while before is not None and before.end() < amp:
        before = _SURROGATE_REF.search(data, before.end(), amp)
    if before is not None and before.end() == amp and _is_high(_code(before)):
        return before.start()
    return amp


class SurrogateRefs:
    """Feed raw chunks, get back rewritten bytes; ``close`` returns what was held back."""

    def __init__(self) -> None:
        self._held = b""

    def feed(self, chunk: bytes | memoryview) -> bytes:
        data = self._held + chunk if self._held else bytes(chunk)
        cut = _tail_start(data)
        self._held = data[cut:]
        return rewrite(data[:cut])

    def close(self) -> bytes:
        data, self._held = self._held, b""
        return rewrite(data)
