"""The host's local control socket, ``DATA/host.sock`` (mode 0600), for the CLI.

    POST /devices/sync   pick up devices paired or revoked by another process
    POST /pair/link      make a pairing link (the host waits in its channel)
    POST /store/changed  another process wrote to the store (an import): push the news

Only the user who owns the data folder can reach it; nothing here crosses a network.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from aiohttp import web

from textport.errors import ConfigError

SOCKET_NAME = "host.sock"


class ControlServer:
    def __init__(
        self,
        folder: Path,
        *,
        devices_changed: Callable[[], Awaitable[bool]],
        make_link: Callable[[], Awaitable[str]],
        store_changed: Callable[[], None],
    ) -> None:
        self._path = folder / SOCKET_NAME
        self._devices_changed = devices_changed
        self._make_link = make_link
        self._store_changed = store_changed
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/devices/sync", self._sync)
        app.router.add_post("/pair/link", self._link)
        app.router.add_post("/store/changed", self._changed)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        if self._path.exists():
            self._path.unlink()
        old = os.umask(0o177)
        try:
            await web.UnixSite(self._runner, str(self._path)).start()
        finally:
            os.umask(old)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._path.unlink(missing_ok=True)

    async def _sync(self, _request: web.Request) -> web.Response:
        return web.json_response({"relay_connected": await self._devices_changed()})

    async def _link(self, _request: web.Request) -> web.Response:
        return web.json_response({"link": await self._make_link()})

    async def _changed(self, _request: web.Request) -> web.Response:
        self._store_changed()
        return web.json_response({})


async def call(folder: Path, path: str) -> dict[str, object]:
    """POST to a running host's control socket; ConfigError when no host runs there."""
    sock = folder / SOCKET_NAME
    if not sock.exists():
        raise ConfigError(f"no textport host is running with --data {folder}")
    try:
        async with (
            aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=str(sock))) as http,
            http.post(f"http://host{path}") as response,
        ):
            response.raise_for_status()
            result: dict[str, object] = await response.json()
            return result
    except (aiohttp.ClientError, OSError) as exc:
        raise ConfigError(f"the host at {folder} did not answer: {exc}") from exc
