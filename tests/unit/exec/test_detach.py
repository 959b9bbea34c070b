"""Detach keys: Docker's key-list grammar and the scanner that ends an exec stream on them."""

from __future__ import annotations

import pytest

from sampan.api.detachkeys import DetachScanner
from sampan.daemon.containers.execs import parse_detach_keys
from sampan.errdefs import InvalidArgument


def test_parse_detach_keys() -> None:
    assert parse_detach_keys("ctrl-p,ctrl-q") == b"\x10\x11"
    assert parse_detach_keys("a,ctrl-@,ctrl-[,ctrl-_") == b"a\x00\x1b\x1f"
    for bad in ("ctrl-1", "ab", "ctrl-", ""):
        with pytest.raises(InvalidArgument, match="Invalid detach keys"):
            parse_detach_keys(bad)


def test_scanner_holds_back_the_sequence() -> None:
    scanner = DetachScanner(b"\x10\x11")
    assert scanner.feed(b"abc") == (b"abc", False)
    assert scanner.feed(b"x\x10") == (b"x", False)  # held: may start the sequence
    assert scanner.feed(b"y") == (b"\x10y", False)  # broken: passed on
    assert scanner.feed(b"\x10\x10") == (b"\x10", False)
    assert scanner.feed(b"\x11rest") == (b"", True)


def test_scanner_single_key_and_none() -> None:
    assert DetachScanner(b"\x18").feed(b"ab\x18cd") == (b"ab", True)
    assert DetachScanner(b"").feed(b"\x10\x11") == (b"\x10\x11", False)
