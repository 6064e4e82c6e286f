"""Phone numbers as textport keeps them: one spelling per participant.

``normalise(raw, region)`` turns an address as a phone, a modem or a backup file writes it
into the form textport stores and compares:

- a number ``phonenumbers`` finds possible, national forms read with the default
  ``region``: E.164 (``"(555) 010-0100"``, US → ``"+15550100100"``);
- a number of 11 to 15 digits written without its ``+`` that is not possible in
  ``region`` but is with a ``+``: E.164 too (phones often store international numbers so);
- other digits, 3 to 15 of them (short codes such as ``"737373"``, numbers only dialable
  locally): the digits alone, without spaces or punctuation;
- an alphanumeric sender id (``"Google"``, ``"VM-HDFCBK"``): trimmed, case kept;
- an e-mail-like or RCS address (``"group_8@rcs.google.com"``): trimmed, otherwise as it is.

Anything else is refused with ``ProtocolError(invalid_number)``. No normalised form
contains ``,`` or ``~`` (the separators of participant lists) or a control character,
and normalising a normalised form gives it back unchanged. Error messages never repeat
the input (numbers are personal data).
"""

from __future__ import annotations

import re
from typing import Final

import phonenumbers

from textport.errors import ConfigError, ErrorCode, ProtocolError

MAX_SENDER_ID: Final = 32
"""The longest alphanumeric sender id kept (GSM allows 11; RCS business names run longer)."""
MAX_ADDRESS: Final = 64
"""The longest e-mail-like address kept: what the protocol's records carry as a peer."""

_NUMERIC = re.compile(r"\+?[0-9 ().\-/]*")
"""Digits with the punctuation people and phones put in numbers."""
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_SENDER_PUNCTUATION = frozenset(" ._-&'!")
_ADDRESS = re.compile(r"[^\s@,~<>\"]+@[^\s@,~<>\"]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def _invalid(why: str) -> ProtocolError:
    return ProtocolError(why, ErrorCode.INVALID_NUMBER)


def check_region(region: str) -> str:
    """``region`` upper-cased, or ConfigError when phonenumbers does not know it."""
    upper = region.upper()
    if upper not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(
            f"{region!r} is not a region phone numbers can be read in: give a two-letter "
            "country code such as US, GB or DE"
        )
    return upper


def normalise(raw: str, region: str) -> str:
    """The one spelling of the address ``raw``; national numbers read as in ``region``."""
    region = check_region(region)
    text = raw.strip()
    if not text:
        raise _invalid("A phone number is empty: give the number with + and its country code.")
    if _CONTROL.search(text):
        raise _invalid("A phone number contains control characters: type it again.")
    if "@" in text:
        return _address(text)
    if any(char.isalpha() for char in text):
        return _sender_id(text)
    return _number(text, region)


def as_written(raw: str, region: str) -> str | None:
    """For history, which must lose nothing: :func:`normalise`, or, where it refuses (a
    number ``phonenumbers`` calls impossible, such as ``+15550100``), the address as the
    phone wrote it — a number's ``+`` and digits, anything else trimmed — when it can be
    stored at all. None when it cannot: empty, under 3 digits, a control character, a
    separator (``,`` or ``~``), or over ``MAX_ADDRESS`` characters.
    """
    try:
        return normalise(raw, region)
    except ProtocolError:
        pass
    text = raw.strip()
    if _NUMERIC.fullmatch(text):
        digits = "".join(char for char in text if char.isdigit())
        # Fewer than 3 digits is no address ("-1" is Android's "number withheld").
        text = ("+" if text.startswith("+") else "") + digits if len(digits) >= 3 else ""
    if not text or len(text) > MAX_ADDRESS or _CONTROL.search(text) or "," in text or "~" in text:
        return None
    return text


def _address(text: str) -> str:
    if len(text) > MAX_ADDRESS or not _ADDRESS.fullmatch(text):
        raise _invalid(
            "An address with @ is not a usable e-mail or RCS address (one @, text on both "
            f"sides, no spaces, commas or ~, at most {MAX_ADDRESS} characters)."
        )
    return text


def _sender_id(text: str) -> str:
    if len(text) > MAX_SENDER_ID or not all(
        char.isalnum() or char in _SENDER_PUNCTUATION for char in text
    ):
        raise _invalid(
            "A sender name is not a usable alphanumeric sender id (letters, digits, spaces "
            f"and . _ - & ' ! only, at most {MAX_SENDER_ID} characters)."
        )
    return text


def _number(text: str, region: str) -> str:
    if not _NUMERIC.fullmatch(text):
        raise _invalid(
            "A phone number has characters other than digits, a leading + and the "
            "punctuation ( ) - . / and spaces: correct it."
        )
    digits = "".join(char for char in text if char.isdigit())
    if not digits:
        raise _invalid("A phone number has no digits: give the number with + and its country code.")
    international = text.startswith("+")
    e164 = _possible(text, region)
    if e164 is None and not international and 11 <= len(digits) <= 15:
        e164 = _possible("+" + digits, region)
    if e164 is not None:
        return e164
    if international:
        raise _invalid(
            "A phone number starting with + is not a possible international number: check "
            "its country code and length."
        )
    if not 3 <= len(digits) <= 15:
        raise _invalid(
            "A phone number has too few or too many digits: a short code has at least 3, "
            "a number at most 15."
        )
    return digits


def _possible(text: str, region: str) -> str | None:
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not _E164.fullmatch(e164):
        return None  # phonenumbers' length check is loose: "possible" may exceed 15 digits
    # Runs of zeros parse to a number that reads back as another ("+4900000" → "+490000"):
    # only a number that is its own E.164 counts, so normalising a result is a no-op.
    try:
        again = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.format_number(again, phonenumbers.PhoneNumberFormat.E164) != e164:
        return None
    return e164
