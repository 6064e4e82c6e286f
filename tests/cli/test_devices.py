"""``textport devices``: the listing says which pairings are session-only and why a
device was unpaired (by someone, idle too long, or its browser session ended)."""

from __future__ import annotations

import time
from pathlib import Path

from click.testing import CliRunner

from textport.cli.main import cli
from textport.store.db import connect
from textport.store.store import Store


def test_the_listing_says_session_only_and_why_a_device_was_unpaired(tmp_path: Path) -> None:
    store = Store(connect(tmp_path / "textport.db"), time.time)
    for n, name in enumerate(["Kept", "Browser session", "Idle laptop", "Gone tab", "Unpaired"]):
        store.add_device(
            bytes([n]) * 16,
            bytes([n]) * 32,
            name,
            "ua",
            bytes([n + 100]) * 32,
            session_only=name == "Browser session" or name == "Gone tab",
        )
    store.revoke(bytes([2]) * 16, "idle")
    store.revoke(bytes([3]) * 16, "session")
    store.revoke(bytes([4]) * 16)
    store.db.close()

    result = CliRunner().invoke(cli, ["devices", "--data", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = {line.split()[1]: line for line in result.output.splitlines()[1:]}
    assert rows["Kept"].endswith(" active")
    assert rows["Browser"].endswith(" session only, active")
    assert rows["Idle"].endswith(" revoked (idle too long)")
    assert rows["Gone"].endswith(" revoked (its session ended)")
    assert rows["Unpaired"].endswith(" revoked (unpaired)")
