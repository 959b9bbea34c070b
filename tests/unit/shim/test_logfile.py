"""json-file log writer: Docker's line splitting, escaping and rotation."""

from __future__ import annotations

import json
import os

from sampan.shim.logfile import MAX_LINE, JSONFileLog, LineSplitter, encode_entry


def payloads(entries: list[tuple[bytes, int]]) -> list[bytes]:
    return [p for p, _ in entries]


def test_complete_lines_are_emitted_with_newline() -> None:
    s = LineSplitter()
    assert payloads(s.feed(b"a\nbb\n", 1)) == [b"a\n", b"bb\n"]
    assert s.flush() == []


def test_partial_line_waits_for_its_newline_and_keeps_first_timestamp() -> None:
    s = LineSplitter()
    assert s.feed(b"hel", 10) == []
    assert s.feed(b"lo\nx", 20) == [(b"hello\n", 10)]
    assert s.flush() == [(b"x", 20)]


def test_empty_lines_are_logged() -> None:
    assert payloads(LineSplitter().feed(b"\n\n", 1)) == [b"\n", b"\n"]


def test_long_line_split_at_16k_without_newline() -> None:
    s = LineSplitter()
    out = payloads(s.feed(b"x" * 40000 + b"\n", 1))
    assert [len(p) for p in out] == [MAX_LINE, MAX_LINE, 40000 - 2 * MAX_LINE + 1]
    assert not out[0].endswith(b"\n") and out[-1].endswith(b"\n")


def test_line_of_exactly_16k_ends_with_a_lone_newline_like_docker() -> None:
    out = payloads(LineSplitter().feed(b"y" * MAX_LINE + b"\n", 1))
    assert out == [b"y" * MAX_LINE, b"\n"]


def test_long_line_arriving_in_pieces() -> None:
    s = LineSplitter()
    got: list[bytes] = []
    for _ in range(5):
        got += payloads(s.feed(b"z" * 5000, 1))
    assert [len(p) for p in got] == [MAX_LINE]
    assert payloads(s.flush()) == [b"z" * (25000 - MAX_LINE)]


def test_entry_format_and_escaping() -> None:
    line = encode_entry(b'<a & "b">\t\xff\xe2\x80\xa8\n', "stderr", 1_700_000_000_123_450_000)
    assert line.endswith(b"\n")
    text = line.decode()
    assert text.startswith('{"log":"\\u003ca \\u0026 \\"b\\"\\u003e\\t')
    assert "\\u2028" in text
    entry = json.loads(text)
    assert entry == {"log": '<a & "b">\t\ufffd\u2028\n', "stream": "stderr", "time": "2023-11-14T22:13:20.12345Z"}
    assert list(entry) == ["log", "stream", "time"]


def test_non_ascii_kept_as_utf8() -> None:
    assert "é".encode() in encode_entry("café\n".encode(), "stdout", 0)


def read(path: str) -> list[dict[str, str]]:
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_writer_appends_and_flushes_tail(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "c-json.log")
    log = JSONFileLog(path)
    log.write("stdout", b"one\ntw", now_ns=1)
    log.write("stderr", b"e\n", now_ns=2)
    log.write("stdout", b"o", now_ns=3)
    log.close()
    assert [(e["log"], e["stream"]) for e in read(path)] == [("one\n", "stdout"), ("e\n", "stderr"), ("two", "stdout")]
    assert os.stat(path).st_mode & 0o777 == 0o640
    again = JSONFileLog(path)  # a restarted container appends
    again.write("stdout", b"three\n")
    again.close()
    assert len(read(path)) == 4


def test_rotation_keeps_max_file(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "c-json.log")
    log = JSONFileLog(path, max_size=1000, max_file=3)
    for i in range(200):
        log.write("stdout", f"line {i}\n".encode(), now_ns=1)
    log.close()
    assert sorted(os.listdir(tmp_path)) == ["c-json.log", "c-json.log.1", "c-json.log.2"]
    newest, older, oldest = read(path), read(path + ".1"), read(path + ".2")
    assert newest[-1]["log"] == "line 199\n"
    assert older[-1]["log"] == f"line {int(newest[0]['log'].split()[1]) - 1}\n"
    assert int(oldest[-1]["log"].split()[1]) + 1 == int(older[0]["log"].split()[1])
    for name in os.listdir(tmp_path):
        assert os.path.getsize(os.path.join(tmp_path, name)) < 1000 + 100


def test_rotation_with_one_file_truncates(tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(tmp_path, "c-json.log")
    log = JSONFileLog(path, max_size=500, max_file=1)
    for i in range(100):
        log.write("stdout", f"line {i}\n".encode(), now_ns=1)
    log.close()
    assert os.listdir(tmp_path) == ["c-json.log"]
    assert os.path.getsize(path) < 600
    assert read(path)[-1]["log"] == "line 99\n"


def test_chunking_does_not_change_the_messages() -> None:
    import random

    rng = random.Random(7)
    data = b"".join(b"x" * rng.choice([0, 1, 5, 100, MAX_LINE - 1, MAX_LINE, MAX_LINE + 1, 3 * MAX_LINE + 7]) + b"\n"
                    for _ in range(60)) + b"tail"
    whole = LineSplitter()
    expected = payloads(whole.feed(data, 1)) + payloads(whole.flush())
    for _ in range(5):
        s = LineSplitter()
        got: list[bytes] = []
        pos = 0
        while pos < len(data):
            step = rng.randint(1, 40000)
            got += payloads(s.feed(data[pos:pos + step], 1))
            pos += step
        got += payloads(s.flush())
        assert got == expected
    assert b"".join(expected) == data
