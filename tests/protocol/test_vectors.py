"""tests/vectors/textport-v1.json is what the Python code produces today.

The TypeScript suite replays the same file (web/tests/vectors.test.ts), so the two
implementations agree through it byte for byte.
"""

from __future__ import annotations

import json

from tests.vectors import generate
from textport.protocol import frames, messages


def test_vector_file_matches_the_code() -> None:
    committed = generate.OUT.read_text()
    assert committed == generate.render(), (
        "tests/vectors/textport-v1.json is stale: run `python -m tests.vectors.generate` "
        "and check the diff (a change here is a wire-format change)"
    )


def test_vector_file_covers_every_message_type_and_op() -> None:
    data = json.loads(generate.OUT.read_text())
    types = {json.loads(body)["t"] for body in data["messages"]}
    assert types == set(messages.MESSAGE_TYPES)
    ops = {
        json.loads(bytes.fromhex(frame)[1:])["op"]
        for frame in data["frames"]
        if bytes.fromhex(frame)[0] == frames.CONTROL
    }
    assert ops == {cls.__struct_config__.tag for cls in frames.ControlOp.__args__}
