"""GSM-7 / UCS-2 choice and segmentation: examples, properties, and two oracles (the web
client's counter under Node, and libGammu's own encoder)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import gammu
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from textport.transports import gsm

WEB = Path(__file__).resolve().parents[2] / "web"
GSM_CHARS = "".join(sorted(set(gsm.DEFAULT_ALPHABET) - {"\x1b"})) + "".join(gsm.EXTENSION.values())

# Texts near the interesting boundaries: mostly GSM characters, some extension characters,
# some outside GSM, some outside the BMP, around 60-480 units long.
mostly_gsm = st.text(alphabet=st.sampled_from(GSM_CHARS), max_size=480)
mixed = st.text(
    alphabet=st.one_of(
        st.sampled_from(GSM_CHARS),
        st.sampled_from("çáü\u201c\u201d\u2019\u2014…ßЖ你"),
        st.sampled_from("🙂👍🏽😀𝄞"),
        st.sampled_from("\u0300\u0301\u1ab0\u1dc0\u20dd\ufe20"),  # combining marks
        st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    ),
    max_size=300,
)
texts = st.one_of(mostly_gsm, mixed)
ASTRAL_THEN_MARK = re.compile(
    "[\U00010000-\U0010ffff][" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in gsm.COMBINING) + "]"
)


def count(text: str) -> tuple[str, int, int]:
    segments = gsm.segment(text)
    return segments.encoding, segments.units, len(segments.parts)


# ------------------------------------------------------------ the web client's examples


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("", "GSM-7"),
        ("Hello, world!", "GSM-7"),
        ("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", "GSM-7"),
        ("line\nbreak\rreturn", "GSM-7"),
        ("€ [x] {y} ~z | \\ ^", "GSM-7"),
        ("tab\there", "UCS-2"),
        ("ç", "UCS-2"),
        ("naïve", "UCS-2"),
        ("“smart quotes”", "UCS-2"),
        ("emoji 🙂", "UCS-2"),
        ("Привет", "UCS-2"),
        ("`backtick`", "UCS-2"),
    ],
)
def test_encoding(text: str, encoding: str) -> None:
    assert gsm.encoding_for(text) == encoding
    assert gsm.is_gsm7(text) == (encoding == "GSM-7")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("GSM-7", 0, 0)),
        ("a" * 160, ("GSM-7", 160, 1)),
        ("a" * 161, ("GSM-7", 161, 2)),
        ("a" * 306, ("GSM-7", 306, 2)),
        ("a" * 307, ("GSM-7", 307, 3)),
        ("€" * 80, ("GSM-7", 160, 1)),
        ("€" * 80 + "a", ("GSM-7", 161, 2)),
        ("a" * 152 + "€" + "a" * 152, ("GSM-7", 306, 3)),  # the escape pair moves on
        ("a" * 151 + "€" + "a" * 153, ("GSM-7", 306, 2)),
        ("ç" * 70, ("UCS-2", 70, 1)),
        ("ç" * 71, ("UCS-2", 71, 2)),
        ("ç" * 134, ("UCS-2", 134, 2)),
        ("ç" * 135, ("UCS-2", 135, 3)),
        ("🙂" * 35, ("UCS-2", 70, 1)),
        ("👨‍👩‍👧", ("UCS-2", 8, 1)),
        ("ç" * 66 + "🙂" + "ç" * 66, ("UCS-2", 134, 3)),  # the surrogate pair moves on
        ("ç" * 65 + "🙂" + "ç" * 67, ("UCS-2", 134, 2)),
        ("a" * 99 + "ç", ("UCS-2", 100, 2)),
    ],
)
def test_counts(text: str, expected: tuple[str, int, int]) -> None:
    assert count(text) == expected


def test_capacity_is_what_the_counter_shows() -> None:
    assert gsm.segment("").capacity == 160
    assert gsm.segment("a" * 400).capacity == 459
    assert gsm.segment("ç" * 71).capacity == 134


# ------------------------------------------------------------ properties


def _weight(char: str, encoding: str) -> int:
    if encoding == "GSM-7":
        return gsm.gsm_weight(char) or 1
    return gsm.ucs2_weight(char)


@given(texts)
@settings(max_examples=500, deadline=None)
def test_parts_put_back_together_are_the_text_and_each_fits(text: str) -> None:
    segments = gsm.segment(text)
    assert "".join(segments.parts) == text
    assert all(segments.parts), "no empty part"
    weights = [sum(_weight(c, segments.encoding) for c in part) for part in segments.parts]
    assert sum(weights) == segments.units
    limit = segments.single if len(segments.parts) == 1 else segments.per_part
    assert all(weight <= limit for weight in weights)
    if len(segments.parts) > 1:
        # Greedy: a part ends only where the next character would not fit, or (UCS-2)
        # where it would, but a combining mark after it would not and takes it along.
        for weight, after in zip(weights, segments.parts[1:], strict=False):
            fits = weight + _weight(after[0], segments.encoding) <= segments.per_part
            assert not fits or (
                segments.encoding == "UCS-2"
                and len(after) > 1
                and gsm.is_combining(after[1])
                and weight + _weight(after[0], "UCS-2") + _weight(after[1], "UCS-2")
                > segments.per_part
            )
    if segments.encoding == "UCS-2":
        assert segments.units == len(text.encode("utf-16-le")) // 2


@given(mostly_gsm)
def test_septets_round_trip(text: str) -> None:
    septets = gsm.to_septets(text)
    assert len(septets) == gsm.segment(text).units
    assert gsm.from_septets(septets) == text


@given(st.binary(max_size=400))
def test_any_septets_decode(data: bytes) -> None:
    gsm.from_septets(data)  # never raises


def test_septets_refuse_what_gsm_has_not() -> None:
    with pytest.raises(ValueError, match="U\\+00E7"):
        gsm.to_septets("ç")
    assert gsm.from_septets(bytes([0x1B, 0x41])) == "A"  # unknown extension: the base char
    assert gsm.from_septets(bytes([0x1B])) == " "


@given(
    st.integers(0, 0xFFFF),
    st.integers(1, 255).flatmap(lambda total: st.tuples(st.just(total), st.integers(1, total))),
    st.booleans(),
)
def test_concat_header_round_trip(reference: int, numbering: tuple[int, int], wide: bool) -> None:
    total, number = numbering
    concat = gsm.Concat(reference if wide else reference & 0xFF, total, number)
    assert gsm.parse_concat(gsm.concat_udh(concat, wide=wide)) == concat


@given(st.binary(max_size=40))
def test_any_header_parses_or_is_none(udh: bytes) -> None:
    concat = gsm.parse_concat(udh)
    assert concat is None or 1 <= concat.number <= concat.total


def test_header_with_other_elements_first() -> None:
    # A port-addressing element (IEI 0x05), then the concatenation element.
    assert gsm.parse_concat(bytes((11, 5, 4, 0, 1, 0, 2, 0, 3, 7, 3, 2))) == gsm.Concat(7, 3, 2)
    assert gsm.parse_concat(bytes((5, 0, 3, 7, 3, 4))) is None  # part 4 of 3


# ------------------------------------------------------------ oracle: libGammu


@given(texts)
@settings(max_examples=300, deadline=None)
def test_libgammu_cuts_the_same_parts(text: str) -> None:
    # libGammu moves one UTF-16 unit back before a combining mark, which cuts a surrogate
    # pair in two when the mark follows an emoji (test below): there textport differs.
    assume(not ASTRAL_THEN_MARK.search(text))
    segments = gsm.segment(text)
    encoded = gammu.EncodeSMS(
        {
            "Class": -1,
            "Unicode": segments.encoding == "UCS-2",
            "Entries": [{"ID": "ConcatenatedTextLong", "Buffer": text}],
        }
    )
    assert tuple(part["Text"] for part in encoded) == (segments.parts or ("",))


def test_a_combining_mark_takes_its_character_along_but_never_half_an_emoji() -> None:
    accent = "a" * 66 + "e\u0301" + "bcd"
    assert gsm.segment(accent).parts == ("a" * 66, "e\u0301bcd")
    after_emoji = "a" * 65 + "😀\u0301" + "bcd"
    assert gsm.segment(after_emoji).parts == ("a" * 65, "😀\u0301bcd")
    by_gammu = gammu.EncodeSMS(
        {
            "Class": -1,
            "Unicode": True,
            "Entries": [{"ID": "ConcatenatedTextLong", "Buffer": after_emoji}],
        }
    )
    # libGammu leaves half of the emoji (a lone surrogate) at the end of the first part.
    assert len(by_gammu[0]["Text"]) == 66 and by_gammu[0]["Text"][:65] == "a" * 65


# ------------------------------------------------------------ oracle: the web client


@pytest.fixture(scope="module")
def web_counter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[str]]:
    esbuild = WEB / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists() or shutil.which("node") is None:
        pytest.fail("needs Node.js and web/node_modules (scripts/setup installs them)")
    folder = tmp_path_factory.mktemp("segments")
    subprocess.run(
        [
            str(esbuild),
            str(WEB / "src" / "client" / "segments.ts"),
            "--format=esm",
            f"--outfile={folder / 'segments.mjs'}",
            "--log-level=error",
        ],
        check=True,
    )
    (folder / "run.mjs").write_text(
        'import { countSegments } from "./segments.mjs";\n'
        'import { createInterface } from "node:readline";\n'
        "for await (const line of createInterface({ input: process.stdin })) {\n"
        "  const c = countSegments(JSON.parse(line));\n"
        "  console.log(JSON.stringify([c.encoding, c.units, c.parts, c.capacity]));\n"
        "}\n"
    )
    proc = subprocess.Popen(
        ["node", str(folder / "run.mjs")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    yield proc
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    proc.wait(10)
    proc.stdout.close()


@pytest.mark.node
@given(text=texts)
@settings(max_examples=400, deadline=None)
def test_the_web_client_counts_the_same(web_counter: subprocess.Popen[str], text: str) -> None:
    assert web_counter.stdin is not None and web_counter.stdout is not None
    web_counter.stdin.write(json.dumps(text) + "\n")
    web_counter.stdin.flush()
    segments = gsm.segment(text)
    expected = [segments.encoding, segments.units, len(segments.parts), segments.capacity]
    assert json.loads(web_counter.stdout.readline()) == expected
