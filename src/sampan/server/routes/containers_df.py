"""`GET /system/df`: the image service's part and the containers' part side by side."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from sampan.server.request import Request
from sampan.server.response import Reply, Response
from sampan.server.router import Router


class ImageUsage(Protocol):
    def disk_usage(self) -> Any: ...


class ContainerUsage(Protocol):
    def list_containers(self, *, all: bool = False, limit: int = -1, size: bool = False,
                        filters: dict[str, list[str]] | None = None) -> list[dict[str, Any]]: ...


def add_routes(router: Router, images: ImageUsage, containers: ContainerUsage) -> None:
    async def df(req: Request) -> Reply:
        image_part = await asyncio.to_thread(images.disk_usage)
        body: dict[str, Any] = dict(image_part.to_json()) if hasattr(image_part, "to_json") else dict(image_part)
        listed = await asyncio.to_thread(containers.list_containers, all=True, size=True)
        counts: dict[str, int] = {}
        for c in listed:
            counts[c["ImageID"]] = counts.get(c["ImageID"], 0) + 1
        for image in body.get("Images") or []:
            image["Containers"] = counts.get(image.get("Id", ""), 0)
        body["Containers"] = listed
        body.setdefault("Volumes", [])
        body.setdefault("BuildCache", [])
        return Response.json(body)

    router.get("/system/df", df)
