"""``textport host``: run the host daemon beside an SMS source, connected to a relay."""

from __future__ import annotations

from pathlib import Path

import click

from textport.cli.common import data_option, run, setup_logging, until_signalled
from textport.host.daemon import Host, HostSettings
from textport.transports import config


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
@click.option(
    "--web-url",
    help="Where browsers open the web client, e.g. http://127.0.0.1:8750/ for "
    "`textport relay --web`: `textport pair --link` prints links to it.",
)
@click.option(
    "--transport",
    type=click.Choice(config.TRANSPORTS),
    default="sim",
    show_default=True,
    help="The SMS source (docs/transports.md).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A TOML file with the transport's settings, e.g. [gammu] device (docs/transports.md).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
@run
async def host(
    *,
    data: Path,
    relay: str | None,
    web_url: str | None,
    transport: str,
    config_file: Path | None,
    verbose: bool,
) -> None:
    """Run the host: store, outbox, the SMS source and the connection to the relay."""
    setup_logging(verbose)
    settings = config.load(config_file)
    await serve_until_stopped(
        Host(
            HostSettings(
                data=data,
                relay=relay,
                web_url=web_url,
                seed=False,
                transport=transport,
                config=settings,
                text_ttl=settings.text_ttl,
            )
        )
    )
