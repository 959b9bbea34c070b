"""Layer (de)compression: gzip through isal (inflate in a helper thread), zstd, or plain.

Registries and builders sometimes label a layer with the wrong media type, so callers can
sniff the first bytes with `detect_compression`, as Docker does.
"""

from __future__ import annotations

import io
from typing import BinaryIO

import zstandard
from isal import igzip_threaded

from sampan.errdefs import InvalidArgument

_GZIP_MAGIC = b"\x1f\x8b\x08"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_BZIP2_MAGIC = b"BZh"
_XZ_MAGIC = b"\xfd7zXZ\x00"
_BLOCK = 1 << 20


def detect_compression(head: bytes) -> str:
    """"gzip", "zstd" or "" (plain) from a stream's first bytes; bzip2/xz are refused."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    if head.startswith(_BZIP2_MAGIC) or head.startswith(_XZ_MAGIC):
        raise InvalidArgument("unsupported layer compression (bzip2/xz)")
    return ""


def decompressor(stream: BinaryIO, compression: str) -> BinaryIO:
    """A readable (with `readinto`) stream of the uncompressed bytes of `stream`."""
    if compression == "gzip":
        # threads=1: one background thread reads and inflates (isal releases the GIL), so
        # hashing and writing in the caller's thread overlap with inflating.
        return igzip_threaded.open(stream, "rb", threads=1, block_size=_BLOCK)
    if compression == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(stream, read_size=_BLOCK, closefd=False)
        return io.BufferedReader(reader, buffer_size=_BLOCK)
    if compression == "":
        return stream
    raise InvalidArgument(f"unsupported layer compression {compression!r}")
