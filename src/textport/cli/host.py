"""``textport host``: run the host daemon beside an SMS source, connected to a relay."""

from __future__ import annotations

from pathlib import Path

import click

from textport.cli.common import data_option, run, setup_logging, until_signalled
from textport.host.daemon import Host, HostSettings


async def serve_until_stopped(host: Host) -> None:
    """Start ``host`` and run until SIGINT or SIGTERM, then stop it cleanly."""
    await host.start()
    try:
        await until_signalled()
    finally:
        await host.stop()


@click.command()
@data_option
@click.option("--relay", help="The relay's URL, e.g. wss://relay.example/v1 (kept for next time).")
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
@run
async def host(data: Path, relay: str | None, verbose: bool) -> None:
    """Run the host: store, outbox and the connection to the relay (sim carrier)."""
    setup_logging(verbose)
    await serve_until_stopped(Host(HostSettings(data=data, relay=relay, seed=False)))
