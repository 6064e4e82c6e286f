"""What every command shares: the --data option, logging, errors turned into exits."""

from __future__ import annotations

import asyncio
import functools
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
import platformdirs

from textport.errors import ErrorCode, TextportError

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_DATA = Path(platformdirs.user_data_dir("textport"))

data_option = click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DATA,
    show_default=True,
    help="The folder with this host's keys, settings and messages.",
)


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


async def until_signalled() -> None:
    """Return on the first SIGINT or SIGTERM (a clean stop follows)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


def fail(message: str) -> None:
    """Print an error for a person and exit 1."""
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def run(coro_fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    """Run an async command; a TextportError becomes a clear message and exit 1."""

    @functools.wraps(coro_fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return asyncio.run(coro_fn(*args, **kwargs))
        except TextportError as exc:
            suffix = "" if exc.code == ErrorCode.INTERNAL else f" [{exc.code}]"
            fail(f"{exc.message}{suffix}")
            raise AssertionError("unreachable") from exc
        except KeyboardInterrupt:
            sys.exit(130)

    return wrapper
