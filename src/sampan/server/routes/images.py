"""Image routes: pull, list, inspect, history, tag, delete, prune.

Handlers parse the query the way dockerd does and hand the work to an `ImageBackend` (the
daemon's image service) in a worker thread, since its methods block on disk and network.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

from sampan.api.progress import JSONMessage
from sampan.digest import is_digest
from sampan.errdefs import InvalidArgument, NotImplementedFeature
from sampan.oci.image import Platform
from sampan.oci.reference import Reference, parse_normalized_named
from sampan.server.request import Request
from sampan.server.response import Reply, Response
from sampan.server.router import Router
from sampan.server.streaming import progress_stream

log = logging.getLogger(__name__)


class WireType(Protocol):
    def to_json(self) -> dict[str, Any]: ...


class ImageBackend(Protocol):
    """The image service's methods the HTTP edge needs (docs/architecture.md)."""

    def pull(self, ref: str, *, platform: str | None, auth: Any,
             progress: Callable[[JSONMessage], None]) -> None: ...

    def list_images(self, *, all: bool = False, filters: dict[str, list[str]] | None = None,
                    digests: bool = False) -> list[Any]: ...

    def inspect_image(self, name: str) -> Any: ...

    def image_history(self, name: str) -> list[Any]: ...

    def tag_image(self, name: str, repo: str, tag: str) -> None: ...

    def delete_image(self, name: str, *, force: bool = False, noprune: bool = False) -> list[Any]: ...

    def prune_images(self, filters: dict[str, list[str]] | None = None) -> Any: ...


def wire(value: Any) -> Any:
    """A backend object in its Engine API JSON shape."""
    to_json = getattr(value, "to_json", None)
    return to_json() if callable(to_json) else value


def pull_reference(image: str, tag: str) -> str:
    """`fromImage` + `tag` as dockerd combines them: the tag param wins, and may be a digest."""
    ref = parse_normalized_named(image.removesuffix(":"))
    if tag:
        ref = Reference(ref.domain, ref.path, None, tag) if is_digest(tag) else ref.with_tag(tag)
    return str(ref)


def decode_auth(header: str) -> Any:
    """X-Registry-Auth -> AuthConfig (or None when absent).

    Like dockerd, an undecodable header counts as no credentials: old clients send junk
    there, and a pull of a public image must still work.
    """
    if not header.strip():
        return None
    try:
        from sampan.distribution.auth import AuthConfig
    except ImportError:  # the registry client is not installed in this build
        log.warning("ignoring X-Registry-Auth: sampan.distribution.auth is unavailable")
        return None
    try:
        return AuthConfig.from_header(header)
    except InvalidArgument as exc:
        log.info("ignoring undecodable X-Registry-Auth header: %s", exc)
        return None


def summary_for_version(summary: dict[str, Any], req: Request) -> dict[str, Any]:
    """Older clients get the list shape of their API version (what dockerd does for them)."""
    if req.version_before("1.43"):
        if not summary.get("RepoTags") and not summary.get("RepoDigests"):
            summary["RepoTags"] = ["<none>:<none>"]
            summary["RepoDigests"] = ["<none>@<none>"]
    else:
        summary["RepoTags"] = summary.get("RepoTags") or []
        summary["RepoDigests"] = summary.get("RepoDigests") or []
    if req.version_before("1.44"):
        summary["VirtualSize"] = summary.get("Size", 0)
    return summary


def inspect_for_version(inspect: dict[str, Any], req: Request) -> dict[str, Any]:
    if req.version_before("1.44"):
        inspect["VirtualSize"] = inspect.get("Size", 0)
    return inspect


def _image_name(req: Request) -> str:
    name = req.params.get("name", "")
    if not name.strip():
        raise InvalidArgument("image name cannot be blank")
    return name


def add_routes(router: Router, backend: ImageBackend) -> None:
    async def create(req: Request) -> Reply:
        if req.query_value("fromSrc"):
            raise NotImplementedFeature("image import (fromSrc) is not implemented by sampan yet")
        image = req.query_value("fromImage")
        if not image:
            raise InvalidArgument("fromImage or fromSrc is required")
        ref = pull_reference(image, req.query_value("tag"))
        platform = None if req.version_before("1.32") else (req.query_value("platform").strip() or None)
        if platform:
            Platform.parse(platform)  # reject a malformed platform before any work
        auth = decode_auth(req.header("X-Registry-Auth"))
        return await progress_stream(
            lambda emit: backend.pull(ref, platform=platform, auth=auth, progress=emit)
        )

    async def list_images(req: Request) -> Reply:
        filters = req.query_filters()
        legacy = req.query_value("filter")
        if legacy and req.version_before("1.41"):
            filters.setdefault("reference", []).append(legacy)
        images = await asyncio.to_thread(
            backend.list_images,
            all=req.query_bool("all"), filters=filters, digests=req.query_bool("digests"),
        )
        return Response.json([summary_for_version(wire(i), req) for i in images])

    async def inspect(req: Request) -> Reply:
        image = await asyncio.to_thread(backend.inspect_image, _image_name(req))
        return Response.json(inspect_for_version(wire(image), req))

    async def history(req: Request) -> Reply:
        items = await asyncio.to_thread(backend.image_history, _image_name(req))
        return Response.json([wire(i) for i in items])

    async def tag(req: Request) -> Reply:
        await asyncio.to_thread(
            backend.tag_image, _image_name(req), req.query_value("repo"), req.query_value("tag")
        )
        return Response(201)

    async def delete(req: Request) -> Reply:
        items = await asyncio.to_thread(
            backend.delete_image, _image_name(req),
            force=req.query_bool("force"), noprune=req.query_bool("noprune"),
        )
        return Response.json([wire(i) for i in items])

    async def prune(req: Request) -> Reply:
        return Response.json(wire(await asyncio.to_thread(backend.prune_images, req.query_filters())))

    async def not_implemented(req: Request) -> Reply:
        raise NotImplementedFeature(f"{req.method} {req.path} is not implemented by sampan yet")

    router.post("/images/create", create)
    router.get("/images/json", list_images)
    router.post("/images/prune", prune)
    router.get("/images/search", not_implemented)
    router.get("/images/get", not_implemented)
    router.post("/images/load", not_implemented)
    router.get("/images/{name}/json", inspect)
    router.get("/images/{name}/history", history)
    router.get("/images/{name}/get", not_implemented)
    router.post("/images/{name}/tag", tag)
    router.post("/images/{name}/push", not_implemented)
    router.delete("/images/{name}", delete)
