"""``textport pair``: pair a browser or API client with this host."""

from __future__ import annotations

import time
from pathlib import Path

import click

from textport.cli.common import data_option, fail, run
from textport.errors import ConfigError
from textport.host import control, pairing
from textport.host.identity import load_identity
from textport.protocol import derive
from textport.protocol.pairing import PairingOffer, normalize_code
from textport.store.db import connect
from textport.store.store import Store


@click.command()
@click.argument("code", required=False)
@data_option
@click.option("--link", is_flag=True, help="Print a pairing link to open in the browser instead.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (scripts, tests).")
@run
async def pair(code: str | None, data: Path, link: bool, yes: bool) -> None:
    """Pair the browser that shows CODE: its pairing text (textport-pair:…) or typed code.

    Open the web client, copy the text under its QR code (or its 8-character code) and
    pass it here; check that both sides show the same code, and confirm.
    """
    if link:
        made = await control.call(data, "/pair/link")
        click.echo(f"Open: {made['link']}")
        return
    if not code:
        fail("give the code the browser shows, or --link for a link to open")
        return
    if not (data / "host.json").exists():
        fail(f"no textport host in {data}; run `textport demo` or `textport host` first")
    identity = load_identity(data)
    store = Store(connect(data / "textport.db"), time.time)
    offer = None
    if "textport-pair:" in code:
        offer = PairingOffer.parse(code, now=time.time(), allowed_relays=[identity.relay])
    else:
        normalize_code(code)  # a mistyped code is refused before anything else happens

    async def confirm(request: pairing.Request) -> bool:
        name = click.unstyle(request.device_name)
        click.echo(f"\n“{name}” wants to pair with {identity.name}.")
        click.echo(f"Code: {request.code}  (the browser shows it too)")
        if request.session_only:
            click.echo("It asks to be paired for this browser session only.")
        return yes or click.confirm("Do the codes match, and do you want to pair it?")

    async def register(request: pairing.Request, token_hash: bytes) -> None:
        store.add_device(
            derive.device_id(request.device_public),
            request.device_public,
            request.device_name,
            request.agent,
            token_hash,
            session_only=request.session_only,
        )
        try:
            await control.call(data, "/devices/sync")
        except ConfigError:
            click.echo("warning: the host is not running; the browser connects once it is.")

    click.echo("Waiting for the browser…")
    paired = await pairing.pair(
        identity,
        confirm=confirm,
        register=register,
        offer=offer,
        code=None if offer is not None else code,
    )
    click.echo(f"Paired {click.unstyle(paired.name)} ({paired.device_id.hex()[:8]}).")
