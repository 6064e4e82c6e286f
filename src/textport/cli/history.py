"""``textport import`` and ``textport export``: history in "SMS Backup & Restore" XML."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

import click

from textport.cli.common import data_option, fail, run
from textport.errors import ConfigError
from textport.host import control
from textport.store.attachments import AttachmentFiles
from textport.store.backup.reader import BackupReader
from textport.store.backup.writer import write_backup
from textport.store.db import connect
from textport.store.history import HistoryImport, export_history
from textport.store.store import Store

region_option = click.option(
    "--region",
    default="US",
    show_default=True,
    help="Country (ISO 3166 code) of numbers written without one, e.g. GB for 07700 900123.",
)


def _store(data: Path) -> tuple[Store, AttachmentFiles]:
    return Store(connect(data / "textport.db"), time.time), AttachmentFiles(data / "attachments")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@data_option
@region_option
@run
async def import_history(file: Path, data: Path, region: str) -> None:
    """Import FILE, an "SMS Backup & Restore" XML export (SMS, MMS, group chats).

    Importing the same file again adds nothing. A truncated or damaged file keeps every
    complete message before the damage, and says where it stops.
    """
    store, files = _store(data)
    size = os.path.getsize(file)
    with file.open("rb") as raw:
        reader = BackupReader(raw, region=region)
        # A progress bar for people on a terminal; none in logs and pipes.
        bar = (
            click.progressbar(length=size, label="Importing", file=sys.stderr)
            if sys.stderr.isatty()
            else None
        )
        shown = 0

        def progress(_count: int) -> None:
            nonlocal shown
            if bar is not None:
                bar.update(raw.tell() - shown)
                shown = raw.tell()

        try:
            result = HistoryImport(store, files, progress=progress).run(reader.messages())
        finally:
            if bar is not None:
                bar.render_finish()
    store.db.close()
    found = result.messages + result.duplicates + reader.skipped
    if result.duplicates:
        click.echo(f"{result.duplicates} messages were already here and were skipped.")
    if reader.skipped:
        reasons = ", ".join(f"{count} {why}" for why, count in sorted(reader.skip_reasons.items()))
        click.echo(f"{reader.skipped} entries were not imported: {reasons}.")
    if result.broken:
        click.echo(
            f"{result.broken} attachments could not be read from the file; their messages "
            "were kept and show them as missing."
        )
    if reader.damage is not None:
        click.echo(f"warning: {file.name}: {reader.damage.message}")
    elif reader.declared is not None and reader.declared != found:
        click.echo(
            f"warning: the file says it holds {reader.declared} messages, but {found} were found."
        )
    click.echo(
        f"Imported {result.messages} messages in {len(result.conversations)} conversations "
        f"({result.attachments} attachments)"
    )
    with contextlib.suppress(ConfigError):  # No host runs: browsers see it when one does.
        await control.call(data, "/store/changed")


@click.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@data_option
@run
async def export_history_command(file: Path, data: Path) -> None:
    """Write every message to FILE as an "SMS Backup & Restore" XML export."""
    if not (data / "textport.db").exists():
        fail(f"no messages in {data}: nothing to export")
    store, files = _store(data)
    count = store.db.execute("SELECT count(*) FROM messages").fetchone()[0]
    temporary = file.with_name(file.name + ".part")
    with temporary.open("wb") as out:
        written = write_backup(export_history(store, files), out, count=count)
    temporary.replace(file)
    store.db.close()
    click.echo(f"Exported {written} messages to {file}")
