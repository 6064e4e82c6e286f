"""Docs that cannot drift: docs/relay.md names every setting with its default, and the
dispatcher's summary names every operation it has a handler for."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from textport.relay import server
from textport.relay.config import RelayConfig

DOC = (Path(__file__).resolve().parents[2] / "docs" / "relay.md").read_text()


def test_every_setting_is_documented_with_its_default() -> None:
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| `([^`]*)` \|", DOC, re.M))
    defaults = {field.name: field.default for field in dataclasses.fields(RelayConfig)}
    assert set(rows) == set(defaults)
    for name, default in defaults.items():
        assert rows[name] == repr(default), name


def test_every_handler_is_in_the_dispatchers_summary() -> None:
    assert server.__doc__ is not None
    summary = set(re.findall(r"^ {4}-> ([a-z_]+)\{", server.__doc__, re.M))
    handlers = {name.removeprefix("handle_") for name in vars(server.Relay) if "handle_" in name}
    assert (
        summary
        == handlers
        == {
            "host",
            "register",
            "unregister",
            "close",
            "join",
            "offer",
            "accept",
        }
    )
