"""What a handler returns: a whole response, a chunked stream, or a hijacked connection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

RAW_STREAM = "application/vnd.docker.raw-stream"
MULTIPLEXED_STREAM = "application/vnd.docker.multiplexed-stream"


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, value: Any, status: int = 200) -> Response:
        return cls(status, json.dumps(value, separators=(",", ":")).encode() + b"\n", "application/json")

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        return cls(status, text.encode(), "text/plain; charset=utf-8")

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status)


@dataclass
class StreamResponse:
    """A body of unknown length sent with chunked encoding as the iterator yields."""

    chunks: AsyncIterator[bytes]
    status: int = 200
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    # Ends only when the client leaves or its object changes (events, logs --follow, stats, wait):
    # cut at once at shutdown instead of being waited for like a request still doing work.
    endless: bool = False


HijackHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class HijackResponse:
    """Take over the connection: 101 UPGRADED (or 200 for old clients), then raw bytes both ways."""

    handler: HijackHandler
    content_type: str = RAW_STREAM
    headers: dict[str, str] = field(default_factory=dict)
    reason: str = "UPGRADED"  # the 101's reason phrase: dockerd's attach says UPGRADED, WebSocket peers expect
    # "Switching Protocols"


Reply = Response | StreamResponse | HijackResponse
