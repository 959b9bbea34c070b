"""System routes: `/_ping`, `/version`, `/info`."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from sampan.server.request import Request
from sampan.server.response import Response
from sampan.server.router import Router

PING_HEADERS = {
    "Builder-Version": "1",
    "Swarm": "inactive",
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
}


class SystemBackend(Protocol):
    def version(self) -> dict[str, Any]: ...

    def info(self) -> dict[str, Any]: ...


def add_routes(router: Router, backend: SystemBackend) -> None:
    async def ping(req: Request) -> Response:
        # Api-Version (the negotiation header) is on every response; see server/http.py.
        body = b"" if req.method == "HEAD" else b"OK"
        return Response(200, body, "text/plain; charset=utf-8", dict(PING_HEADERS))

    async def version(req: Request) -> Response:
        return Response.json(backend.version())

    async def info(req: Request) -> Response:
        return Response.json(await asyncio.to_thread(backend.info))

    router.get("/_ping", ping)
    router.head("/_ping", ping)
    router.get("/version", version)
    router.get("/info", info)
