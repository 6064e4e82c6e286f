"""Serving the web client from the host (the demo's single port), with a strict CSP.

The client is built by ``npm run build`` into ``src/textport/web/dist``. A relay you
do not run must never serve it (it could take the keys), so the host serves it itself,
from this package, with no third-party origin allowed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from textport.errors import ConfigError

DIST = Path(__file__).resolve().parents[1] / "web" / "dist"


def content_security_policy(relay_origin: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"connect-src 'self' {relay_origin}",
            "img-src 'self' data: blob:",
            "style-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'none'",
        )
    )


def add_client_routes(app: web.Application, relay_origin: str, dist: Path = DIST) -> None:
    """Serve the built client at ``/`` with security headers."""
    index = dist / "index.html"
    if not index.exists():
        raise ConfigError(
            f"the web client is not built ({index} is missing): run scripts/setup, "
            "or `npm run build` in web/"
        )
    policy = content_security_policy(relay_origin)

    @web.middleware
    async def headers(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        if not isinstance(response, web.WebSocketResponse):
            response.headers["Content-Security-Policy"] = policy
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Cache-Control"] = "no-cache"
        return response

    async def root(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(index)

    app.middlewares.append(headers)
    app.router.add_get("/", root)
    app.router.add_static("/", dist, show_index=False, follow_symlinks=False)
