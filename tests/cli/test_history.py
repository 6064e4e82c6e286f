"""``textport import`` and ``textport export`` on real "SMS Backup & Restore" exports.

The sample files are real exports (tests/samples/sms-backup-restore/SOURCE.md); the
expected figures were counted by hand from the files, as each test's comment says.
"""

from __future__ import annotations

import base64
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from textport.cli.main import cli

SAMPLES = Path(__file__).parents[1] / "samples" / "sms-backup-restore"
TEXTPORT = Path(sys.executable).with_name("textport")
LAST_LINE = re.compile(r"^Imported (\d+) messages in (\d+) conversations \((\d+) attachments\)$")


def _import(data: Path, file: Path) -> tuple[list[str], tuple[int, int, int]]:
    result = CliRunner().invoke(cli, ["import", "--data", str(data), str(file)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    found = LAST_LINE.match(lines[-1])
    assert found is not None, lines
    return lines, (int(found[1]), int(found[2]), int(found[3]))


def _count(data: Path, sql: str) -> int:
    db = sqlite3.connect(data / "textport.db")
    try:
        return int(db.execute(sql).fetchone()[0])
    finally:
        db.close()


@pytest.mark.parametrize(
    ("name", "messages", "conversations", "participants", "attachments", "broken"),
    [
        # 5 <sms> and 2 <mms> text-only, with +15550000001 and +15550000002.
        ("sample_small.xml", 7, 2, 2, 0, 0),
        # 4 <mms> from +15550000003, each an image, video, audio or PDF part with data.
        ("sample_mms.xml", 4, 1, 1, 4, 0),
        # 2 <mms> from +15550000004 whose only non-text part is not base64.
        ("corrupt_attachments.xml", 2, 1, 1, 0, 2),
        ("empty.xml", 0, 0, 0, 0, 0),
        # 12 <sms> with +15550000001, +15550000003 and +15550000004.
        ("sms_small.xml", 12, 3, 3, 0, 0),
        # 41 <sms> (4 numbers) and 8 complete <mms>: +15550000006 alone, the RCS group
        # group_8@rcs.google.com whose <addr>s give +15550000006, 9 and 10 beside the
        # owner +15550000007, and +15550000011 with two PNG pictures. The ninth <mms> is
        # cut off by the end of the file.
        ("sms_and_mms.xml", 49, 7, 9, 2, 0),
    ],
)
def test_each_sample_imports_with_its_exact_counts(
    tmp_path: Path,
    name: str,
    messages: int,
    conversations: int,
    participants: int,
    attachments: int,
    broken: int,
) -> None:
    data = tmp_path / "data"
    lines, figures = _import(data, SAMPLES / name)
    assert figures == (messages, conversations, attachments)
    assert _count(data, "SELECT count(*) FROM messages") == messages
    assert _count(data, "SELECT count(*) FROM conversations") == conversations
    assert _count(data, "SELECT count(*) FROM participants") == participants
    assert _count(data, "SELECT count(*) FROM attachments WHERE sha256 IS NOT NULL") == attachments
    assert _count(data, "SELECT count(*) FROM attachments WHERE broken IS NOT NULL") == broken
    warnings = [line for line in lines if line.startswith("warning:")]
    if name == "sms_and_mms.xml":
        assert len(warnings) == 1
        assert "line 136" in warnings[0]
        assert "byte 26798" in warnings[0]
    else:
        assert warnings == []

    again, figures = _import(data, SAMPLES / name)
    assert figures == (0, 0, 0)
    assert _count(data, "SELECT count(*) FROM messages") == messages
    if messages:
        assert f"{messages} messages were already here and were skipped." in again


def test_the_group_chat_and_the_pictures_land_where_they_belong(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _import(data, SAMPLES / "sms_and_mms.xml")
    db = sqlite3.connect(data / "textport.db")
    peers = {row[0] for row in db.execute("SELECT peers FROM conversations")}
    assert "+15550000006,+15550000009,+15550000010" in peers
    assert not any("+15550000007" in p for p in peers), "the owner is not a participant"
    names = dict(db.execute("SELECT number, name FROM contacts").fetchall())
    assert names["+15550000001"] == "Contact A"
    pictures = db.execute(
        "SELECT a.content_type, a.size, a.sha256 FROM attachments a "
        "JOIN messages m ON m.id = a.msg_id JOIN conversations c ON c.id = m.conv "
        "WHERE c.peers = '+15550000011'"
    ).fetchall()
    assert [row[0] for row in pictures] == ["image/png", "image/png"]
    for _, size, digest in pictures:
        path = data / "attachments" / digest.hex()[:2] / digest.hex()
        assert path.stat().st_size == size
        assert path.read_bytes().startswith(b"\x89PNG")


def test_export_then_import_round_trips(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for name in ("sms_and_mms.xml", "sample_mms.xml", "corrupt_attachments.xml"):
        _import(first, SAMPLES / name)
    exported = tmp_path / "export.xml"
    result = CliRunner().invoke(cli, ["export", "--data", str(first), str(exported)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"Exported 55 messages to {exported}"

    _, figures = _import(second, exported)
    # sample_mms.xml's and corrupt_attachments.xml's numbers also text in sms_and_mms.xml.
    assert figures == (55, 7, 6)
    query = (
        "SELECT c.peers, m.dir, m.sender, m.body, m.at, m.state, m.kind, "
        "group_concat(a.content_type || ':' || coalesce(hex(a.sha256), a.broken), '|') "
        "FROM messages m JOIN conversations c ON c.id = m.conv "
        "LEFT JOIN attachments a ON a.msg_id = m.id GROUP BY m.id ORDER BY m.sort_key"
    )
    one = sqlite3.connect(first / "textport.db").execute(query).fetchall()
    two = sqlite3.connect(second / "textport.db").execute(query).fetchall()
    assert one == two
    # And importing the export back where it came from adds nothing.
    _, figures = _import(first, exported)
    assert figures == (0, 0, 0)


def test_a_file_that_is_not_a_backup_is_refused_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "photo.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not xml at all")
    result = CliRunner().invoke(cli, ["import", "--data", str(tmp_path / "d"), str(bad)])
    assert result.exit_code == 1
    assert result.output.startswith("error: ")
    assert "[bad_file]" in result.output
    region = CliRunner().invoke(
        cli, ["import", "--data", str(tmp_path / "d"), "--region", "XX", str(bad)]
    )
    assert region.exit_code != 0
    assert "XX" in region.output


def _high_water(pid: int) -> int:
    """A running process's peak resident set (VmHWM), in bytes; 0 once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) * 1024 if found else 0


def test_a_1_gb_backup_imports_in_bounded_memory(tmp_path: Path) -> None:
    """1 GiB of real-format XML (MMS with 1 MiB pictures, and SMS) through the real CLI
    process; its peak RSS (VmHWM, read from /proc while it runs) must stay far below the
    file's size."""
    picture = base64.b64encode(b"\x89PNG\r\n\x1a\n" + os.urandom(768 * 1024)).decode()
    big = tmp_path / "big.xml"
    mms = 0
    with big.open("w") as out:
        out.write("<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n<smses>\n")
        while out.tell() < 1 << 30:
            mms += 1
            out.write(
                f'<mms date="{1_600_000_000_000 + mms * 1000}" msg_box="1" '
                f'address="+1555000{mms % 50:04d}" read="1"><parts>'
                f'<part seq="0" ct="image/png" name="p.png" data="{picture}" />'
                f'<part seq="0" ct="text/plain" text="picture {mms}" /></parts></mms>\n'
            )
            for i in range(20):
                out.write(
                    f'<sms address="+1555000{i:04d}" date="{1_600_000_000_000 + mms * 1000 + i}"'
                    f' type="{1 + i % 2}" body="text {mms}.{i} &#55357;&#56832;" read="1" />\n'
                )
        out.write("</smses>\n")
    size = big.stat().st_size

    log = tmp_path / "import.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(TEXTPORT), "import", "--data", str(tmp_path / "d"), str(big)], stdout=out
        )
        # Its own high-water mark, read while it runs: wait4's ru_maxrss would also
        # count the pages of this test process that the child started out sharing.
        peak = 0
        while process.poll() is None:
            peak = max(peak, _high_water(process.pid))
            time.sleep(0.02)
    output = log.read_text()
    assert process.returncode == 0, output
    assert output.splitlines()[-1] == (
        f"Imported {mms * 21} messages in 50 conversations ({mms} attachments)"
    )
    assert peak > 10 << 20, "the importer's memory was read"
    assert peak < 150 << 20, f"peak RSS {peak >> 20} MiB for a {size >> 20} MiB file"
    db = sqlite3.connect(tmp_path / "d" / "textport.db")
    assert db.execute("SELECT body FROM messages WHERE body = 'text 7.3 😀'").fetchone()
    # One picture, stored once however many messages carry it.
    assert len(list((tmp_path / "d" / "attachments").rglob("*"))) == 2  # its folder and file
