"""docs/transports.md cannot drift: every transport, setting and option is in it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from textport.transports import config
from textport.transports.gammu import GammuSettings
from textport.transports.modemmanager import MMSettings
from textport.transports.smpp import SmppSettings
from textport.transports.termux import TermuxSettings

DOC = (Path(__file__).resolve().parents[2] / "docs" / "transports.md").read_text()


def _settings(after: str) -> set[str]:
    start = DOC.index(after)
    table = DOC[start:].split("\n\n", 2)[1]
    return set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M))


def test_every_transport_has_a_section() -> None:
    for name in config.TRANSPORTS:
        assert f"## `{name}`" in DOC, name


def test_every_host_setting_is_documented() -> None:
    assert _settings("## `[host]`") == set(config.HOST_KEYS)


def test_every_gammu_setting_is_documented() -> None:
    fields = {field.name for field in dataclasses.fields(GammuSettings)} - {"region"}
    assert _settings("### Settings") == fields


def test_the_options_are_documented() -> None:
    assert "--transport" in DOC
    assert "--config FILE" in DOC


def test_every_termux_setting_is_documented() -> None:
    section = DOC[DOC.index("## `termux`") :]
    table = section[section.index("### Settings") :].split("\n\n", 2)[1]
    fields = {field.name for field in dataclasses.fields(TermuxSettings)} - {"region"}
    assert set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M)) == fields


def test_every_smpp_setting_is_documented() -> None:
    section = DOC[DOC.index("## `smpp`") :]
    table = section[section.index("### Settings") :].split("\n\n", 2)[1]
    fields = {field.name for field in dataclasses.fields(SmppSettings)} - {"region"}
    assert set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M)) == fields


def test_every_modemmanager_setting_is_documented() -> None:
    section = DOC[DOC.index("## `modemmanager`") :]
    table = section[section.index("### Settings") :].split("\n\n", 2)[1]
    fields = {field.name for field in dataclasses.fields(MMSettings)} - {"region"}
    assert set(re.findall(r"^\| `([a-z_]+)` \|", table, re.M)) == fields
