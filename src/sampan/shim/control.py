"""The control socket: newline-delimited JSON requests in, responses out, on a unix socket.

A connection carries any number of requests, answered in order. A handler may answer later
(`wait`) or take the connection over (`attach` turns it into a stream). See docs/shim-protocol.md.
"""

from __future__ import annotations

import os
import selectors
import socket
from collections.abc import Callable

from sampan.shim.loop import Loop
from sampan.shim.wire import MAX_LINE, ProtocolError, decode, encode, error

_READ = selectors.EVENT_READ
_WRITE = selectors.EVENT_WRITE


class Conn:
    """One control connection."""

    def __init__(self, server: ControlServer, sock: socket.socket) -> None:
        self._server = server
        self.sock = sock
        self.fd = sock.fileno()
        self.inbuf = bytearray()
        self._out = bytearray()
        self.busy = False  # a request is being answered later; the next waits
        self.detached = False
        self.closed = False
        self.processing = False
        self._peer_done = False

    def reply(self, message: dict[str, object]) -> None:
        """Answer the current request and go on with the next one."""
        if self.closed:
            return
        self._out += encode(message)
        self.busy = False
        self._flush()
        if not self.closed and not self.processing:
            self._server.process(self)

    def reply_now(self, message: dict[str, object], timeout: float = 5.0) -> None:
        """Answer synchronously (the shim is about to exit and will not flush later)."""
        if self.closed:
            return
        self._out += encode(message)
        self.busy = False
        try:
            self.sock.settimeout(timeout)
            self.sock.sendall(self._out)
        except OSError:
            pass
        self._out.clear()

    def detach(self) -> tuple[socket.socket, bytes]:
        """Take the socket away from the control protocol (after the handler replied)."""
        self._flush_blocking()
        self.detached = True
        self._server.forget(self)
        rest = bytes(self.inbuf)
        self.inbuf.clear()
        return self.sock, rest

    def _flush_blocking(self) -> None:
        if self._out:
            self.sock.setblocking(True)
            self.sock.settimeout(5.0)
            try:
                self.sock.sendall(self._out)
            finally:
                self._out.clear()
                self.sock.setblocking(False)

    def _flush(self) -> None:
        while self._out:
            try:
                n = self.sock.send(self._out)
            except BlockingIOError:
                break
            except OSError:
                self.close()
                return
            del self._out[:n]
        self._update()

    def _update(self) -> None:
        if self.closed or self.detached:
            return
        if self._peer_done and not self._out and not self.busy:
            self.close()
            return
        events = _WRITE if self._out else 0
        if not self._peer_done:
            events |= _READ
        self._server.loop.watch(self.fd, events, self._on_ready)

    def _on_ready(self, mask: int) -> None:
        if mask & _WRITE:
            self._flush()
        if mask & _READ and not self.closed and not self.detached:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._peer_done = True
                self._update()
                return
            self.inbuf += data
            self._server.process(self)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._server.forget(self)
        self.sock.close()


Handler = Callable[[Conn, dict[str, object]], None]


class ControlServer:
    def __init__(self, loop: Loop, path: str, handler: Handler) -> None:
        self.loop = loop
        self.path = path
        self._handler = handler
        self._conns: dict[int, Conn] = {}
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        self._listener.bind(path)
        os.chmod(path, 0o600)
        self._listener.listen(64)
        self._listener.setblocking(False)
        loop.watch(self._listener.fileno(), _READ, self._accept)

    def _accept(self, _mask: int) -> None:
        while True:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            sock.setblocking(False)
            conn = Conn(self, sock)
            self._conns[conn.fd] = conn
            conn._update()

    def process(self, conn: Conn) -> None:
        """Handle complete request lines, one at a time, while the connection is not busy."""
        conn.processing = True
        try:
            self._process(conn)
        finally:
            conn.processing = False
        conn._update()

    def _process(self, conn: Conn) -> None:
        while not conn.busy and not conn.closed and not conn.detached:
            nl = conn.inbuf.find(b"\n")
            if nl < 0:
                if len(conn.inbuf) > MAX_LINE:
                    conn.reply(error("request line too long", "InvalidArgument"))
                    conn.close()
                return
            line = bytes(conn.inbuf[:nl])
            del conn.inbuf[:nl + 1]
            if not line.strip():
                continue
            try:
                request = decode(line)
            except ProtocolError as exc:
                conn.reply(error(str(exc), "InvalidArgument"))
                continue
            conn.busy = True
            self._handler(conn, request)

    def forget(self, conn: Conn) -> None:
        if self._conns.pop(conn.fd, None) is not None:
            self.loop.unwatch(conn.fd)

    def close(self) -> None:
        self.loop.unwatch(self._listener.fileno())
        self._listener.close()
        for conn in list(self._conns.values()):
            conn.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
