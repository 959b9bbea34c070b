"""HTTP for the registry client: pooled keep-alive connections, redirects, stale-socket retry.

http.client is fast and thread-agnostic; one connection serves one request at a time, so
connections live in a small per-origin pool that any thread may borrow from. A response is
handed out as an `Exchange` that owns its connection until it is released (fully read: back
to the pool) or closed (abandoned mid-body: the socket is dropped).
"""

from __future__ import annotations

import http.client
import logging
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

from sampan.distribution.endpoints import split_hostport
from sampan.distribution.proxies import ProxySettings

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
MAX_IDLE_PER_ORIGIN = 8
_DRAIN_LIMIT = 64 * 1024
BLOCK_SIZE = 1024 * 1024  # chunk size http.client uses to send a streamed body (uploads)
_STALE_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                 ConnectionAbortedError, http.client.BadStatusLine)

#: What http.client and sockets raise when a transfer fails.
TRANSFER_ERRORS = (OSError, http.client.HTTPException)


@dataclass(frozen=True)
class Origin:
    scheme: str  # "http" or "https"
    netloc: str  # host[:port], as in URLs

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        return cls(parts.scheme.lower(), parts.netloc)


class Exchange:
    """A response and the connection it arrived on."""

    def __init__(self, pool: ConnectionPool, origin: Origin, conn: http.client.HTTPConnection,
                 resp: http.client.HTTPResponse, url: str) -> None:
        self._pool = pool
        self.origin = origin
        self._conn: http.client.HTTPConnection | None = conn
        self.resp = resp
        self.url = url

    @property
    def status(self) -> int:
        return self.resp.status

    @property
    def reason(self) -> str:
        return self.resp.reason

    def header(self, name: str, default: str = "") -> str:
        return self.resp.getheader(name, default) or default

    def headers(self, name: str) -> list[str]:
        return self.resp.headers.get_all(name) or []

    def read_all(self, limit: int = _DRAIN_LIMIT) -> bytes:
        """The body, at most `limit` bytes; the connection is released or dropped afterwards."""
        try:
            data = self.resp.read(limit + 1)
        except TRANSFER_ERRORS:
            self.close()
            raise
        if len(data) > limit:
            self.close()
            return data[:limit]
        self.release()
        return data

    def release(self) -> None:
        """Give the connection back when the body is fully consumed, else drop it."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self.resp.isclosed() and not self.resp.will_close:
            self._pool.put(self.origin, conn)
        else:
            self.resp.close()
            conn.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        self.resp.close()
        if conn is not None:
            conn.close()

    def __enter__(self) -> Exchange:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class _ForwardProxyConnection(http.client.HTTPConnection):
    """Plain HTTP through a forward proxy: absolute-form request targets."""

    proxy_authorization = ""


class ConnectionPool:
    def __init__(self, timeout: float, tls_for: Callable[[str], ssl.SSLContext],
                 proxies: ProxySettings | None = None) -> None:
        self.timeout = timeout
        self._tls_for = tls_for
        self._proxies = proxies or ProxySettings()
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def get(self, origin: Origin) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection (reused=True) or a new, not yet connected one."""
        with self._lock:
            idle = self._idle.get(origin)
            if idle:
                return idle.pop(), True
        host, port = split_hostport(origin.netloc)
        proxy = self._proxies.proxy_for(origin.scheme, origin.netloc)
        conn: http.client.HTTPConnection
        if origin.scheme == "https":
            ctx = self._tls_for(origin.netloc)
            if proxy is None:
                conn = http.client.HTTPSConnection(host, port, timeout=self.timeout, context=ctx,
                                                   blocksize=BLOCK_SIZE)
            else:  # CONNECT tunnel; TLS (and its hostname check) is with the registry itself
                conn = http.client.HTTPSConnection(proxy.host, proxy.port, timeout=self.timeout, context=ctx,
                                                   blocksize=BLOCK_SIZE)
                tunnel_headers = {"Proxy-Authorization": proxy.authorization} if proxy.authorization else None
                conn.set_tunnel(host, port, headers=tunnel_headers)
        elif proxy is None:
            conn = http.client.HTTPConnection(host, port, timeout=self.timeout, blocksize=BLOCK_SIZE)
        else:
            conn = _ForwardProxyConnection(proxy.host, proxy.port, timeout=self.timeout,
                                           blocksize=BLOCK_SIZE)
            conn.proxy_authorization = proxy.authorization
        return conn, False

    def put(self, origin: Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < MAX_IDLE_PER_ORIGIN:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for c in conns:
            c.close()


class Transport:
    """Sends requests through the pool and follows redirects (dropping auth across hosts)."""

    def __init__(self, *, timeout: float, user_agent: str, tls_for: Callable[[str], ssl.SSLContext],
                 proxies: ProxySettings | None = None) -> None:
        self.pool = ConnectionPool(timeout, tls_for, proxies)
        self.user_agent = user_agent

    def request(self, method: str, url: str, headers: Mapping[str, str] | None = None,
                body: bytes | BinaryIO | None = None, *, follow_redirects: bool = True) -> Exchange:
        hdrs = {"User-Agent": self.user_agent, **(headers or {})}
        for _ in range(MAX_REDIRECTS + 1):
            ex = self._roundtrip(method, url, hdrs, body)
            location = ex.header("Location")
            replayable = body is None or isinstance(body, bytes)
            if not follow_redirects or ex.status not in REDIRECT_STATUSES or not location or not replayable:
                return ex
            ex.read_all()
            target = urljoin(url, location)
            if Origin.of(target).netloc != Origin.of(url).netloc:
                hdrs = {k: v for k, v in hdrs.items() if k.lower() != "authorization"}
            if ex.status == 303 and method != "HEAD":
                method, body = "GET", None
            log.debug("%s %s redirected to %s", method, url, target)
            url = target
        raise http.client.HTTPException(f"stopped after {MAX_REDIRECTS} redirects")

    def _roundtrip(self, method: str, url: str, headers: dict[str, str], body: bytes | BinaryIO | None
                   ) -> Exchange:
        origin = Origin.of(url)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        for attempt in (0, 1):
            conn, reused = self.pool.get(origin)
            sent_target, sent_headers = target, headers
            if isinstance(conn, _ForwardProxyConnection):
                sent_target = url
                if conn.proxy_authorization:
                    sent_headers = {**headers, "Proxy-Authorization": conn.proxy_authorization}
            try:
                conn.request(method, sent_target, body=body, headers=sent_headers)
                resp = conn.getresponse()
            except _STALE_ERRORS:
                conn.close()
                if reused and attempt == 0 and (body is None or isinstance(body, bytes)):
                    continue  # the server closed an idle keep-alive connection: use a fresh one
                raise
            except BaseException:
                conn.close()
                raise
            return Exchange(self.pool, origin, conn, resp, url)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.pool.close()

