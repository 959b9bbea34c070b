"""Docker's stdcopy framing: stdout and stderr multiplexed on one non-TTY attach/logs stream.

Each frame is an 8-byte header (stream id, three zero bytes, big-endian payload size) followed
by the payload. The daemon frames, clients demultiplex; a TTY stream is raw and unframed.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

from sampan.errdefs import DataLoss

STDIN = 0
STDOUT = 1
STDERR = 2
SYSTEMERR = 3  # an error from the daemon itself, ended the stream

HEADER = struct.Struct(">BxxxI")
MAX_FRAME = 1 << 30


def frame(stream: int, data: bytes) -> bytes:
    if stream not in (STDIN, STDOUT, STDERR, SYSTEMERR):
        raise ValueError(f"unknown stream id {stream}")
    return HEADER.pack(stream, len(data)) + data


class Demuxer:
    """Incremental parser: feed bytes as they arrive, get whole (stream, payload) frames back."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self._buf += data
        out: list[tuple[int, bytes]] = []
        while len(self._buf) >= HEADER.size:
            stream, size = HEADER.unpack_from(self._buf)
            if stream > SYSTEMERR:
                raise DataLoss(f"unrecognized input header: {stream}")
            if size > MAX_FRAME:
                raise DataLoss(f"stdcopy frame too large: {size} bytes")
            end = HEADER.size + size
            if len(self._buf) < end:
                break
            out.append((stream, bytes(self._buf[HEADER.size:end])))
            del self._buf[:end]
        return out

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame still buffered (non-zero at EOF means truncation)."""
        return len(self._buf)


def demux(reader: BinaryIO, chunk_size: int = 65536) -> Iterator[tuple[int, bytes]]:
    """Frames from a blocking reader until EOF; a truncated last frame raises DataLoss."""
    parser = Demuxer()
    while data := reader.read(chunk_size):
        yield from parser.feed(data)
    if parser.pending:
        raise DataLoss(f"stdcopy stream ended inside a frame ({parser.pending} bytes left)")
