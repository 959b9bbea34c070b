"""The Engine API client: JSON calls and progress streams over the daemon's socket.

Errors from the daemon come back as the `sampan.errdefs` kind of their status, built by
`errdefs.from_status` from the `{"message": ...}` body. The API version is negotiated once
like docker does: `/_ping`, then min(server, client) as the `/vX.Y` prefix of every call.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator

from sampan import errdefs
from sampan.client.errors import ProtocolError
from sampan.client.transport import DEFAULT_HOST, Connection, Hijacked, Response, parse_host

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

MAX_API_VERSION = "1.44"
MIN_API_VERSION = "1.24"
USER_AGENT = "sampan-cli/0.1.0"

_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def quote(text: str, safe: str = "") -> str:
    """Percent-encode like urllib.parse.quote (which costs an import the CLI avoids)."""
    allowed = _SAFE | frozenset(safe.encode())
    return "".join(chr(b) if b in allowed else f"%{b:02X}" for b in text.encode())


def encode_query(params: dict[str, Any]) -> str:
    """`a=1&b=x` from a dict; None values are left out, bools are `1`/`0` like docker-py."""
    parts = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        parts.append(f"{quote(key)}={quote(str(value))}")
    return "&".join(parts)


def version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return (0,)


def encode_filters(filters: dict[str, list[str]] | None) -> str | None:
    """The `filters` query value (the map of lists the spec documents), or None when empty."""
    if not filters:
        return None
    return json.dumps(filters, separators=(",", ":"))


def _encode_body(body: Any, headers: dict[str, str] | None) -> tuple[bytes | None, dict[str, str]]:
    """A request's JSON body (if any) and its headers, caller's headers last."""
    hdrs = {"User-Agent": USER_AGENT}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    return data, hdrs


class APIClient:
    """A synchronous Engine API client. Not thread-safe: one per thread."""

    def __init__(self, host: str | None = None, *, version: str | None = None,
                 timeout: float | None = None) -> None:
        self.host = host or os.environ.get("SAMPAN_HOST") or os.environ.get("DOCKER_HOST") or DEFAULT_HOST
        self.address = parse_host(self.host)
        self._conn = Connection(self.address, timeout)
        self._version = version or os.environ.get("DOCKER_API_VERSION") or None
        self.server_headers: dict[str, str] = {}

    def close(self) -> None:
        self._conn.close()

    def clone(self) -> APIClient:
        """Another client on its own connection, reusing the negotiated version (for threads)."""
        other = APIClient(self.host, version=self.api_version, timeout=self._conn.timeout)
        other.server_headers = self.server_headers
        return other

    def __enter__(self) -> APIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------

    @property
    def api_version(self) -> str:
        """The negotiated version (pings the daemon the first time)."""
        if self._version is None:
            self._version = self._negotiate()
        return self._version

    def _negotiate(self) -> str:
        resp = self._conn.request("GET", "/_ping", headers={"User-Agent": USER_AGENT})
        body = resp.read()
        self.server_headers = resp.headers
        server = resp.headers.get("api-version", "")
        if resp.status >= 400 and not server:
            raise self.error(resp.status, body)
        if not server:
            return MIN_API_VERSION
        return min(server, MAX_API_VERSION, key=version_tuple)

    def _target(self, path: str, params: dict[str, Any] | None, versioned: bool = True) -> str:
        query = encode_query(params or {})
        prefix = f"/v{self.api_version}" if versioned else ""
        return prefix + path + ("?" + query if query else "")

    def send(self, method: str, path: str, params: dict[str, Any] | None = None,
              body: Any = None, headers: dict[str, str] | None = None) -> Response:
        data, hdrs = _encode_body(body, headers)
        resp = self._conn.request(method, self._target(path, params), data, hdrs)
        if resp.status >= 400:
            raise self.error(resp.status, resp.read())
        return resp

    def upload(self, method: str, path: str, params: dict[str, Any] | None, chunks: Iterable[bytes],
               content_type: str = "application/x-tar") -> Response:
        """Send a body produced piece by piece (chunked), e.g. a tar for PUT .../archive."""
        headers = {"User-Agent": USER_AGENT, "Content-Type": content_type}
        resp = self._conn.request(method, self._target(path, params), iter(chunks), headers)
        if resp.status >= 400:
            raise self.error(resp.status, resp.read())
        return resp

    @staticmethod
    def error(status: int, body: bytes) -> errdefs.SampanError:
        """The errdefs kind of an error answer, with the daemon's message."""
        message = body.decode("utf-8", "replace").strip()
        try:
            decoded = json.loads(body)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict) and "message" in decoded:
            message = str(decoded["message"])
        if not message:
            message = f"HTTP {status}"
        return errdefs.from_status(status, message)

    def request_json(self, method: str, path: str, params: dict[str, Any] | None = None,
                     body: Any = None, headers: dict[str, str] | None = None) -> Any:
        """Call an endpoint and decode its JSON answer (None for an empty body)."""
        raw = self.send(method, path, params, body, headers).read()
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as e:
            raise ProtocolError(f"invalid JSON from the daemon on {method} {path}: {e}") from e

    def stream_json(self, method: str, path: str, params: dict[str, Any] | None = None,
                    body: Any = None, headers: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Decoded JSON objects of a streamed answer, one per line, as they arrive."""
        resp = self.send(method, path, params, body, headers)
        try:
            for line in resp.iter_lines():
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except ValueError as e:
                    raise ProtocolError(f"invalid JSON in the stream of {path}: {e}") from e
        finally:
            resp.close()

    def hijack(self, method: str, path: str, params: dict[str, Any] | None = None,
               body: Any = None, headers: dict[str, str] | None = None) -> Hijacked:
        """An upgraded raw stream (container attach, exec start); errors are errdefs kinds."""
        data, hdrs = _encode_body(body, headers)
        resp, stream = self._conn.hijack(method, self._target(path, params), data, hdrs)
        if stream is None:
            raise self.error(resp.status, resp.read())
        return stream

    # -- system ---------------------------------------------------------------------------

    def ping(self) -> dict[str, str]:
        """GET /_ping (unversioned); returns the response headers (Api-Version, ...)."""
        resp = self._conn.request("GET", "/_ping", headers={"User-Agent": USER_AGENT})
        body = resp.read()
        if resp.status >= 400:
            raise self.error(resp.status, body)
        self.server_headers = resp.headers
        return resp.headers

    def version(self) -> dict[str, Any]:
        return dict(self.request_json("GET", "/version"))

    def info(self) -> dict[str, Any]:
        return dict(self.request_json("GET", "/info"))

    # -- images ---------------------------------------------------------------------------

    def images(self, *, all: bool = False, filters: dict[str, list[str]] | None = None,
               digests: bool = False) -> list[dict[str, Any]]:
        params = {"all": all or None, "filters": encode_filters(filters), "digests": digests or None}
        return list(self.request_json("GET", "/images/json", params) or [])

    def inspect_image(self, name: str) -> dict[str, Any]:
        return dict(self.request_json("GET", f"/images/{quote(name, '/:@')}/json"))

    def image_history(self, name: str) -> list[dict[str, Any]]:
        return list(self.request_json("GET", f"/images/{quote(name, '/:@')}/history") or [])

    def tag_image(self, name: str, repo: str, tag: str) -> None:
        self.request_json("POST", f"/images/{quote(name, '/:@')}/tag", {"repo": repo, "tag": tag})

    def remove_image(self, name: str, *, force: bool = False, noprune: bool = False) -> list[dict[str, Any]]:
        params = {"force": force or None, "noprune": noprune or None}
        return list(self.request_json("DELETE", f"/images/{quote(name, '/:@')}", params) or [])

    def prune_images(self, filters: dict[str, list[str]] | None = None) -> dict[str, Any]:
        return dict(self.request_json("POST", "/images/prune", {"filters": encode_filters(filters)}) or {})

    def pull(self, image: str, tag: str, *, platform: str | None = None,
             registry_auth: str | None = None) -> Iterator[dict[str, Any]]:
        """POST /images/create: the daemon's progress messages (JSONMessage objects)."""
        headers = {"X-Registry-Auth": registry_auth} if registry_auth else None
        params = {"fromImage": image, "tag": tag or None, "platform": platform or None}
        return self.stream_json("POST", "/images/create", params, headers=headers)

    # -- containers -----------------------------------------------------------------------

    def create_container(self, body: dict[str, Any], *, name: str = "",
                         platform: str = "") -> dict[str, Any]:
        """POST /containers/create: {"Id": ..., "Warnings": [...]}."""
        params = {"name": name or None, "platform": platform or None}
        return dict(self.request_json("POST", "/containers/create", params, body))

    def start(self, container: str) -> None:
        self.request_json("POST", f"/containers/{quote(container)}/start")

    def wait(self, container: str, condition: str = "not-running") -> dict[str, Any]:
        """POST /containers/{id}/wait: blocks until the condition; {"StatusCode": n, "Error": ...}."""
        return dict(self.request_json("POST", f"/containers/{quote(container)}/wait",
                                      {"condition": condition}) or {})

    def wait_response(self, container: str, condition: str = "not-running") -> Response:
        """The wait call sent now and read later (run waits before it starts the container)."""
        return self.send("POST", f"/containers/{quote(container)}/wait", {"condition": condition})

    def attach(self, container: str, *, stdin: bool = False, stdout: bool = True, stderr: bool = True,
               stream: bool = True, logs: bool = False, detach_keys: str | None = None) -> Hijacked:
        """POST /containers/{id}/attach, hijacked: raw bytes both ways (stdcopy frames unless a TTY)."""
        params = {"stream": stream, "stdin": stdin, "stdout": stdout, "stderr": stderr,
                  "logs": logs or None, "detachKeys": detach_keys}
        return self.hijack("POST", f"/containers/{quote(container)}/attach", params)

    def logs(self, container: str, *, stdout: bool = True, stderr: bool = True, follow: bool = False,
             since: str | None = None, until: str | None = None, timestamps: bool = False,
             tail: str = "all") -> Response:
        """GET /containers/{id}/logs: a response whose body streams (stdcopy frames unless a TTY)."""
        params = {"stdout": stdout, "stderr": stderr, "follow": follow or None, "since": since or None,
                  "until": until or None, "timestamps": timestamps or None, "tail": tail}
        return self.send("GET", f"/containers/{quote(container)}/logs", params)

    def stop(self, container: str, *, timeout: int | None = None, signal: str | None = None) -> None:
        params = {"t": timeout, "signal": signal or None}
        self.request_json("POST", f"/containers/{quote(container)}/stop", params)

    def restart(self, container: str, *, timeout: int | None = None, signal: str | None = None) -> None:
        params = {"t": timeout, "signal": signal or None}
        self.request_json("POST", f"/containers/{quote(container)}/restart", params)

    def kill(self, container: str, signal: str | None = None) -> None:
        self.request_json("POST", f"/containers/{quote(container)}/kill", {"signal": signal or None})

    def remove_container(self, container: str, *, force: bool = False, volumes: bool = False,
                         link: bool = False) -> None:
        params = {"force": force or None, "v": volumes or None, "link": link or None}
        self.request_json("DELETE", f"/containers/{quote(container)}", params)

    def containers(self, *, all: bool = False, limit: int | None = None, size: bool = False,
                   filters: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
        params = {"all": all or None, "limit": limit, "size": size or None, "filters": encode_filters(filters)}
        return list(self.request_json("GET", "/containers/json", params) or [])

    def inspect_container(self, container: str, *, size: bool = False) -> dict[str, Any]:
        return dict(self.request_json("GET", f"/containers/{quote(container)}/json", {"size": size or None}))

    def resize(self, container: str, height: int, width: int) -> None:
        self.request_json("POST", f"/containers/{quote(container)}/resize", {"h": height, "w": width})

    def prune_containers(self, filters: dict[str, list[str]] | None = None) -> dict[str, Any]:
        return dict(self.request_json("POST", "/containers/prune", {"filters": encode_filters(filters)}) or {})
