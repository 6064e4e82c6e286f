"""``textport demo``: host, embedded relay, web client and simulated carrier, one port."""

from __future__ import annotations

import webbrowser
from pathlib import Path

import click
from aiohttp import web

from textport.cli.common import data_option, run, setup_logging, until_signalled
from textport.host.daemon import Host, HostSettings
from textport.host.web import add_client_routes
from textport.protocol import derive
from textport.relay.config import RelayConfig
from textport.relay.server import Relay
from textport.transports import config
from textport.transports.sim import SimSettings

DEFAULT_PORT = 8750


@click.command()
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Port on 127.0.0.1.")
@data_option
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A TOML config file; its [host] table applies (docs/transports.md).",
)
@click.option(
    "--allow-origin",
    multiple=True,
    help="Another browser Origin its relay accepts, e.g. the page of another textport "
    "this browser is paired with (repeatable).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
@run
async def demo(
    *,
    port: int,
    data: Path,
    no_browser: bool,
    config_file: Path | None,
    allow_origin: tuple[str, ...],
    verbose: bool,
) -> None:
    """Run everything on 127.0.0.1 with the simulated carrier and print a pairing link."""
    setup_logging(verbose)
    settings = config.load(config_file)
    origin = f"http://127.0.0.1:{port}"
    relay_url = f"ws://127.0.0.1:{port}/v1"
    host = Host(
        HostSettings(
            data=data,
            relay=relay_url,
            web_url=f"{origin}/",
            sim=SimSettings(chatty_every=120.0),
            text_ttl=settings.text_ttl,
            config=settings,
        )
    )
    app = web.Application()
    Relay(
        RelayConfig(
            host_credential_hashes=frozenset({derive.credential_hash(host.identity.credential)}),
            allowed_origins=frozenset({origin, *allow_origin}),
        )
    ).add_routes(app, "/v1")
    add_client_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await host.start()
    try:
        link = await host.make_link()
        click.echo(f"Open: {link}")
        click.echo(
            f"Or open {origin}/ and pair with the code it shows:\n"
            f"  textport pair --data {data} 'CODE'"
        )
        click.echo(f"Data: {data}   Stop with Ctrl-C.")
        if not no_browser:
            webbrowser.open(link)
        await until_signalled()
    finally:
        await host.stop()
        await runner.cleanup()
