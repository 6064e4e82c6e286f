"""atheris fuzz target: every decoder of untrusted input raises only documented errors.

Run: ``python fuzz/decoders.py -max_total_time=60 CORPUS_DIR`` (the test command runs it
for a bounded time). An empty corpus folder is first seeded with every frame, message
and offer from tests/vectors/textport-v1.json. The first input byte picks the decoder;
any exception other than a ProtocolError with a documented code is a crash that atheris
reports with its input. The backup reader has a target of its own (fuzz/backup.py): it
is slow per input, and shared with it this one ran twenty times fewer inputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import atheris

import runner

with atheris.instrument_imports():
    from textport.errors import ErrorCode, ProtocolError
    from textport.protocol import frames, messages, pairing, session

RELAYS = ("ws://127.0.0.1:8750/v1",)
NOW = 1_790_000_000


def _offer(data: bytes) -> None:
    pairing.PairingOffer.parse(data.decode("utf-8", "replace"), now=NOW, allowed_relays=RELAYS)


def _code(data: bytes) -> None:
    pairing.normalize_code(data.decode("utf-8", "replace"))


def _refused_send(data: bytes) -> None:
    cmid = messages.refused_send(data)  # never raises: None or a well-formed cmid
    assert cmid is None or (len(cmid) == 32 and set(cmid) <= set("0123456789abcdef"))


DECODERS = (
    frames.decode_frame,
    messages.decode,
    session.unpad,
    _offer,
    _code,
    _refused_send,
)


def test_one_input(data: bytes) -> None:
    if not data:
        return
    decoder = DECODERS[data[0] % len(DECODERS)]
    try:
        decoder(data[1:])
    except ProtocolError as exc:
        if not isinstance(exc.code, ErrorCode):
            raise


def seeds() -> list[bytes]:
    """Valid inputs for each decoder."""
    vectors = json.loads(
        (Path(__file__).parents[1] / "tests" / "vectors" / "textport-v1.json").read_text()
    )
    inputs = [bytes([0]) + bytes.fromhex(f) for f in vectors["frames"]]
    inputs += [bytes([1]) + m.encode() for m in vectors["messages"]]
    inputs += [bytes([3]) + vectors["pairing_offer"]["offer"].encode()]
    inputs += [bytes([4]) + c["input"].encode() for c in vectors["typed_codes"]]
    return inputs


if __name__ == "__main__":
    runner.run(test_one_input, seeds)
