"""Attach streams: live output fanned out to any number of clients, stdin gathered from them.

Output is framed with stdcopy for a container without a terminal, raw with one. A slow client
holds the container back (like Docker's attach): while any client has more than HIGH_WATER bytes
unsent, the hub asks the output pump to pause, and resumes it under LOW_WATER. Bytes a client
sends are the container's stdin; its half-close closes the container's stdin when it asked to
(a client that vanishes altogether, like a killed daemon, leaves stdin open).
"""

from __future__ import annotations

import os
import select
import selectors
import socket
from collections.abc import Callable
from functools import partial

from sampan.shim.loop import Loop
from sampan.shim.wire import STDERR, STDOUT, frame

HIGH_WATER = 1 << 20
LOW_WATER = 256 << 10
_READ = selectors.EVENT_READ
_WRITE = selectors.EVENT_WRITE


class StdinSink:
    """Buffers bytes for the container's stdin fd and writes them as it accepts them.

    With a terminal the fd is a dup of the pty master: closing it never hangs the pty up.
    """

    def __init__(self, loop: Loop, fd: int | None) -> None:
        self._loop = loop
        self.fd = fd
        self._buf = bytearray()
        self._close_requested = False
        self.on_drain: Callable[[], None] = lambda: None

    @property
    def full(self) -> bool:
        return len(self._buf) > HIGH_WATER

    def write(self, data: bytes) -> None:
        if self.fd is None or self._close_requested:
            return
        self._buf += data
        self._flush()

    def close(self) -> None:
        """Close the container's stdin once what is buffered is written."""
        self._close_requested = True
        self._flush()

    def _flush(self, _mask: int = 0) -> None:
        if self.fd is None:
            return
        was_full = self.full
        while self._buf:
            try:
                n = os.write(self.fd, self._buf)
            except BlockingIOError:
                self._loop.watch(self.fd, _WRITE, self._flush)
                return
            except OSError:  # EPIPE, EIO: the reader is gone; stdin goes nowhere now
                self._buf.clear()
                break
            del self._buf[:n]
        self._loop.unwatch(self.fd)
        if self._close_requested:
            os.close(self.fd)
            self.fd = None
        if was_full:
            self.on_drain()

    def abandon(self) -> None:
        """The container is gone: drop pending input and our end of the pipe."""
        self._buf.clear()
        if self.fd is not None:
            self._loop.unwatch(self.fd)
            os.close(self.fd)
        self.fd = None


class AttachClient:
    """One attached connection and the output not yet sent to it."""

    def __init__(self, sock: socket.socket, stdin: bool, stdout: bool, stderr: bool, close_stdin: bool) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.stdin = stdin
        self.streams = {STDOUT} if stdout else set()
        if stderr:
            self.streams.add(STDERR)
        self.close_stdin = close_stdin
        self.out = bytearray()
        self.reading = True
        self.finishing = False
        self.on_ready: Callable[[int], None] = lambda mask: None


class AttachHub:
    """All attach clients of one container."""

    def __init__(self, loop: Loop, tty: bool, stdin: StdinSink) -> None:
        self._loop = loop
        self._tty = tty
        self.stdin = stdin
        self._clients: dict[int, AttachClient] = {}
        self.paused = False
        self._backpressure = True
        self.on_pause: Callable[[bool], None] = lambda paused: None
        stdin.on_drain = self._stdin_drained

    def __len__(self) -> int:
        return len(self._clients)

    def add(self, sock: socket.socket, *, stdin: bool, stdout: bool, stderr: bool, close_stdin: bool,
            initial: bytes = b"") -> None:
        """Hand a connection over to the hub; `initial` is stdin that came with the request."""
        sock.setblocking(False)
        client = AttachClient(sock, stdin, stdout, stderr, close_stdin)
        client.on_ready = partial(self._on_ready, client)
        self._clients[client.fd] = client
        if initial:
            self._stdin_from(client, initial)
        self._update(client)

    def broadcast(self, stream: int, data: bytes) -> None:
        """Output read from the container, to every client that asked for its stream."""
        chunk = data if self._tty else frame(stream, data)
        for client in list(self._clients.values()):
            if stream in client.streams and not client.finishing:
                client.out += chunk
                self._send(client)
        self._check_pressure()

    def finish(self) -> None:
        """The container's output ended: close each client once its output is sent."""
        for client in list(self._clients.values()):
            client.finishing = True
            client.reading = False
            self._send(client)

    def close_all(self) -> None:
        for client in list(self._clients.values()):
            self._drop(client)

    # --- per-client I/O ---------------------------------------------------------------
    def _update(self, client: AttachClient) -> None:
        if client.fd not in self._clients:
            return
        events = 0
        if client.reading and not self.stdin.full:
            events |= _READ
        if client.out:
            events |= _WRITE
        if client.finishing and not client.out:
            self._drop(client)
            return
        self._loop.watch(client.fd, events, client.on_ready)

    def _on_ready(self, client: AttachClient, mask: int) -> None:
        if mask & _WRITE:
            self._send(client)
        if mask & _READ and client.fd in self._clients:
            self._recv(client)

    def _send(self, client: AttachClient) -> None:
        if client.out:
            try:
                n = client.sock.send(client.out)
                del client.out[:n]
            except BlockingIOError:
                pass
            except OSError:
                self._drop(client)
                return
        self._update(client)
        if self.paused:
            self._check_pressure()

    def _recv(self, client: AttachClient) -> None:
        try:
            data = client.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self._stdin_from(client, data)
            return
        client.reading = False
        if client.stdin and client.close_stdin and not _hung_up(client.fd):
            self.stdin.close()
        self._update(client)

    def _stdin_from(self, client: AttachClient, data: bytes) -> None:
        if client.stdin:
            self.stdin.write(data)
        if self.stdin.full:
            for other in list(self._clients.values()):
                self._update(other)

    def _stdin_drained(self) -> None:
        for client in list(self._clients.values()):
            self._update(client)

    def _drop(self, client: AttachClient) -> None:
        if self._clients.pop(client.fd, None) is None:
            return
        self._loop.unwatch(client.fd)
        try:
            client.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        client.sock.close()
        self._check_pressure()

    def disable_backpressure(self) -> None:
        """Never pause output again (the container is gone: what is left is bounded)."""
        self._backpressure = False
        if self.paused:
            self.paused = False
            self.on_pause(False)

    def _check_pressure(self) -> None:
        if not self._backpressure:
            return
        backlog = max((len(c.out) for c in self._clients.values()), default=0)
        if not self.paused and backlog > HIGH_WATER:
            self.paused = True
            self.on_pause(True)
        elif self.paused and backlog < LOW_WATER:
            self.paused = False
            self.on_pause(False)


def _hung_up(fd: int) -> bool:
    """The peer closed its whole socket (it died, e.g. the daemon), rather than half-closing.

    Only a half-close means "stdin is done": a daemon that dies must not close the stdin of the
    containers it was attached to, so that it can attach again after its restart.
    """
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & select.POLLHUP for _, events in poller.poll(0))
