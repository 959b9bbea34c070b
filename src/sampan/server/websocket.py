"""The server side of RFC 6455 WebSockets over a hijacked connection (attach/ws).

The handshake is checked before the connection is taken over, so a bad one is an ordinary
400; afterwards `WebSocket` reads the client's (masked, possibly fragmented) frames, answers
pings and the closing handshake, and writes unmasked frames. Each frame goes out in one
`write`, so two tasks may send on the same socket.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import struct

from sampan.errdefs import InvalidArgument

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA
CLOSE_NORMAL, CLOSE_PROTOCOL_ERROR, CLOSE_TOO_BIG = 1000, 1002, 1009
MAX_MESSAGE = 16 << 20
CLOSE_WAIT = 2.0


class ProtocolError(Exception):
    """The peer broke RFC 6455; the connection is closed with `code`."""

    def __init__(self, message: str, code: int = CLOSE_PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.code = code


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")


def _tokens(value: str) -> set[str]:
    return {t.strip().lower() for t in value.split(",") if t.strip()}


def check_handshake(headers: dict[str, str]) -> str:
    """The client's key, once its opening handshake (lower-cased header names) is valid."""
    if "websocket" not in _tokens(headers.get("upgrade", "")):
        raise InvalidArgument("websocket: the client is not using the websocket protocol: "
                              "'websocket' token not found in 'Upgrade' header")
    if "upgrade" not in _tokens(headers.get("connection", "")):
        raise InvalidArgument("websocket: the client is not using the websocket protocol: "
                              "'upgrade' token not found in 'Connection' header")
    if headers.get("sec-websocket-version", "").strip() != "13":
        raise InvalidArgument("websocket: unsupported version: 13 not found in 'Sec-Websocket-Version' header")
    key = headers.get("sec-websocket-key", "").strip()
    try:
        valid = len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        raise InvalidArgument("websocket: not a websocket handshake: 'Sec-WebSocket-Key' header must be "
                              "Base64 encoded value of 16-byte length")
    return key


def encode_frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bytes | None = None) -> bytes:
    """One frame; servers send unmasked frames, clients (tests) pass a 4-byte `mask`."""
    head = bytearray([(0x80 if fin else 0) | opcode])
    mask_bit = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head.append(mask_bit | n)
    elif n < 1 << 16:
        head.append(mask_bit | 126)
        head += struct.pack(">H", n)
    else:
        head.append(mask_bit | 127)
        head += struct.pack(">Q", n)
    if mask:
        head += mask
        payload = apply_mask(payload, mask)
    return bytes(head) + payload


def apply_mask(data: bytes, mask: bytes) -> bytes:
    """XOR with the repeating 4-byte key (its own inverse)."""
    if not data:
        return b""
    n = len(data)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ key).to_bytes(n, "big")


async def read_frame(reader: asyncio.StreamReader, *, require_mask: bool = True,
                     limit: int = MAX_MESSAGE) -> tuple[bool, int, bytes]:
    """(fin, opcode, unmasked payload) of the next frame."""
    b0, b1 = await reader.readexactly(2)
    if b0 & 0x70:
        raise ProtocolError("reserved bits set without an extension")
    fin, opcode, masked, n = bool(b0 & 0x80), b0 & 0x0F, bool(b1 & 0x80), b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack(">H", await reader.readexactly(2))
    elif n == 127:
        (n,) = struct.unpack(">Q", await reader.readexactly(8))
    if opcode >= OP_CLOSE and (n > 125 or not fin):
        raise ProtocolError("control frames are short and never fragmented")
    if require_mask and not masked:
        raise ProtocolError("client frames must be masked")
    if n > limit:
        raise ProtocolError(f"message larger than {limit} bytes", CLOSE_TOO_BIG)
    mask = await reader.readexactly(4) if masked else b""
    payload = await reader.readexactly(n)
    return fin, opcode, apply_mask(payload, mask) if masked else payload


class WebSocket:
    """A server-side WebSocket on a hijacked connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 max_message: int = MAX_MESSAGE) -> None:
        self.reader, self.writer = reader, writer
        self.max_message = max_message
        self.closed = False  # our close frame is sent: no more data may follow
        self.peer_closed = False  # the client's close frame (or EOF) was seen

    async def send(self, data: bytes, binary: bool = True) -> None:
        if self.closed:
            return
        self.writer.write(encode_frame(OP_BINARY if binary else OP_TEXT, data))
        await self.writer.drain()

    async def close(self, code: int = CLOSE_NORMAL, reason: str = "", wait: float = CLOSE_WAIT) -> None:
        """Send our close frame once; when we started the closing handshake, give the peer
        `wait` seconds to answer it, so that it does not write into a socket we already shut."""
        if self.closed:
            return
        self.closed = True
        try:
            self.writer.write(encode_frame(OP_CLOSE, struct.pack(">H", code) + reason.encode()[:120]))
            await self.writer.drain()
        except (ConnectionError, OSError):
            return
        if self.peer_closed or wait <= 0:
            return
        with contextlib.suppress(TimeoutError, ProtocolError, asyncio.IncompleteReadError, ConnectionError, OSError):
            async with asyncio.timeout(wait):
                while (await read_frame(self.reader, limit=self.max_message))[1] != OP_CLOSE:
                    pass
        self.peer_closed = True

    async def receive(self) -> bytes | None:
        """The next data message, or None once the client closed (answered) or hung up."""
        parts: list[bytes] = []
        size = 0
        try:
            while True:
                fin, opcode, payload = await read_frame(self.reader, limit=self.max_message - size)
                if opcode == OP_PING:
                    if not self.closed:
                        self.writer.write(encode_frame(OP_PONG, payload))
                        await self.writer.drain()
                    continue
                if opcode == OP_PONG:
                    continue
                if opcode == OP_CLOSE:
                    self.peer_closed = True
                    code = struct.unpack(">H", payload[:2])[0] if len(payload) >= 2 else CLOSE_NORMAL
                    await self.close(code if code == CLOSE_NORMAL else CLOSE_NORMAL)
                    return None
                if opcode not in (OP_TEXT, OP_BINARY, OP_CONTINUATION) or \
                        (opcode == OP_CONTINUATION) != bool(parts):
                    raise ProtocolError(f"unexpected opcode {opcode:#x}")
                parts.append(payload)
                size += len(payload)
                if fin:
                    return b"".join(parts)
        except ProtocolError as exc:
            await self.close(exc.code, str(exc), wait=0)
            return None
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            self.peer_closed = True
            return None
