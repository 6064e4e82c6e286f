"""atheris fuzz target: what textport reads from SMS sources raises only documented errors.

Run: ``python fuzz/sms.py -max_total_time=60 CORPUS_DIR`` (the test command runs it for
a bounded time). An empty corpus folder is first seeded with valid input for each
decoder. The first input byte picks the decoder:

- :func:`textport.transports.gsm.parse_concat` (a user data header) and
  :func:`~textport.transports.gsm.from_septets` (unpacked GSM 7-bit text) never raise;
  a header they accept encodes back to itself, and decoded septets are GSM-7 text that
  encodes and decodes back to itself.
- :func:`textport.transports.termux.listing.parse_listing` (``termux-sms-list``'s output) raises
  only TransportError, and every entry it returns can be handed to the host.

Any other exception, or a broken promise, is a crash that atheris reports with its input.
"""

from __future__ import annotations

from pathlib import Path

import atheris
import phonenumbers  # noqa: F401 - not ours: imported before instrumenting, it runs at full speed

import runner

with atheris.instrument_imports():
    from textport.errors import TransportError
    from textport.transports import gsm, termux
    from textport.transports.termux import listing as termux_listing

NOW_MS = 1_790_000_000_000
TRANSPORT = termux.TermuxTransport(termux.TermuxSettings(region="GB"), Path("/nonexistent"))
LISTING = (
    b'[{"threadid": 12, "type": "inbox", "read": true, "sender": "Alice",\n'
    b' "address": "+15551234", "number": "+15551234",\n'
    b' "received": "2025-01-26 13:45:10", "body": "hi \\ud83d\\ude00", "_id": 4711}]'
)


def _concat(data: bytes) -> None:
    concat = gsm.parse_concat(data)
    if concat is None:
        return
    if not 1 <= concat.number <= concat.total <= 255 or not 0 <= concat.reference <= 0xFFFF:
        raise AssertionError(f"an impossible part: {concat}")
    udh = gsm.concat_udh(concat, wide=concat.reference > 0xFF)
    if gsm.parse_concat(udh) != concat:
        raise AssertionError(f"{concat} does not survive its own header")


def _septets(data: bytes) -> None:
    text = gsm.from_septets(data)
    if len(text) > len(data) or not gsm.is_gsm7(text):
        raise AssertionError(f"{data!r} decoded to {text!r}")
    if gsm.from_septets(gsm.to_septets(text)) != text:
        raise AssertionError(f"{text!r} does not survive encoding")


def _listing(data: bytes) -> None:
    try:
        entries = termux_listing.parse_listing(data)
    except TransportError:
        return
    for entry in entries:
        sms = TRANSPORT._incoming(entry, NOW_MS)
        if sms.source_id != f"termux:{entry.key}" or not sms.sender:
            raise AssertionError(f"{entry} handed over as {sms}")


DECODERS = (_concat, _septets, _listing)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    DECODERS[data[0] % len(DECODERS)](data[1:])


def seeds() -> list[bytes]:
    """Valid inputs for each decoder."""
    inputs = [
        bytes([0]) + gsm.concat_udh(gsm.Concat(7, 3, 2)),
        bytes([0]) + gsm.concat_udh(gsm.Concat(0x1234, 4, 4), wide=True),
        bytes([0]) + bytes((8, 0x24, 1, 1)) + gsm.concat_udh(gsm.Concat(1, 2, 1))[1:],
        bytes([1]) + gsm.to_septets("Meet at {the} [usual] place ~ 7pm | bring €20 ^_^"),
        bytes([1]) + bytes((0x1B, 0x1B, 0x41, 0x1B)),
        bytes([2]) + LISTING,
        bytes([2]) + b'{"error": "Please grant the following permission: READ_SMS"}',
        bytes([2]) + b'[{"_id": 1, "address": "07700 900123", "body": null}, 3, []]',
    ]
    return inputs


if __name__ == "__main__":
    runner.run(test_one_input, seeds)
