"""``textport devices``: list paired browsers and API clients; revoke one."""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import click

from textport.cli.common import data_option, fail, run
from textport.errors import ConfigError
from textport.host import control
from textport.store.db import connect
from textport.store.store import Device, Store


def _when(ms: int | None) -> str:
    if ms is None:
        return "never"
    return datetime.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def _store(data: Path) -> Store:
    if not (data / "textport.db").exists():
        fail(f"no textport host in {data}; run `textport demo` or `textport host` first")
    return Store(connect(data / "textport.db"), time.time)


@click.group(invoke_without_command=True)
@data_option
@click.pass_context
def devices(ctx: click.Context, data: Path) -> None:
    """List the paired devices (or revoke one: `textport devices revoke ID`)."""
    ctx.obj = data
    if ctx.invoked_subcommand is not None:
        return
    found = _store(data).devices()
    if not found:
        click.echo("No paired devices. Pair one with `textport pair`.")
        return
    click.echo(f"{'ID':10} {'NAME':28} {'PAIRED':17} {'LAST SEEN':17} STATUS")
    for device in found:
        click.echo(
            f"{device.id.hex()[:8]:10} {click.unstyle(device.name)[:28]:28} "
            f"{_when(device.created_at):17} {_when(device.last_seen_at):17} {_status(device)}"
        )


_WHY = {"user": "unpaired", "idle": "idle too long", "session": "its session ended"}


def _status(device: Device) -> str:
    """``active``, ``session only, active`` or ``revoked (idle too long)``."""
    if device.status == "revoked":
        return f"revoked ({_WHY[device.revoked_by]})" if device.revoked_by else "revoked"
    return "session only, active" if device.session_only else "active"


@devices.command()
@click.argument("device_id")
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The host's data folder (default: the one given to `devices`).",
)
@click.pass_context
def revoke(ctx: click.Context, device_id: str, data: Path | None) -> None:
    """Unpair the device whose ID starts with DEVICE_ID."""
    _revoke(data or ctx.obj, device_id)


@run
async def _revoke(folder: Path, device_id: str) -> None:
    store = _store(folder)
    matches = [d for d in store.devices() if d.id.hex().startswith(device_id.lower())]
    if len(matches) != 1:
        fail(
            f"{len(matches)} devices match {device_id!r}; "
            "give more of the ID shown by `textport devices`"
        )
    device = matches[0]
    if not store.revoke(device.id):
        fail(f"{device.name} is already revoked")
    try:
        await control.call(folder, "/devices/sync")
        click.echo(f"Revoked {device.name}; it has been disconnected.")
    except ConfigError:
        click.echo(f"Revoked {device.name}. The host is not running; it will refuse the device.")
