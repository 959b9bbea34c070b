"""Wire formats: stdcopy framing, line codec, times, exit statuses, atomic writes."""

from __future__ import annotations

import json
import os

import pytest

from sampan.shim import wire


def test_stdcopy_frame_layout() -> None:
    data = wire.frame(wire.STDERR, b"hello")
    assert data == b"\x02\x00\x00\x00\x00\x00\x00\x05hello"
    assert wire.parse_header(data[:8]) == (wire.STDERR, 5)


def test_stdcopy_big_length_is_big_endian() -> None:
    assert wire.frame(wire.STDOUT, b"x" * 70000)[:8] == b"\x01\x00\x00\x00\x00\x01\x11\x70"


@pytest.mark.parametrize("header", [b"\x01\x00\x00", b"\x07\x00\x00\x00\x00\x00\x00\x01"])
def test_bad_stdcopy_headers(header: bytes) -> None:
    with pytest.raises(wire.ProtocolError):
        wire.parse_header(header)


def test_codec_round_trip_is_one_line() -> None:
    line = wire.encode({"op": "kill", "signal": 9, "all": True})
    assert line == b'{"op":"kill","signal":9,"all":true}\n'
    assert wire.decode(line) == {"op": "kill", "signal": 9, "all": True}


@pytest.mark.parametrize("line", [b"nope", b"[1,2]", b"\xff\n", b'"text"'])
def test_decode_rejects_non_objects(line: bytes) -> None:
    with pytest.raises(wire.ProtocolError):
        wire.decode(line)


def test_error_shape() -> None:
    assert wire.error("No such thing", "NotFound") == {"error": "No such thing", "kind": "NotFound"}


@pytest.mark.parametrize(("ns", "text"), [
    (0, "1970-01-01T00:00:00Z"),
    (1_700_000_000_000_000_000, "2023-11-14T22:13:20Z"),
    (1_700_000_000_100_000_000, "2023-11-14T22:13:20.1Z"),
    (1_700_000_000_123_456_789, "2023-11-14T22:13:20.123456789Z"),
])
def test_rfc3339nano_trims_zeros_like_go(ns: int, text: str) -> None:
    assert wire.rfc3339nano(ns) == text


def test_exit_codes() -> None:
    assert wire.exit_code_of(3 << 8) == 3
    assert wire.exit_code_of(0) == 0
    assert wire.exit_code_of(9) == 137  # killed by SIGKILL
    assert wire.exit_code_of(15 | 0x80) == 143  # SIGTERM with a core dump flag
    with pytest.raises(ValueError):
        wire.exit_code_of(0x137F)  # stopped, not ended


def test_exit_record_fields() -> None:
    assert wire.exit_record(1, "2024-01-01T00:00:00Z", 42) == {
        "exit_code": 1, "exited_at": "2024-01-01T00:00:00Z", "pid": 42, "oom_killed": False}


def test_write_atomic_leaves_no_temp(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "exit.json")
    wire.write_atomic(path, json.dumps({"exit_code": 0}).encode())
    wire.write_atomic(path, json.dumps({"exit_code": 1}).encode())
    assert os.listdir(tmp_path) == ["exit.json"]
    with open(path) as f:
        assert json.load(f) == {"exit_code": 1}
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_write_atomic_from_several_threads_at_once(tmp_path: object) -> None:
    """The daemon saves one record from several threads: each write is whole, none fails."""
    import threading

    path = os.path.join(str(tmp_path), "config.v2.json")
    payloads = [bytes([65 + i]) * 50_000 for i in range(4)]
    errors: list[BaseException] = []

    def writer(data: bytes) -> None:
        try:
            for _ in range(50):
                wire.write_atomic(path, data)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with open(path, "rb") as f:
        assert f.read() in payloads
    assert os.listdir(str(tmp_path)) == ["config.v2.json"]  # no temp file left
