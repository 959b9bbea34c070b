"""HTTP/1.1 over an asyncio stream: parse requests, run the app, write its reply.

One `Connection` serves requests one after another (keep-alive, pipelining), reads bodies
with Content-Length or chunked framing, and writes whole, chunked-streaming or hijacked
replies. Every reply carries the headers Docker clients look at (Api-Version, Ostype, ...).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from http import HTTPStatus

from sampan import __version__
from sampan.api.versions import MAX_API_VERSION
from sampan.server.errors import error_response
from sampan.server.request import BadRequest, Body, Request
from sampan.server.response import HijackResponse, Reply, Response, StreamResponse

log = logging.getLogger(__name__)

App = Callable[[Request], Awaitable[Reply]]

MAX_HEAD = 1 << 20
MAX_DRAIN = 1 << 20
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})


def common_headers() -> list[tuple[str, str]]:
    return [
        ("Api-Version", MAX_API_VERSION),
        ("Docker-Experimental", "false"),
        ("Ostype", "linux"),
        ("Server", f"sampan/{__version__} (linux)"),
        ("Date", formatdate(usegmt=True)),
    ]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _head_bytes(status_line: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [status_line, *(f"{k}: {v}" for k, v in headers), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    """Request line and headers (names lower-cased, repeats joined with ", ")."""
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes everything
        raise BadRequest("undecodable request head")
    lines = text.replace("\r\n", "\n").split("\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[1]:
        raise BadRequest(f"malformed request line {lines[0][:100]!r}")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(f"unsupported protocol {version[:20]!r}")
    if not method.isalpha() or not method.isupper():
        raise BadRequest(f"malformed method {method[:20]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t":
            raise BadRequest("obsolete header line folding")
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(f"malformed header line {line[:100]!r}")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return method, target, version, headers


def _tokens(value: str) -> set[str]:
    return {t.strip().lower() for t in value.split(",") if t.strip()}


class Connection:
    """One client connection; `busy` is true while a request is being served."""

    def __init__(self, app: App, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.app = app
        self.reader = reader
        self.writer = writer
        self.busy = False
        self.closing = False
        self.streaming_endless = False  # serving a StreamResponse that ends only with the client

    def close_when_idle(self) -> None:
        """Ask the connection to finish its current request and then close (daemon shutdown)."""
        self.closing = True
        if not self.busy:
            self.writer.close()

    async def serve(self) -> None:
        try:
            while not self.closing:
                if not await self._serve_one():
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except BadRequest as exc:
            log.debug("bad request: %s", exc)
            await self._send_bad_request(str(exc))
        except Exception:  # a bug in this layer: drop this connection, keep the daemon
            log.exception("HTTP connection failed")
        finally:
            self.busy = False
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def _send_bad_request(self, message: str) -> None:
        body = f"400 Bad Request: {message}".encode()
        headers = [*common_headers(), ("Content-Type", "text/plain; charset=utf-8"),
                   ("Content-Length", str(len(body))), ("Connection", "close")]
        try:
            self.writer.write(_head_bytes("HTTP/1.1 400 Bad Request", headers) + body)
            await self.writer.drain()
        except (ConnectionError, OSError):
            pass

    async def _read_head(self) -> bytes | None:
        try:
            return await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                raise BadRequest("connection closed in the middle of a request head")
            return None
        except asyncio.LimitOverrunError:
            raise BadRequest("request head too large")

    async def _serve_one(self) -> bool:
        """Serve one request; False when the connection must close afterwards."""
        head = await self._read_head()
        if head is None:
            return False
        self.busy = True
        method, target, version, headers = parse_head(head)
        keep_alive = self._wants_keep_alive(version, headers)
        body = self._body_for(headers, version)
        if "chunked" in _tokens(headers.get("transfer-encoding", "")) and "content-length" in headers:
            keep_alive = False
        path, query = Request.parse_target(target)
        request = Request(method, target, path, version, headers, body, query)
        if method not in KNOWN_METHODS:
            reply: Reply = Response.json({"message": "page not found"}, status=404)
        else:
            try:
                reply = await self.app(request)
            except (BadRequest, ConnectionError, asyncio.IncompleteReadError):
                raise
            except Exception as exc:  # the app maps errors itself; this is a last resort
                reply = error_response(exc, context=f"{method} {path}")
        if isinstance(reply, HijackResponse):
            log.debug("%s %s -> hijacked", method, target)
            await self._hijack(request, reply)
            return False
        if not body.done and not await body.drain(MAX_DRAIN):
            keep_alive = False
        if self.closing:
            keep_alive = False
        if isinstance(reply, StreamResponse):
            keep_alive = await self._send_stream(request, reply, keep_alive)
        else:
            await self._send(request, reply, keep_alive)
        log.debug("%s %s -> %d", method, target, reply.status)
        self.busy = False
        return keep_alive and not self.closing

    @staticmethod
    def _wants_keep_alive(version: str, headers: dict[str, str]) -> bool:
        tokens = _tokens(headers.get("connection", ""))
        if version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens

    def _body_for(self, headers: dict[str, str], version: str) -> Body:
        on_first_read = None
        if headers.get("expect", "").lower() == "100-continue" and version == "HTTP/1.1":
            async def send_continue() -> None:
                self.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                await self.writer.drain()
            on_first_read = send_continue
        te = _tokens(headers.get("transfer-encoding", ""))
        if te:
            if te != {"chunked"}:
                raise BadRequest(f"unsupported transfer encoding {headers['transfer-encoding']!r}")
            return Body(self.reader, chunked=True, on_first_read=on_first_read)
        length_text = headers.get("content-length", "0").strip() or "0"
        if not length_text.isdigit():
            raise BadRequest(f"invalid Content-Length {length_text[:30]!r}")
        return Body(self.reader, length=int(length_text), on_first_read=on_first_read)

    async def _send(self, request: Request, reply: Response, keep_alive: bool) -> None:
        headers = common_headers()
        if reply.content_type:
            headers.append(("Content-Type", reply.content_type))
        headers.extend(reply.headers.items())
        no_body = request.method == "HEAD" or reply.status in (204, 304) or reply.status < 200
        if reply.status not in (204, 304):
            headers.append(("Content-Length", str(len(reply.body))))
        if not keep_alive:
            headers.append(("Connection", "close"))
        status_line = f"HTTP/1.1 {reply.status} {_reason(reply.status)}"
        data = _head_bytes(status_line, headers)
        self.writer.write(data if no_body else data + reply.body)
        await self.writer.drain()

    async def _send_stream(self, request: Request, reply: StreamResponse, keep_alive: bool) -> bool:
        chunked = request.http_version == "HTTP/1.1"
        headers = common_headers()
        headers.append(("Content-Type", reply.content_type))
        headers.extend(reply.headers.items())
        if chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        else:
            keep_alive = False
        if not keep_alive:
            headers.append(("Connection", "close"))
        status_line = f"HTTP/1.1 {reply.status} {_reason(reply.status)}"
        self.writer.write(_head_bytes(status_line, headers))
        await self.writer.drain()
        chunks = reply.chunks
        self.streaming_endless = reply.endless
        try:
            async for chunk in chunks:
                if not chunk or request.method == "HEAD":
                    continue
                self.writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
                await self.writer.drain()
        except (ConnectionError, OSError):
            raise
        except Exception:
            # The status is already sent: all we can do is cut the stream short so the client
            # sees an incomplete body rather than a clean end.
            log.exception("%s %s: stream failed", request.method, request.path)
            self.writer.transport.abort()
            return False
        finally:
            self.streaming_endless = False
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()
        if chunked:
            self.writer.write(b"0\r\n\r\n")
            await self.writer.drain()
        return keep_alive

    async def _hijack(self, request: Request, reply: HijackResponse) -> None:
        upgrade = "upgrade" in _tokens(request.header("connection")) and request.header("upgrade")
        headers = [("Content-Type", reply.content_type), *common_headers(), *reply.headers.items()]
        if upgrade:
            headers += [("Connection", "Upgrade"), ("Upgrade", request.header("upgrade"))]
            status_line = f"HTTP/1.1 101 {reply.reason}"
        else:
            status_line = "HTTP/1.1 200 OK"
        self.writer.write(_head_bytes(status_line, headers))
        await self.writer.drain()
        try:
            await reply.handler(self.reader, self.writer)
        except (ConnectionError, OSError):
            pass
        except Exception:
            log.exception("%s %s: hijacked stream failed", request.method, request.path)
