"""POST /containers/{id}/update: resources and restart policy of a container.

The body is the Engine API's ContainerUpdate (Resources fields plus RestartPolicy); the answer
is `{"Warnings": [...]}`.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from sampan.errdefs import InvalidArgument
from sampan.server.request import Request
from sampan.server.response import Reply, Response
from sampan.server.router import Router


class UpdateBackend(Protocol):
    def update(self, ref: str, body: dict[str, Any]) -> Any: ...


def add_routes(router: Router, containers: Any) -> None:
    """Register the update route (`containers` is the container service, an UpdateBackend)."""
    backend: UpdateBackend = containers

    async def update(req: Request) -> Reply:
        body = await req.json()
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise InvalidArgument("invalid JSON: the update body must be an object")
        result = await asyncio.to_thread(backend.update, req.params["id"], body)
        to_json = getattr(result, "to_json", None)
        return Response.json(to_json() if callable(to_json) else result)

    router.post("/containers/{id}/update", update)
