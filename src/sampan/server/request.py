"""The request a route handler sees: method, path, query, headers, a streaming body.

Query helpers parse values the way Docker's daemon does, so clients that send `1`, `True`
or legacy filter JSON get the same answers they would get from dockerd.
"""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from sampan.api.filters import Filters, decode_filters
from sampan.api.versions import DEFAULT_API_VERSION, less_than
from sampan.errdefs import InvalidArgument

MAX_JSON_BODY = 16 << 20
_FALSE_WORDS = frozenset({"", "0", "no", "false", "none"})


class BadRequest(Exception):
    """The bytes on the wire are not HTTP we accept; answered with 400 and a closed connection."""


class _NoReader(asyncio.StreamReader):
    """Stands in for a connection when a request has no body (tests, internal requests)."""

    def __init__(self) -> None:  # no event loop needed: it is never read
        pass


_NO_READER = _NoReader()


class Body:
    """A request body read lazily from the connection (Content-Length or chunked framing)."""

    def __init__(self, reader: asyncio.StreamReader | None, *, length: int = 0, chunked: bool = False,
                 on_first_read: Any = None) -> None:
        if reader is None:
            if length or chunked:
                raise ValueError("a body with content needs a reader")
            reader = _NO_READER
        self._reader = reader
        self._remaining = length
        self._chunked = chunked
        self._chunk_left = 0
        self._done = not chunked and length == 0
        self._on_first_read = on_first_read

    @property
    def done(self) -> bool:
        return self._done

    def blocking(self, loop: asyncio.AbstractEventLoop) -> BlockingBody:
        """This body as a file a worker thread reads (an upload streamed on as it arrives)."""
        return BlockingBody(self, loop)

    async def peer_closed(self) -> None:
        """Returns when the client closes its end of the connection, for a long-lived response.

        Meant for requests whose body was fully read (a GET that streams events): bytes the
        client sends meanwhile are read and dropped. Never returns for a request made without
        a connection.
        """
        if self._reader is _NO_READER or not self._done:
            await asyncio.Event().wait()
            return
        try:
            while await self._reader.read(65536):
                pass
        except (ConnectionError, OSError):
            pass

    async def read(self, n: int = 65536) -> bytes:
        """Up to `n` bytes of body; b"" once it is exhausted."""
        if self._done:
            return b""
        if self._on_first_read is not None:
            callback, self._on_first_read = self._on_first_read, None
            await callback()
        if not self._chunked:
            data = await self._reader.read(min(n, self._remaining))
            if not data:
                raise BadRequest("unexpected end of request body")
            self._remaining -= len(data)
            self._done = self._remaining == 0
            return data
        if self._chunk_left == 0:
            await self._next_chunk()
            if self._done:
                return b""
        data = await self._reader.read(min(n, self._chunk_left))
        if not data:
            raise BadRequest("unexpected end of chunked body")
        self._chunk_left -= len(data)
        if self._chunk_left == 0 and await self._reader.readexactly(2) != b"\r\n":
            raise BadRequest("malformed chunk terminator")
        return data

    async def _line(self) -> bytes:
        try:
            return await self._reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            raise BadRequest("chunk header line too long")

    async def _next_chunk(self) -> None:
        line = await self._line()
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise BadRequest(f"invalid chunk size {size_text!r}")
        if size < 0:
            raise BadRequest("negative chunk size")
        if size == 0:
            while (await self._line()).strip():
                pass  # trailers are read and ignored
            self._done = True
        self._chunk_left = size

    async def read_all(self, limit: int = MAX_JSON_BODY) -> bytes:
        parts: list[bytes] = []
        total = 0
        while chunk := await self.read():
            total += len(chunk)
            if total > limit:
                raise InvalidArgument(f"request body is larger than {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    async def drain(self, limit: int) -> bool:
        """Discard what is left (to reuse the connection); False when more than `limit` remains."""
        seen = 0
        while chunk := await self.read():
            seen += len(chunk)
            if seen > limit:
                return False
        return True


class BlockingBody(io.RawIOBase):
    """A request body read from a worker thread: each read waits for the event loop to get
    bytes from the connection, so a large upload never has to be held or spooled first."""

    def __init__(self, body: Body, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._body = body
        self._loop = loop

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            parts = []
            while chunk := self.read(1 << 20):
                parts.append(chunk)
            return b"".join(parts)
        return asyncio.run_coroutine_threadsafe(self._body.read(n), self._loop).result()

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


@dataclass
class Request:
    method: str
    target: str
    path: str
    http_version: str
    headers: dict[str, str]
    body: Body
    query: dict[str, list[str]] = field(default_factory=dict)
    api_version: str = DEFAULT_API_VERSION
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse_target(cls, target: str) -> tuple[str, dict[str, list[str]]]:
        from urllib.parse import unquote

        if target.startswith(("http://", "https://")):  # absolute-form (proxies, some clients)
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        path, _, raw_query = target.partition("?")
        query = parse_qs(raw_query, keep_blank_values=True) if raw_query else {}
        return unquote(path), query

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def has_query(self, name: str) -> bool:
        return name in self.query

    def query_value(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[0] if values else default

    def query_list(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    def query_bool(self, name: str, default: bool = False) -> bool:
        """Docker's lenient bool: empty, 0, no, false, none are false; anything else is true."""
        if name not in self.query:
            return default
        return self.query_value(name).strip().lower() not in _FALSE_WORDS

    def query_int(self, name: str, default: int = 0) -> int:
        text = self.query_value(name).strip()
        if not text:
            return default
        try:
            return int(text)
        except ValueError:
            raise InvalidArgument(f'invalid value for {name}: strconv.Atoi: parsing "{text}": invalid syntax')

    def query_filters(self, name: str = "filters") -> Filters:
        return decode_filters(self.query_value(name))

    def version_before(self, version: str) -> bool:
        """True when the client speaks an API older than `version` (for version-gated fields)."""
        return less_than(self.api_version, version)

    def check_json_content_type(self) -> None:
        """dockerd refuses bodies labelled as something other than JSON (no label is fine)."""
        ctype = self.header("content-type")
        if ctype and ctype.split(";", 1)[0].strip().lower() != "application/json":
            raise InvalidArgument(f"unsupported Content-Type header ({ctype}): must be 'application/json'")

    async def json(self, *, allow_empty: bool = True) -> Any:
        self.check_json_content_type()
        data = await self.body.read_all()
        if not data.strip():
            if allow_empty:
                return None
            raise InvalidArgument("got EOF while reading request body")
        try:
            return json.loads(data)
        except ValueError as exc:
            raise InvalidArgument(f"invalid JSON: {exc}")
