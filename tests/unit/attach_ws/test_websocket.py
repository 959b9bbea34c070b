"""RFC 6455 pieces: the accept key, handshake checks, frames in and out, pings and closes."""

from __future__ import annotations

import asyncio
import struct

import pytest

from sampan.errdefs import InvalidArgument
from sampan.server import websocket as ws

MASK = b"\x01\x02\x03\x04"
GOOD = {"upgrade": "websocket", "connection": "keep-alive, Upgrade", "sec-websocket-version": "13",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ=="}


def test_accept_key_of_the_rfc_example() -> None:
    assert ws.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize(("change", "word"), [
    ({"upgrade": "h2c"}, "'Upgrade'"), ({"connection": "keep-alive"}, "'Connection'"),
    ({"sec-websocket-version": "8"}, "unsupported version"), ({"sec-websocket-key": "short"}, "16-byte"),
])
def test_bad_handshakes_are_refused(change: dict[str, str], word: str) -> None:
    assert ws.check_handshake(GOOD) == GOOD["sec-websocket-key"]
    with pytest.raises(InvalidArgument, match=word):
        ws.check_handshake({**GOOD, **change})


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536, 70000])
def test_frame_lengths_round_trip(size: int) -> None:
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)

    async def run() -> tuple[bool, int, bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(ws.encode_frame(ws.OP_BINARY, payload, mask=MASK))
        return await ws.read_frame(reader)

    assert asyncio.run(run()) == (True, ws.OP_BINARY, payload)


def test_server_frames_are_unmasked() -> None:
    assert ws.encode_frame(ws.OP_TEXT, b"hi") == b"\x81\x02hi"
    assert ws.encode_frame(ws.OP_BINARY, b"x" * 200)[:4] == b"\x82\x7e\x00\xc8"


class Writer:
    """The write half the WebSocket needs, recording what it sent."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data

    async def drain(self) -> None:
        pass


def _session(frames: bytes, eof: bool = True) -> tuple[list[bytes | None], bytes]:
    async def run() -> tuple[list[bytes | None], bytes]:
        reader = asyncio.StreamReader()
        reader.feed_data(frames)
        if eof:
            reader.feed_eof()
        writer = Writer()
        sock = ws.WebSocket(reader, writer, max_message=1000)  # type: ignore[arg-type]
        got: list[bytes | None] = []
        while True:
            message = await sock.receive()
            got.append(message)
            if message is None:
                return got, writer.data

    return asyncio.run(run())


def test_fragments_pings_and_the_closing_handshake() -> None:
    frames = (ws.encode_frame(ws.OP_TEXT, b"hel", fin=False, mask=MASK)
              + ws.encode_frame(ws.OP_PING, b"p", mask=MASK)  # allowed between fragments
              + ws.encode_frame(ws.OP_CONTINUATION, b"lo", mask=MASK)
              + ws.encode_frame(ws.OP_BINARY, b"\x00\x01", mask=MASK)
              + ws.encode_frame(ws.OP_CLOSE, struct.pack(">H", 1000), mask=MASK))
    got, sent = _session(frames)
    assert got == [b"hello", b"\x00\x01", None]
    assert sent == ws.encode_frame(ws.OP_PONG, b"p") + ws.encode_frame(ws.OP_CLOSE, struct.pack(">H", 1000))


def test_unmasked_client_frame_is_a_protocol_error() -> None:
    got, sent = _session(ws.encode_frame(ws.OP_TEXT, b"x"))
    assert got == [None] and sent[:4] == b"\x88" + bytes([len(sent) - 2]) + struct.pack(">H", 1002)


def test_oversized_message_closes_with_1009() -> None:
    got, sent = _session(ws.encode_frame(ws.OP_BINARY, b"x" * 2000, mask=MASK))
    assert got == [None] and sent[2:4] == struct.pack(">H", 1009)


def test_hang_up_without_close_frame() -> None:
    got, sent = _session(ws.encode_frame(ws.OP_TEXT, b"a", mask=MASK))
    assert got == [b"a", None] and sent == b""
