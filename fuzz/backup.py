"""atheris fuzz target: the "SMS Backup & Restore" reader raises only BackupError.

Run: ``python fuzz/backup.py -max_total_time=60 CORPUS_DIR`` (the test command runs it
for a bounded time). An empty corpus folder is first seeded with the small sample
backups and the parts of the big one that they lack. The first input byte picks the
reader's chunk size, so surrogate references and tokens straddle chunk boundaries; every
record it yields must hold what the store relies on.
"""

from __future__ import annotations

import io
from pathlib import Path

import atheris
import phonenumbers  # noqa: F401 - not ours: imported before instrumenting, it runs at full speed

import runner

with atheris.instrument_imports():
    from textport.errors import BackupError, ErrorCode, ProtocolError
    from textport.store.backup.reader import BackupReader

RCS_BACKUP = b"""<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>
<smses count="3">
<sms address="(555) 010-0100" date="1" type="2" status="64" body="&#55357;&#56832;&#xD83D;" />
<mms date="2" date_sent="1" msg_box="2" address="group_8@rcs.google.com"><parts>
<part seq="-1" ct="application/smil" text="&lt;smil/&gt;" /><part ct="text/plain" text="a&#10;b" />
<part ct="image/png" name="p.png" data="iVBORw0KGgo=" /><part ct="image/png" data="null" /></parts>
<addrs><addr address="+15550000007" type="137" /><addr address="+15550000009" type="151" />
<addr address="+15550000006" type="151" /></addrs></mms>
<mms date="3" msg_box="1" address="+15550000009~+15550000007~Google"><parts>
<part ct="text/plain" data="aGk=" chset="106" /></parts><addrs>
<addr address="+15550000009" type="137" /><addr address="insert-address-token" type="151" />
</addrs></mms>
</smses>
"""


def test_one_input(data: bytes) -> None:
    if not data:
        return
    # Tiny chunks cost a feed each: only small inputs get them, so big ones stay fast.
    chunk = 1 + data[0] % 64 if len(data) <= 512 else 1024 + 64 * data[0]
    reader = BackupReader(io.BytesIO(data[1:]), chunk_size=chunk, max_attachment=4096)
    try:
        for message in reader.messages():
            if not message.peers or list(message.peers) != sorted(set(message.peers)):
                raise AssertionError(f"peers not sorted and unique: {message.peers!r}")
            if any("," in peer or "~" in peer for peer in message.peers):
                raise AssertionError(f"a separator in a peer: {message.peers!r}")
            if message.sender not in (*message.peers, ""):
                raise AssertionError("the sender is not one of the peers")
            if any(a.data is None and not a.broken for a in message.attachments):
                raise AssertionError("an attachment without data says nothing about why")
    except BackupError as exc:
        if exc.code is not ErrorCode.BAD_FILE:
            raise
        return
    except ProtocolError as exc:
        raise AssertionError("the backup reader may raise only BackupError") from exc
    if reader.damage is not None and not 0 <= reader.damage.offset <= len(data):
        raise AssertionError(f"damage outside the file: {reader.damage!r}")


def seeds() -> list[bytes]:
    """The small sample backups (a big seed makes every input as long, and slow) and the
    parts of the big one that the small ones lack: RCS groups, surrogate references."""
    samples = Path(__file__).parents[1] / "tests" / "samples" / "sms-backup-restore"
    inputs = [
        bytes([index * 7]) + sample.read_bytes()
        for index, sample in enumerate(sorted(samples.glob("*.xml")))
        if sample.stat().st_size <= 4096
    ]
    inputs.append(bytes([3]) + RCS_BACKUP)
    return inputs


if __name__ == "__main__":
    runner.run(test_one_input, seeds)
