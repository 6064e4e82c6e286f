"""``textport relay``: run a standalone relay (hosts and browsers connect to it)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from textport.cli.common import data_option, fail, setup_logging
from textport.errors import TextportError
from textport.host.identity import load_identity
from textport.host.web import add_client_routes
from textport.protocol import derive
from textport.relay.config import RelayConfig
from textport.relay.server import serve


@click.command()
@data_option
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8750, show_default=True, help="Port to listen on.")
@click.option(
    "--allow-origin",
    multiple=True,
    help="A browser Origin allowed to connect, e.g. https://texts.example (repeatable).",
)
@click.option(
    "--web",
    is_flag=True,
    help="Also serve the web client at / (only on a relay you run yourself: the page holds "
    "the keys). Its own http://127.0.0.1:PORT and http://localhost:PORT are allowed Origins; "
    "add --allow-origin for the address browsers use.",
)
@click.option(
    "--host-credential-hash",
    multiple=True,
    help="Hex SHA-256 credential hash of a host allowed to claim rooms (repeatable); "
    "by default, the host in --data.",
)
def relay(
    *,
    data: Path,
    bind: str,
    port: int,
    allow_origin: tuple[str, ...],
    web: bool,
    host_credential_hash: tuple[str, ...],
) -> None:
    """Run a relay: it routes encrypted frames and pairing channels, and sees no texts."""
    setup_logging()
    try:
        hashes = {bytes.fromhex(h) for h in host_credential_hash}
    except ValueError:
        fail("--host-credential-hash takes 64 hex digits")
    if not hashes:
        if not (data / "host.json").exists():
            fail(f"no host in {data}: give --host-credential-hash or --data of a host")
        hashes = {derive.credential_hash(load_identity(data).credential)}
    origins = set(allow_origin)
    if web:
        origins |= {f"http://127.0.0.1:{port}", f"http://localhost:{port}"}

    def listening(urls: Sequence[str]) -> None:
        click.echo(f"Relay: {' '.join(urls)}")
        if web:
            pages = (url.replace("ws://", "http://", 1).removesuffix("/v1") + "/" for url in urls)
            click.echo(f"Web client: {' '.join(pages)}")

    try:
        config = RelayConfig(
            host_credential_hashes=frozenset(hashes), allowed_origins=frozenset(origins)
        )
        serve(config, bind, port, listening=listening, setup=add_client_routes if web else None)
    except TextportError as exc:
        fail(exc.message)
    except KeyboardInterrupt:
        sys.exit(130)
