"""Phone-number normalisation: examples of every form, and properties over any text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textport.errors import ConfigError, ErrorCode, ProtocolError
from textport.numbers import as_written, normalise

E164 = re.compile(r"\+[1-9][0-9]{1,14}")


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(555) 010-0100", "US", "+15550100100"),
        ("555.010.0100", "US", "+15550100100"),
        ("1 555 010 0100", "US", "+15550100100"),
        ("+1 555 010 0100", "GB", "+15550100100"),
        ("  +15550000001 ", "US", "+15550000001"),
        ("011 44 7700 900123", "US", "+447700900123"),
        ("07700 900123", "GB", "+447700900123"),
        ("07700 900123", "gb", "+447700900123"),
        ("030 1234567", "DE", "+49301234567"),
        # International, written without its +: not possible in the US, possible with it.
        ("447700900123", "US", "+447700900123"),
        # Short codes and numbers only dialable locally: their digits.
        ("737373", "US", "737373"),
        ("22 000", "US", "22000"),
        ("555-0100", "US", "5550100"),
        ("611", "US", "611"),
        # Alphanumeric sender ids: trimmed, case kept.
        ("  Google ", "US", "Google"),
        ("VM-HDFCBK", "IN", "VM-HDFCBK"),
        ("Uber Eats", "US", "Uber Eats"),
        ("AT&T", "US", "AT&T"),
        ("Amazon1234", "US", "Amazon1234"),
        ("Привет", "RU", "Привет"),
        # E-mail-like and RCS addresses as they are.
        ("group_8@rcs.google.com", "US", "group_8@rcs.google.com"),
        (" Someone@Example.org", "US", "Someone@Example.org"),
    ],
)
def test_examples(raw: str, region: str, expected: str) -> None:
    assert normalise(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("12", "too few"),
        ("1234567890123456", "too many"),
        ("+999999", "not a possible international"),
        ("+12", "not a possible international"),
        ("---", "no digits"),
        ("+", "no digits"),
        ("555*0100", "characters other than digits"),
        ("1+555", "characters other than digits"),
        ("null\x00", "control"),
        ("tel:+15550100100", "sender id"),
        ("A" * 33, "at most 32"),
        ("a@b@c", "e-mail"),
        ("@rcs.google.com", "e-mail"),
        ("a b@example.org", "e-mail"),
        ("a@example.org~b@example.org", "e-mail"),
        ("a" * 60 + "@b.cd", "at most 64"),
        ("Smith, Ann", "sender id"),
    ],
)
def test_garbage_is_refused_with_a_reason(raw: str, words: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        normalise(raw, "US")
    assert caught.value.code is ErrorCode.INVALID_NUMBER
    assert words in caught.value.message


def test_an_unknown_region_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="two-letter country code"):
        normalise("5550100100", "XX")


def test_error_messages_never_repeat_the_number() -> None:
    for raw in ("+999999", "1234567890123456", "555*0100", "+1 (555) 010-010x", "a b@c.d"):
        with pytest.raises(ProtocolError) as caught:
            normalise(raw, "US")
        assert raw.strip() not in caught.value.message
        assert "999999" not in caught.value.message
        assert "0100" not in caught.value.message


US_NATIONAL = st.from_regex(r"[2-9][0-9]{2}[2-9][0-9]{6}", fullmatch=True)
SEPARATORS = st.sampled_from(["", " ", "-", ".", "/"])


@settings(max_examples=300, deadline=None)
@given(national=US_NATIONAL, sep=SEPARATORS, style=st.integers(0, 4))
def test_every_spelling_of_a_us_number_is_one_e164(national: str, sep: str, style: int) -> None:
    area, exchange, line = national[:3], national[3:6], national[6:]
    spelled = [
        f"({area}) {exchange}{sep}{line}",
        f"{area}{sep}{exchange}{sep}{line}",
        f"1{sep}{area}{sep}{exchange}{sep}{line}",
        f"+1 {area}{sep}{exchange}{sep}{line}",
        f"  +1{national}  ",
    ][style]
    assert normalise(spelled, "US") == "+1" + national
    assert normalise("+1" + national, "DE") == "+1" + national


ANY_TEXT = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\+?[0-9 ()\-.]{0,24}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9 ._&'!-]{1,40}", fullmatch=True),
    st.from_regex(r"[a-z0-9_.~,]{0,10}@[a-z0-9.]{0,10}", fullmatch=True),
)
REGIONS = st.sampled_from(["US", "GB", "DE", "IN", "FR", "BR", "JP", "AU"])


@settings(max_examples=1500, deadline=None)
@given(raw=ANY_TEXT, region=REGIONS)
def test_any_text_is_normalised_stably_or_refused_as_invalid(raw: str, region: str) -> None:
    try:
        once = normalise(raw, region)
    except ProtocolError as exc:
        assert exc.code is ErrorCode.INVALID_NUMBER
        return
    assert once == once.strip()
    assert once
    assert "," not in once
    assert "~" not in once
    assert not any(ord(char) < 32 for char in once)
    assert normalise(once, region) == once
    if once.startswith("+"):
        assert E164.fullmatch(once)
        # An E.164 number means the same from any region.
        assert normalise(once, "US" if region != "US" else "JP") == once
    elif once.isdigit():
        assert 3 <= len(once) <= 15


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(555) 010-0100", "+15550100100"),  # what normalise gives, when it gives one
        ("+1 555 0100", "+15550100"),  # impossible to phonenumbers, kept as the phone wrote it
        ("+999999", "+999999"),
        ("12", None),
        ("-1", None),
        ("tel:+15550100100", "tel:+15550100100"),
        ("Smith, Ann", None),
        ("a~b", None),
        ("", None),
        ("---", None),
        ("x\x00", None),
        ("a" * 65, None),
    ],
)
def test_history_keeps_what_it_can_store_as_written(raw: str, expected: str | None) -> None:
    assert as_written(raw, "US") == expected


@given(st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_what_history_keeps_is_a_storable_peer(raw: str) -> None:
    kept = as_written(raw, "US")
    if kept is not None:
        assert re.fullmatch(r"[^\x00-\x1f\x7f,~]{1,64}", kept)
