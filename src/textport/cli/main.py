"""``textport``: text from any browser through your own phone number."""

from __future__ import annotations

import click

from textport import __version__
from textport.cli.demo import demo
from textport.cli.devices import devices
from textport.cli.history import export_history_command, import_history
from textport.cli.host import host
from textport.cli.pair import pair
from textport.cli.relay import relay


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="textport")
def cli() -> None:
    """Text from any browser through your own phone number, end to end encrypted."""


cli.add_command(demo)
cli.add_command(host)
cli.add_command(pair)
cli.add_command(relay)
cli.add_command(devices)
cli.add_command(import_history)
cli.add_command(export_history_command)
