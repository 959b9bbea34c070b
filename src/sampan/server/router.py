"""Routes with path parameters, the optional `/vX.Y` prefix, and the error map.

Image names contain slashes and colons (`127.0.0.1:5000/a/b:tag`), so a `{name}` parameter
matches greedily and the fixed suffix after it (`/json`, `/tag`) decides the route, the way
Docker's `{name:.*}` routes do. Routes are tried in the order they were added.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sampan.api.versions import MAX_API_VERSION, MIN_API_VERSION, greater_than, less_than
from sampan.errdefs import InvalidArgument
from sampan.server.errors import error_response
from sampan.server.request import BadRequest, Request
from sampan.server.response import Reply, Response

Handler = Callable[[Request], Awaitable[Reply]]

_VERSION_PREFIX = re.compile(r"^/v([0-9.]+)(/.*)$")
_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """`/images/{name}/json` -> a regex where `{name}` may span slashes (and may be empty,
    so that handlers answer "image name cannot be blank" as dockerd does)."""
    out, pos = [], 0
    for m in _PARAM.finditer(pattern):
        out.append(re.escape(pattern[pos : m.start()]))
        out.append(f"(?P<{m.group(1)}>.*)")
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("^" + "".join(out) + "$")


def check_version(version: str) -> None:
    if greater_than(version, MAX_API_VERSION):
        raise InvalidArgument(
            f"client version {version} is too new. Maximum supported API version is {MAX_API_VERSION}"
        )
    if less_than(version, MIN_API_VERSION):
        raise InvalidArgument(
            f"client version {version} is too old. Minimum supported API version is "
            f"{MIN_API_VERSION}, please upgrade your client to a newer version"
        )


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append(Route(method.upper(), pattern, compile_pattern(pattern), handler))

    def get(self, pattern: str, handler: Handler) -> None:
        self.add("GET", pattern, handler)

    def post(self, pattern: str, handler: Handler) -> None:
        self.add("POST", pattern, handler)

    def delete(self, pattern: str, handler: Handler) -> None:
        self.add("DELETE", pattern, handler)

    def head(self, pattern: str, handler: Handler) -> None:
        self.add("HEAD", pattern, handler)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self._routes:
            if route.method != method:
                continue
            m = route.regex.match(path)
            if m:
                return route, m.groupdict()
        return None

    async def __call__(self, request: Request) -> Reply:
        """Dispatch one request; never raises (errors become Docker-shaped responses)."""
        path = request.path
        version = ""
        m = _VERSION_PREFIX.match(path)
        if m:
            version, path = m.group(1), m.group(2)
        found = self.match(request.method, path)
        if found is None:
            return Response.json({"message": "page not found"}, status=404)
        route, params = found
        try:
            if version:
                check_version(version)
                request.api_version = version
            request.params = params
            return await route.handler(request)
        except (BadRequest, ConnectionError, asyncio.IncompleteReadError):
            raise  # the connection itself is broken: the HTTP layer answers 400 or hangs up
        except Exception as exc:
            return error_response(exc, context=f"{request.method} {request.path}")
