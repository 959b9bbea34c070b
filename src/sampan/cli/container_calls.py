"""Engine API calls of the container commands that the shared client does not have yet.

top, changes, pause, rename, stats, export, the archive routes and system df, as functions
over an `APIClient`. Streamed answers come back as `Response`s read piece by piece; an
upload (`PUT .../archive`) is sent chunked from an iterator, so a tar never sits in memory.
"""

from __future__ import annotations

import binascii
import json

from sampan import errdefs
from sampan.client.api import APIClient, quote

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from sampan.client.transport import Response

STAT_HEADER = "x-docker-container-path-stat"


def _path(container: str, action: str) -> str:
    return f"/containers/{quote(container)}/{action}"


def top(client: APIClient, container: str, ps_args: list[str]) -> dict[str, Any]:
    params = {"ps_args": " ".join(ps_args) if ps_args else None}
    return dict(client.request_json("GET", _path(container, "top"), params) or {})


def changes(client: APIClient, container: str) -> list[dict[str, Any]]:
    return list(client.request_json("GET", _path(container, "changes")) or [])


def pause(client: APIClient, container: str) -> None:
    client.request_json("POST", _path(container, "pause"))


def unpause(client: APIClient, container: str) -> None:
    client.request_json("POST", _path(container, "unpause"))


def rename(client: APIClient, container: str, new_name: str) -> None:
    client.request_json("POST", _path(container, "rename"), {"name": new_name})


def disk_usage(client: APIClient) -> dict[str, Any]:
    return dict(client.request_json("GET", "/system/df") or {})


def stats(client: APIClient, container: str, *, stream: bool) -> Response:
    """GET /containers/{id}/stats: one JSON document per line (one in all without `stream`)."""
    return client.send("GET", _path(container, "stats"), {"stream": stream})


def export(client: APIClient, container: str) -> Response:
    return client.send("GET", _path(container, "export"))


def decode_stat(header: str) -> dict[str, Any]:
    """The X-Docker-Container-Path-Stat header: base64 of a JSON PathStat."""
    try:
        return dict(json.loads(binascii.a2b_base64(header)))
    except (ValueError, TypeError) as e:
        raise errdefs.System(f"unable to decode container path stat header: {e}") from e


def stat_path(client: APIClient, container: str, path: str) -> dict[str, Any]:
    """HEAD /containers/{id}/archive: the PathStat of `path` (errors are the daemon's)."""
    resp = client.send("HEAD", _path(container, "archive"), {"path": path})
    resp.read()
    return decode_stat(resp.headers.get(STAT_HEADER, ""))


def get_archive(client: APIClient, container: str, path: str) -> tuple[Response, dict[str, Any]]:
    """GET /containers/{id}/archive: the tar stream and the PathStat of its source."""
    resp = client.send("GET", _path(container, "archive"), {"path": path})
    return resp, decode_stat(resp.headers.get(STAT_HEADER, ""))


def put_archive(client: APIClient, container: str, path: str, chunks: Iterable[bytes], *,
                copy_uid_gid: bool = False) -> None:
    """PUT /containers/{id}/archive with a chunked body taken from `chunks` as they come."""
    params = {"path": path, "noOverwriteDirNonDir": "true", "copyUIDGID": "true" if copy_uid_gid else None}
    client.upload("PUT", _path(container, "archive"), params, chunks).read()
