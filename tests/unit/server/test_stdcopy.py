from __future__ import annotations

import io

import pytest

from sampan.api.stdcopy import STDERR, STDOUT, SYSTEMERR, Demuxer, demux, frame
from sampan.errdefs import DataLoss


def test_frame_header() -> None:
    assert frame(STDOUT, b"hi") == b"\x01\x00\x00\x00\x00\x00\x00\x02hi"
    assert frame(STDERR, b"") == b"\x02\x00\x00\x00\x00\x00\x00\x00"
    with pytest.raises(ValueError):
        frame(7, b"x")


def test_demuxer_byte_by_byte() -> None:
    data = frame(STDOUT, b"out") + frame(STDERR, b"err" * 100) + frame(SYSTEMERR, b"boom")
    parser = Demuxer()
    got = []
    for i in range(len(data)):
        got += parser.feed(data[i : i + 1])
    assert got == [(STDOUT, b"out"), (STDERR, b"err" * 100), (SYSTEMERR, b"boom")]
    assert parser.pending == 0


def test_demux_reader_and_truncation() -> None:
    data = frame(STDOUT, b"a") + frame(STDERR, b"bc")
    assert list(demux(io.BytesIO(data))) == [(STDOUT, b"a"), (STDERR, b"bc")]
    with pytest.raises(DataLoss):
        list(demux(io.BytesIO(data[:-1])))
    with pytest.raises(DataLoss):
        Demuxer().feed(b"\x09\x00\x00\x00\x00\x00\x00\x01x")
