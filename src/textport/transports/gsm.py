"""How a text travels as SMS (3GPP TS 23.038 and 23.040), without I/O.

A text that fits the GSM 7-bit default alphabet, with its extension table (whose
characters take an escape and so cost 2 septets), goes as GSM-7: 160 septets in one
SMS, 153 per part once it is split (the concatenation header takes the rest). Anything
else goes as UCS-2 (in practice UTF-16): 70 code units in one SMS, 67 per part; a
character outside the BMP (most emoji) takes 2 units. A part never splits an escape
pair or a surrogate pair, so a part may hold one unit less than its maximum; and in
UCS-2 a combining mark that would begin a part takes the character before it along
(libGammu's rule, so that "é" written as e + U+0301 reaches the phone whole).

This is the same rule, character for character, as the web client's counter
(``web/src/client/segments.ts``); ``tests/transports/test_gsm.py`` runs both on the same
generated texts, and checks the parts against libGammu's own encoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Encoding = Literal["GSM-7", "UCS-2"]

ESC: Final = 0x1B
"""The escape to the extension table."""

DEFAULT_ALPHABET: Final = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 default alphabet, indexed by septet (0x1B is the escape, not a character)."""

EXTENSION: Final = {
    0x0A: "\f",
    0x14: "^",
    0x28: "{",
    0x29: "}",
    0x2F: "\\",
    0x3C: "[",
    0x3D: "~",
    0x3E: "]",
    0x40: "|",
    0x65: "€",
}
"""The GSM 03.38 extension table: septet after the escape → character."""

_BASIC: Final = {char: code for code, char in enumerate(DEFAULT_ALPHABET) if code != ESC}
_EXTENDED: Final = {char: code for code, char in EXTENSION.items()}


@dataclass(frozen=True)
class Limits:
    single: int
    """Units that fit in one SMS on its own."""
    per_part: int
    """Units per part of a split text (the concatenation header takes the rest)."""


LIMITS: Final[dict[Encoding, Limits]] = {
    "GSM-7": Limits(single=160, per_part=153),
    "UCS-2": Limits(single=70, per_part=67),
}


@dataclass(frozen=True)
class Segments:
    """A text cut into the SMS it is sent as."""

    encoding: Encoding
    units: int
    """Septets (GSM-7) or UTF-16 code units (UCS-2) the whole text takes."""
    parts: tuple[str, ...]
    """The text of each SMS, in order; empty for an empty text."""
    single: int
    per_part: int

    @property
    def capacity(self) -> int:
        """What the web client's counter shows as the limit."""
        return self.single if len(self.parts) <= 1 else len(self.parts) * self.per_part


def gsm_weight(char: str) -> int | None:
    """Septets ``char`` takes in GSM-7: 1, 2 (extension table) or None (not encodable)."""
    if char in _BASIC:
        return 1
    if char in _EXTENDED:
        return 2
    return None


def ucs2_weight(char: str) -> int:
    """UTF-16 code units ``char`` takes: 2 outside the BMP, else 1."""
    return 2 if ord(char) > 0xFFFF else 1


COMBINING: Final = (
    (0x0300, 0x036F),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
)
"""The combining-mark blocks that libGammu keeps with the character before them."""


def is_combining(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in COMBINING)


def is_gsm7(text: str) -> bool:
    """Whether the whole text can be sent in the GSM 7-bit alphabet."""
    return all(gsm_weight(char) is not None for char in text)


def encoding_for(text: str) -> Encoding:
    return "GSM-7" if is_gsm7(text) else "UCS-2"


def segment(text: str) -> Segments:
    """Cut ``text`` into SMS: the encoding it needs and the text of each part."""
    encoding = encoding_for(text)
    limits = LIMITS[encoding]
    weights = [
        (gsm_weight(char) or 1) if encoding == "GSM-7" else ucs2_weight(char) for char in text
    ]
    units = sum(weights)
    if units == 0:
        parts: tuple[str, ...] = ()
    elif units <= limits.single:
        parts = (text,)
    else:
        cut: list[str] = []
        start = used = 0
        for index, weight in enumerate(weights):
            if used + weight > limits.per_part:
                end = index
                if encoding == "UCS-2" and is_combining(text[index]) and index - 1 > start:
                    end = index - 1  # the mark's base character goes along with it
                cut.append(text[start:end])
                start, used = end, sum(weights[end:index])
            used += weight
        cut.append(text[start:])
        parts = tuple(cut)
    return Segments(encoding, units, parts, limits.single, limits.per_part)


# ------------------------------------------------------------ septets


def to_septets(text: str) -> bytes:
    """``text`` as unpacked GSM 03.38 septets (one per octet; ESC before an extension).

    Raises ValueError for a character the alphabet has not (check :func:`is_gsm7`).
    """
    out = bytearray()
    for char in text:
        code = _BASIC.get(char)
        if code is not None:
            out.append(code)
            continue
        code = _EXTENDED.get(char)
        if code is None:
            raise ValueError(f"U+{ord(char):04X} is not in the GSM 7-bit alphabet")
        out += bytes((ESC, code))
    return bytes(out)


def from_septets(septets: bytes) -> str:
    """Unpacked septets back to text, as TS 23.038 says a receiver shows them.

    An escape before a code the extension table has not shows that code's default
    character; an escape before another escape, or at the very end, shows a space.
    Octets over 0x7F keep only their low 7 bits. Never raises.
    """
    out: list[str] = []
    escaped = False
    for octet in septets:
        code = octet & 0x7F
        if escaped:
            escaped = False
            if code == ESC:
                out.append(" ")
            else:
                out.append(EXTENSION.get(code, DEFAULT_ALPHABET[code]))
        elif code == ESC:
            escaped = True
        else:
            out.append(DEFAULT_ALPHABET[code])
    if escaped:
        out.append(" ")
    return "".join(out)


# ------------------------------------------------------------ concatenation headers


@dataclass(frozen=True)
class Concat:
    """Which part of which concatenated text an SMS is (TS 23.040 9.2.3.24.1 and .8)."""

    reference: int
    total: int
    number: int
    """1-based."""


def concat_udh(concat: Concat, *, wide: bool = False) -> bytes:
    """The user data header for one part: IEI 0x00 (8-bit reference) or 0x08 (16-bit)."""
    if not 1 <= concat.number <= concat.total <= 255:
        raise ValueError("a concatenated text has 1 to 255 parts, numbered from 1")
    if wide:
        if not 0 <= concat.reference <= 0xFFFF:
            raise ValueError("a 16-bit reference is 0 to 65535")
        reference = concat.reference.to_bytes(2, "big")
        return bytes((6, 0x08, 4, *reference, concat.total, concat.number))
    if not 0 <= concat.reference <= 0xFF:
        raise ValueError("an 8-bit reference is 0 to 255")
    return bytes((5, 0x00, 3, concat.reference, concat.total, concat.number))


def parse_concat(udh: bytes) -> Concat | None:
    """The concatenation element of a user data header (with its length octet), if any.

    None when there is none, or when it is malformed (a part numbered 0 or past the
    total, a header longer than its data): such an SMS is a text of its own. Never raises.
    """
    if not udh or udh[0] + 1 > len(udh):
        return None
    body, at = udh[1 : udh[0] + 1], 0
    while at + 2 <= len(body):
        iei, length = body[at], body[at + 1]
        value = body[at + 2 : at + 2 + length]
        if len(value) < length:
            return None
        if (iei, length) == (0x00, 3):
            reference, total, number = value
        elif (iei, length) == (0x08, 4):
            reference, total, number = int.from_bytes(value[:2], "big"), value[2], value[3]
        else:
            at += 2 + length
            continue
        if not 1 <= number <= total:
            return None
        return Concat(reference, total, number)
    return None
