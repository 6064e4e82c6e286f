"""``textport demo`` with a real transport: host, embedded relay and web client on one
port, the SMS source named on the command line and configured by a config file. For
the browser tests: :func:`running` starts ``python -m tests.transports.transport_demo
NAME DATA PORT CONFIG``, which prints ``Open: LINK`` and stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from aiohttp import web

from textport.cli.common import until_signalled
from textport.host.daemon import Host, HostSettings
from textport.host.web import add_client_routes
from textport.protocol import derive
from textport.relay.config import RelayConfig
from textport.relay.server import Relay
from textport.transports import config


async def main(transport: str, data: Path, port: int, config_file: Path) -> None:
    origin = f"http://127.0.0.1:{port}"
    relay_url = f"ws://127.0.0.1:{port}/v1"
    host = Host(
        HostSettings(
            data=data,
            relay=relay_url,
            web_url=f"{origin}/",
            seed=False,
            transport=transport,
            config=config.load(config_file),
        )
    )
    app = web.Application()
    Relay(
        RelayConfig(
            host_credential_hashes=frozenset({derive.credential_hash(host.identity.credential)}),
            allowed_origins=frozenset({origin}),
        )
    ).add_routes(app, "/v1")
    add_client_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await host.start()
    try:
        print(f"Open: {await host.make_link()}", flush=True)
        await until_signalled()
    finally:
        await host.stop()
        await runner.cleanup()


@contextlib.contextmanager
def running(transport: str, data: Path, port: int, config_file: Path) -> Iterator[str]:
    """Run the demo in a process of its own; yield the link that pairs a browser."""
    process = subprocess.Popen(
        [sys.executable, "-m", __spec__.name, transport, str(data), str(port), str(config_file)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.match(r"^Open: (\S+)$", line.strip())
        assert match, f"no Open: link, got {line!r}"
        yield match.group(1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])))
