"""Serving the web client from the host (the demo's single port), with a strict CSP.

The client is built by ``npm run build`` into ``src/textport/web/dist``. A relay you
do not run must never serve it (it could take the keys), so the host serves it itself,
from this package, with no third-party origin allowed for its code.

The client is also an installable app: ``manifest.webmanifest`` and ``sw.js``, the
service worker that pins its code version (web/pwa/), are served at the root with
their own content types, the worker with ``Service-Worker-Allowed: /``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from textport.errors import ConfigError

DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
SERVICE_WORKER = "sw.js"
MANIFEST = "manifest.webmanifest"


def content_security_policy() -> str:
    """Scripts, styles and images from this host only. WebSockets may go to any relay:
    one browser can be paired with several hosts, each behind its own relay
    (web/src/client/hosts.ts), and a relay only ever carries Noise ciphertext."""
    return "; ".join(
        (
            "default-src 'self'",
            "connect-src 'self' ws: wss:",
            "img-src 'self' data: blob:",
            "style-src 'self'",
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'none'",
        )
    )


def add_client_routes(app: web.Application, dist: Path = DIST) -> None:
    """Serve the built client at ``/`` with security headers."""
    index = dist / "index.html"
    if not index.exists():
        raise ConfigError(
            f"the web client is not built ({index} is missing): run scripts/setup, "
            "or `npm run build` in web/"
        )
    policy = content_security_policy()

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

    def file(
        path: Path, headers: dict[str, str]
    ) -> Callable[[web.Request], Awaitable[web.FileResponse]]:
        async def serve(_request: web.Request) -> web.FileResponse:
            return web.FileResponse(path, headers=headers)

        return serve

    app.middlewares.append(headers)
    app.router.add_get("/", root)
    worker, manifest = dist / SERVICE_WORKER, dist / MANIFEST
    if worker.exists():
        worker_headers = {
            "Content-Type": "text/javascript; charset=utf-8",
            "Service-Worker-Allowed": "/",
        }
        app.router.add_get(f"/{SERVICE_WORKER}", file(worker, worker_headers))
    if manifest.exists():
        manifest_headers = {"Content-Type": "application/manifest+json"}
        app.router.add_get(f"/{MANIFEST}", file(manifest, manifest_headers))
    app.router.add_static("/", dist, show_index=False, follow_symlinks=False)
