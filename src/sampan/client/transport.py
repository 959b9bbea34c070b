"""A minimal HTTP/1.1 client over a unix or TCP socket, with keep-alive.

The standard library's http.client pulls in ssl and email (about 30 ms of imports), which
every CLI command would pay; the Engine API needs only a small part of HTTP/1.1: requests
with a body, Content-Length or chunked responses, and streaming reads.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Iterable, Iterator

from sampan.client.errors import ConnectionFailed, InvalidHost, ProtocolError

DEFAULT_HOST = "unix:///run/sampan/sampand.sock"
DEFAULT_TCP_PORT = 2375
_MAX_LINE = 65536


class Address:
    """Where the daemon listens: a unix socket path, or a TCP host and port.

    A plain class, not a dataclass: importing dataclasses costs the CLI about 8 ms.
    """

    __slots__ = ("host", "path", "port", "url")

    def __init__(self, url: str, path: str = "", host: str = "", port: int = 0) -> None:
        self.url = url
        self.path = path
        self.host = host
        self.port = port

    def __repr__(self) -> str:
        return f"Address({self.url!r})"

    @property
    def http_host(self) -> str:
        return f"{self.host}:{self.port}" if self.host else "api.moby.localhost"


def parse_host(url: str) -> Address:
    """`unix:///path`, `tcp://host:port` (or a bare `/path`) to an Address."""
    text = url.strip()
    if text.startswith("/"):
        text = "unix://" + text
    if text.startswith("unix://"):
        path = text[len("unix://") :]
        if not path:
            raise InvalidHost(f"invalid bind address ({url}): empty unix socket path")
        return Address(url=text, path=path)
    for scheme in ("tcp://", "http://"):
        if text.startswith(scheme):
            rest = text[len(scheme) :].rstrip("/")
            host, sep, port = rest.rpartition(":")
            if not sep:
                host, port = rest, str(DEFAULT_TCP_PORT)
            if not host or not port.isdigit():
                raise InvalidHost(f"invalid bind address format: {url}")
            return Address(url=text, host=host.strip("[]"), port=int(port))
    raise InvalidHost(f"unable to parse docker host `{url}`")


class Response:
    """A response whose body is read on demand; the connection is reusable once it is consumed."""

    def __init__(self, conn: Connection, status: int, reason: str, headers: dict[str, str],
                 has_body: bool) -> None:
        self._conn = conn
        self.status = status
        self.reason = reason
        self.headers = headers
        te = headers.get("transfer-encoding", "").lower()
        self._chunked = has_body and "chunked" in te
        length = headers.get("content-length")
        self._remaining: int | None = None
        if not has_body:
            self._remaining = 0
        elif not self._chunked and length is not None:
            self._remaining = int(length)
        self._chunk_left = 0
        self._done = self._remaining == 0
        self._keep = headers.get("connection", "").lower() != "close" and (
            self._chunked or self._remaining is not None
        )
        if self._done:
            self._finish()

    def _finish(self) -> None:
        self._done = True
        self._conn._release(self._keep)

    def read1(self) -> bytes:
        """The next piece of body as it arrives (b"" at the end)."""
        if self._done:
            return b""
        f = self._conn._file()
        if self._chunked:
            if self._chunk_left == 0:
                line = f.readline(_MAX_LINE)
                if not line:
                    raise ProtocolError("connection closed inside a chunked response")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while f.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                        pass
                    self._finish()
                    return b""
                self._chunk_left = size
            data = f.read1(self._chunk_left)
            if not data:
                raise ProtocolError("connection closed inside a chunk")
            self._chunk_left -= len(data)
            if self._chunk_left == 0:
                f.readline(_MAX_LINE)
            return data
        if self._remaining is None:
            data = f.read1(65536)
            if not data:
                self._finish()
            return data
        data = f.read1(min(self._remaining, 65536))
        if not data:
            raise ProtocolError("connection closed before the end of the response")
        self._remaining -= len(data)
        if self._remaining == 0:
            self._finish()
        return data

    def read(self) -> bytes:
        parts: list[bytes] = []
        while True:
            data = self.read1()
            if not data:
                return b"".join(parts)
            parts.append(data)

    def iter_lines(self) -> Iterator[bytes]:
        """Body lines (without their end of line) as soon as each is complete."""
        pending = b""
        while True:
            data = self.read1()
            if not data:
                break
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line.rstrip(b"\r")
        if pending.strip():
            yield pending

    def close(self) -> None:
        """Drop an unread response: the connection cannot be reused."""
        if not self._done:
            self._keep = False
            self._finish()


class Connection:
    """One keep-alive connection to the daemon, reopened when the server closed it."""

    def __init__(self, address: Address, timeout: float | None = None) -> None:
        self.address = address
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._rfile: io.BufferedReader | None = None
        self._busy = False

    def _connect(self) -> None:
        a = self.address
        try:
            if a.path:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.timeout)
                try:
                    sock.connect(a.path)
                except BaseException:
                    sock.close()
                    raise
            else:
                sock = socket.create_connection((a.host, a.port), timeout=self.timeout)
        except PermissionError as e:
            raise ConnectionFailed(
                "permission denied while trying to connect to the Docker daemon socket at "
                f"{a.url}: {e.strerror}", a.url
            ) from e
        except OSError as e:
            raise ConnectionFailed(
                f"Cannot connect to the Docker daemon at {a.url}. Is the docker daemon running?", a.url
            ) from e
        self._sock = sock
        self._rfile = sock.makefile("rb")

    def _file(self) -> io.BufferedReader:
        if self._rfile is None:
            raise ProtocolError("the connection to the daemon is closed")
        return self._rfile

    def _release(self, keep: bool) -> None:
        self._busy = False
        if not keep:
            self.close()

    def close(self) -> None:
        if self._rfile is not None:
            self._rfile.close()
            self._rfile = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _send_chunks(self, chunks: Iterable[bytes]) -> None:
        """Chunked transfer coding; a server that answers early (an error) and closes ends it."""
        assert self._sock is not None
        try:
            for chunk in chunks:
                if chunk:
                    self._sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self._sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # its answer, already sent, is read next

    def hijack(self, method: str, target: str, body: bytes | None = None,
               headers: dict[str, str] | None = None) -> tuple[Response, Hijacked | None]:
        """Send an upgrade request; on 101 (or 200) the socket leaves this connection for a Hijacked.

        Any other status returns the response alone, its body readable as usual.
        """
        hdrs = dict(headers or {}, Connection="Upgrade", Upgrade="tcp")
        resp = self.request(method, target, body, hdrs)
        if resp.status not in (101, 200):
            return resp, None
        sock, rfile = self._sock, self._rfile
        assert sock is not None and rfile is not None
        self._sock = self._rfile = None
        self._busy = False
        return resp, Hijacked(sock, rfile, resp)

    def request(self, method: str, target: str, body: bytes | Iterable[bytes] | None = None,
                headers: dict[str, str] | None = None) -> Response:
        """Send a request and read the status line and headers; retries once on a stale connection.

        A body given as an iterable of byte strings is sent chunked as it is produced (an upload
        never sits in memory); it can be sent only once, so it always gets a fresh connection.
        """
        if self._busy or (body is not None and not isinstance(body, bytes)):
            self.close()
        reused = self._sock is not None
        try:
            return self._exchange(method, target, body, headers or {})
        except (ConnectionError, _StaleConnection):
            if not reused:
                raise ConnectionFailed(
                    f"Cannot connect to the Docker daemon at {self.address.url}. "
                    "Is the docker daemon running?", self.address.url
                ) from None
            self.close()
            return self._exchange(method, target, body, headers or {})

    def _exchange(self, method: str, target: str, body: bytes | Iterable[bytes] | None,
                  headers: dict[str, str]) -> Response:
        if self._sock is None:
            self._connect()
        assert self._sock is not None
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.address.http_host}"]
        for k, v in headers.items():
            lines.append(f"{k}: {v}")
        data = body if isinstance(body, bytes) else None
        if body is not None and data is None:
            lines.append("Transfer-Encoding: chunked")
        elif data is not None or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(data or b'')}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self._busy = True
        if body is not None and not isinstance(body, bytes):
            self._sock.sendall(head)
            self._send_chunks(body)
        else:
            self._sock.sendall(head + (data or b""))
        f = self._file()
        status_line = f.readline(_MAX_LINE)
        if not status_line:
            raise _StaleConnection()
        parts = status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ProtocolError(f"malformed HTTP status line: {status_line!r}")
        status = int(parts[1])
        resp_headers: dict[str, str] = {}
        while True:
            line = f.readline(_MAX_LINE)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            resp_headers[name.strip().lower()] = value.strip()
        if parts[0] == "HTTP/1.0" and "keep-alive" not in resp_headers.get("connection", "").lower():
            resp_headers["connection"] = "close"
        has_body = method != "HEAD" and status not in (204, 304) and not 100 <= status < 200
        return Response(self, status, parts[2] if len(parts) > 2 else "", resp_headers, has_body)


class Hijacked:
    """A connection taken over after `101 UPGRADED` (attach, exec start): raw bytes both ways."""

    def __init__(self, sock: socket.socket, rfile: io.BufferedReader, response: Response) -> None:
        self.sock = sock
        self._rfile = rfile
        self.response = response

    def read1(self, size: int = 65536) -> bytes:
        """Whatever bytes are available (b"" once the daemon closed its side)."""
        return bytes(self._rfile.read1(size))

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close_write(self) -> None:
        """Half-close: the daemon sees end of stdin, output keeps flowing."""
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        self._rfile.close()
        self.sock.close()


class _StaleConnection(Exception):
    """The server closed a kept-alive connection before answering."""
