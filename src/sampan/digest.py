"""Content digests: parsing, streaming computation and verification.

A digest is `algorithm:hex`. Only sha256 and sha512 are accepted (as in the OCI image
spec); anything else is rejected before it can reach a path on disk.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import BinaryIO

from sampan.errdefs import DataLoss, InvalidArgument

_HEX_LEN = {"sha256": 64, "sha512": 128}
_DIGEST_RE = re.compile(r"^(sha256|sha512):([a-f0-9]+)$")


@dataclass(frozen=True, order=True)
class Digest:
    algorithm: str
    hex: str

    @classmethod
    def parse(cls, text: str) -> Digest:
        m = _DIGEST_RE.match(text)
        if not m or len(m.group(2)) != _HEX_LEN[m.group(1)]:
            raise InvalidArgument(f"invalid digest: {text!r}")
        return cls(m.group(1), m.group(2))

    @classmethod
    def of_bytes(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        return cls(algorithm, hashlib.new(algorithm, data).hexdigest())

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"

    @property
    def short(self) -> str:
        """The 12-character form Docker prints in tables and progress lines."""
        return self.hex[:12]


def is_digest(text: str) -> bool:
    m = _DIGEST_RE.match(text)
    return bool(m) and len(m.group(2)) == _HEX_LEN[m.group(1)]  # type: ignore[union-attr]


class Digester:
    """Incremental digest computation."""

    def __init__(self, algorithm: str = "sha256") -> None:
        self.algorithm = algorithm
        self._h = hashlib.new(algorithm)
        self.size = 0

    def update(self, data: bytes | memoryview) -> None:
        self._h.update(data)
        self.size += len(data)

    def digest(self) -> Digest:
        return Digest(self.algorithm, self._h.hexdigest())


class VerifyingReader:
    """Wraps a stream, digesting what passes through; `verify()` checks size and digest at EOF."""

    def __init__(self, stream: BinaryIO, expected: Digest, expected_size: int | None = None) -> None:
        self._stream = stream
        self.expected = expected
        self.expected_size = expected_size
        self._digester = Digester(expected.algorithm)

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        if data:
            self._digester.update(data)
            if self.expected_size is not None and self._digester.size > self.expected_size:
                raise DataLoss(
                    f"content for {self.expected} is larger than its declared size {self.expected_size}"
                )
        return data

    def readinto(self, buf: bytearray | memoryview) -> int:
        n = self._stream.readinto(buf)  # type: ignore[attr-defined]
        if n:
            self._digester.update(memoryview(buf)[:n])
        return int(n or 0)

    @property
    def size(self) -> int:
        return self._digester.size

    def verify(self) -> None:
        if self.expected_size is not None and self._digester.size != self.expected_size:
            raise DataLoss(
                f"size mismatch for {self.expected}: got {self._digester.size} bytes, "
                f"expected {self.expected_size}"
            )
        got = self._digester.digest()
        if got != self.expected:
            raise DataLoss(f"digest mismatch: expected {self.expected}, got {got}")
