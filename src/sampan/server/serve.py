"""Listeners (unix socket, TCP) and a graceful stop for the HTTP edge.

The unix socket is bound under a temporary name, given its mode (and the `docker` group when
one exists), then renamed into place: clients never see a socket with the wrong permissions,
and a stale socket left by a dead daemon is replaced atomically. A socket that still answers
belongs to a live daemon, and then we refuse to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import logging
import os
import socket
from urllib.parse import urlsplit

from sampan.errdefs import Conflict, InvalidArgument
from sampan.server.http import App, Connection

log = logging.getLogger(__name__)

SOCKET_MODE = 0o660
DEFAULT_UNIX_SOCKET = "/run/sampan/sampand.sock"
DEFAULT_TCP_PORT = 2375


def socket_is_live(path: str) -> bool:
    """Whether something accepts connections on the unix socket at `path`."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(path)
        except OSError:
            return False
        return True


def bind_unix(path: str, mode: int = SOCKET_MODE) -> socket.socket:
    if os.path.exists(path) or os.path.islink(path):
        if socket_is_live(path):
            raise Conflict(f"{path} is in use by another daemon (it accepts connections)")
        log.info("replacing stale socket %s", path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(tmp)
        os.chmod(tmp, mode)
        try:
            gid = grp.getgrnam("docker").gr_gid
        except KeyError:
            gid = -1
        if gid >= 0 and os.geteuid() == 0:
            os.chown(tmp, 0, gid)
        os.rename(tmp, path)
        sock.listen(512)
    except BaseException:
        sock.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    sock.setblocking(False)
    return sock


def parse_host(host: str, default_unix: str = DEFAULT_UNIX_SOCKET) -> tuple[str, str | tuple[str, int]]:
    """`unix:///path` -> ("unix", path); `tcp://ip:port` -> ("tcp", (ip, port)).

    As with dockerd, `unix://` alone means the default socket and `tcp://` defaults to
    127.0.0.1:2375.
    """
    parts = urlsplit(host)
    if parts.scheme == "unix":
        path = parts.path or default_unix
        if not path.startswith("/") or parts.netloc:
            raise InvalidArgument(f"invalid bind address ({host}): unix socket path must be absolute")
        return "unix", path
    if parts.scheme == "tcp":
        try:
            port = parts.port or DEFAULT_TCP_PORT
        except ValueError:
            raise InvalidArgument(f"invalid bind address ({host}): invalid port")
        if parts.path not in ("", "/"):
            raise InvalidArgument(f"invalid bind address ({host}): should not contain a path element")
        return "tcp", (parts.hostname or "127.0.0.1", port)
    raise InvalidArgument(f"invalid bind address ({host}): unsupported protocol {parts.scheme!r}")


class APIServer:
    """Serves one app on any number of listeners; `stop()` drains in-flight requests."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._servers: list[asyncio.Server] = []
        self._sockets: list[tuple[str, int]] = []  # (path, inode): unlink only our own socket
        self._connections: dict[Connection, asyncio.Task[None] | None] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(self.app, reader, writer)
        task = asyncio.current_task()
        self._connections[conn] = task
        if task is not None:
            self._tasks.add(task)
        try:
            await conn.serve()
        except asyncio.CancelledError:
            # Cut at shutdown; ending the task normally keeps asyncio's stream callback quiet.
            log.debug("connection cancelled at shutdown")
        finally:
            self._connections.pop(conn, None)
            if task is not None:
                self._tasks.discard(task)

    async def listen(self, host: str) -> None:
        kind, address = parse_host(host)
        if kind == "unix":
            assert isinstance(address, str)
            sock = bind_unix(address)
            try:
                server = await asyncio.start_unix_server(self._on_client, sock=sock, limit=1 << 20)
            except BaseException:
                sock.close()
                os.unlink(address)
                raise
            self._sockets.append((address, os.stat(address).st_ino))
        else:
            assert isinstance(address, tuple)
            if address[0] not in ("127.0.0.1", "::1", "localhost"):
                log.warning("API listening on %s without TLS: anyone who can reach it controls the "
                            "daemon (and root on this host)", host)
            server = await asyncio.start_server(self._on_client, address[0], address[1], limit=1 << 20)
        self._servers.append(server)
        log.info("API listening on %s", host)

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, let busy connections finish for `grace` seconds, then cut the rest."""
        for server in self._servers:
            server.close()
        for path, inode in self._sockets:
            with contextlib.suppress(FileNotFoundError):
                if os.stat(path).st_ino == inode:
                    os.unlink(path)
        for conn, task in list(self._connections.items()):
            conn.close_when_idle()
            if conn.streaming_endless and task is not None:
                task.cancel()  # an event stream or a follow never finishes by itself
        pending = [t for t in self._tasks if not t.done()]
        if pending:
            _, still = await asyncio.wait(pending, timeout=grace)
            if still:
                log.info("cutting %d connection(s) still busy after %.1fs", len(still), grace)
            for task in still:
                task.cancel()
            if still:
                await asyncio.wait(still, timeout=1.0)
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=1.0)
        self._servers.clear()
        self._sockets.clear()
