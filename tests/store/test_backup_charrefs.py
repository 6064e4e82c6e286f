"""Surrogate character references: merged in place, same length, in any chunking."""

from __future__ import annotations

import re
from xml.parsers import expat

from hypothesis import given, settings
from hypothesis import strategies as st

from textport.store.backup.charrefs import SurrogateRefs, rewrite


def _parse_value(data: bytes) -> str:
    got: list[str] = []
    parser = expat.ParserCreate()
    parser.StartElementHandler = lambda _name, attrs: got.append(attrs["v"])
    parser.Parse(b'<a v="' + data + b'"/>', True)
    return got[0]


def test_pairs_merge_and_lone_halves_become_the_replacement_character() -> None:
    cases = {
        b"&#55357;&#56832;": "😀",
        b"&#xD83D;&#xDE00;": "😀",
        b"&#xd83d;&#xde00;": "😀",
        b"&#55357;&#xDE00;": "😀",
        b"&#000055357;&#56832;": "😀",
        b"&#55357;": "\ufffd",
        b"&#56832;": "\ufffd",
        b"&#xDE00;&#xD83D;": "\ufffd\ufffd",
        b"&#55357; &#56832;": "\ufffd \ufffd",
        b"&#55357;&#55357;&#56832;": "\ufffd😀",
        b"&#128512;&#10;&#55000;": "😀\n\ud6d8",
        b"&amp;#55357;": "&#55357;",
    }
    for raw, value in cases.items():
        fixed = rewrite(raw)
        assert len(fixed) == len(raw)
        assert _parse_value(fixed) == value, raw


REFERENCES = st.one_of(
    st.integers(0xD800, 0xDFFF).map(lambda c: f"&#{c};"),
    st.integers(0xD800, 0xDFFF).map(lambda c: f"&#x{c:X};"),
    st.integers(0xD800, 0xDFFF).map(lambda c: f"&#x{c:x};"),
    st.integers(0xD800, 0xDFFF).map(lambda c: f"&#00{c};"),
    st.sampled_from(["&#10;", "&amp;", "&#128512;", "&#x1F600;", "&lt;", "a", " ", "é"]),
)


def _expected(text: str) -> str:
    """What ``text`` means when each high-low pair of references is one character."""
    out: list[str] = []
    pending: int | None = None
    for piece in re.findall(r"&#x\w+;|&#\d+;|&\w+;|.", text, re.S):
        code = None
        if piece.startswith("&#x"):
            code = int(piece[3:-1], 16)
        elif piece.startswith("&#"):
            code = int(piece[2:-1])
        if pending is not None:
            if code is not None and 0xDC00 <= code <= 0xDFFF:
                out.append(chr(0x10000 + ((pending - 0xD800) << 10) + (code - 0xDC00)))
                pending = None
                continue
            out.append("\ufffd")
            pending = None
        if code is not None and 0xD800 <= code <= 0xDBFF:
            pending = code
        elif code is not None and 0xDC00 <= code <= 0xDFFF:
            out.append("\ufffd")
        elif code is not None:
            out.append(chr(code))
        else:
            out.append({"&amp;": "&", "&lt;": "<"}.get(piece, piece))
    if pending is not None:
        out.append("\ufffd")
    return "".join(out)


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(REFERENCES, max_size=30), cuts=st.lists(st.integers(1, 40), max_size=20))
def test_any_chunking_gives_what_one_rewrite_gives(pieces: list[str], cuts: list[int]) -> None:
    raw = "".join(pieces).encode()
    whole = rewrite(raw)
    assert len(whole) == len(raw)
    assert _parse_value(whole) == _expected("".join(pieces))
    refs = SurrogateRefs()
    out = b""
    start = 0
    for size in cuts:
        out += refs.feed(raw[start : start + size])
        start += size
    out += refs.feed(raw[start:])
    out += refs.close()
    assert out == whole
