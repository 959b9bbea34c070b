"""Content store: verified atomic commits, resumable ingests, ref locks, digest validation."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sampan.errdefs import DataLoss, InvalidArgument, NotFound, Unavailable
from sampan.store.content import ContentStore


def dg(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> ContentStore:
    return ContentStore(str(tmp_path / "content"))


def test_write_blob_and_read_back(store: ContentStore) -> None:
    d = store.write_blob(b"hello")
    assert d == dg(b"hello")
    assert store.has(d)
    assert store.size(d) == 5
    assert store.read_bytes(d) == b"hello"
    with store.open(d) as f:
        assert f.read() == b"hello"
    assert store.path(d).endswith("/blobs/sha256/" + d.split(":")[1])
    assert list(store.list()) == [(d, 5)]
    assert store.write_blob(b"hello") == d  # idempotent


def test_write_blob_wrong_expected_is_data_loss(store: ContentStore) -> None:
    with pytest.raises(DataLoss):
        store.write_blob(b"hello", expected=dg(b"other"))
    assert list(store.list()) == []


def test_missing_blob_errors(store: ContentStore) -> None:
    missing = dg(b"nope")
    assert not store.has(missing)
    with pytest.raises(NotFound, match=f"content digest {missing}: not found"):
        store.path(missing)
    with pytest.raises(NotFound):
        store.size(missing)
    with pytest.raises(NotFound):
        store.open(missing)
    with pytest.raises(NotFound):
        store.delete(missing)


def test_read_bytes_limit(store: ContentStore) -> None:
    d = store.write_blob(b"x" * 100)
    with pytest.raises(InvalidArgument):
        store.read_bytes(d, max_size=10)
    assert store.read_bytes(d, max_size=100) == b"x" * 100


def test_delete(store: ContentStore) -> None:
    d = store.write_blob(b"gone")
    store.delete(d)
    assert not store.has(d)


@pytest.mark.parametrize(
    "bad",
    ["sha256:../../../etc/passwd", "sha256/../x", "../" * 3, "sha256:" + "A" * 64, "md5:abc", "sha256:" + "0" * 63],
)
def test_crafted_digests_never_reach_paths(store: ContentStore, bad: str) -> None:
    with pytest.raises(InvalidArgument):
        store.has(bad)
    with pytest.raises(InvalidArgument):
        store.path(bad)
    with pytest.raises(InvalidArgument):
        store.writer("ref", expected=bad)


def test_writer_commit_verifies(store: ContentStore) -> None:
    data = os.urandom(3 << 20)
    with store.writer("layer-1", expected=dg(data), size=len(data)) as w:
        assert w.offset == 0
        w.write(data[:1000])
        w.write(memoryview(data)[1000:])
        assert w.commit() == dg(data)
    assert store.read_bytes(dg(data)) == data
    assert list(store.ingests()) == []


def test_writer_digest_mismatch_removes_ingest(store: ContentStore) -> None:
    w = store.writer("bad", expected=dg(b"right"), size=5)
    w.write(b"wrong")
    with pytest.raises(DataLoss, match="expected " + dg(b"right")):
        w.commit()
    assert not store.has(dg(b"wrong"))
    assert list(store.ingests()) == []
    store.writer("bad").abort()  # the ref is free again


def test_writer_size_mismatch(store: ContentStore) -> None:
    w = store.writer("short", size=10)
    w.write(b"abc")
    with pytest.raises(DataLoss, match="size"):
        w.commit()
    w2 = store.writer("long", size=2)
    with pytest.raises(DataLoss):
        w2.write(b"abc")
    assert list(store.ingests()) == []


def test_commit_of_existing_digest_discards_ingest(store: ContentStore) -> None:
    d = store.write_blob(b"same")
    w = store.writer("dup", expected=d)
    w.write(b"same")
    assert w.commit() == d
    assert list(store.ingests()) == []
    assert store.read_bytes(d) == b"same"


def test_context_manager_aborts_on_error(store: ContentStore) -> None:
    with pytest.raises(RuntimeError), store.writer("boom") as w:
        w.write(b"partial")
        raise RuntimeError("network")
    assert list(store.ingests()) == []


def test_resume_after_close(store: ContentStore) -> None:
    data = b"0123456789" * 1000
    w = store.writer("resume", expected=dg(data), size=len(data))
    w.write(data[:4321])
    w.close()  # keeps the partial ingest
    assert list(store.ingests()) == [("resume", 4321)]
    w = store.writer("resume", expected=dg(data), size=len(data))
    assert w.offset == 4321
    w.write(data[4321:])
    assert w.commit() == dg(data)


def test_resume_after_crash(tmp_path: Path) -> None:
    """A writer process killed mid-ingest leaves data a new writer continues from."""
    root = str(tmp_path / "c")
    data = os.urandom(100_000)
    expected = dg(data)
    script = textwrap.dedent(
        f"""
        import os, sys
        from sampan.store.content import ContentStore
        w = ContentStore({root!r}).writer("crash", expected={expected!r}, size={len(data)})
        w.write(sys.stdin.buffer.read(60000))
        os._exit(9)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], input=data, check=False)
    assert proc.returncode == 9
    store = ContentStore(root)
    w = store.writer("crash", expected=expected, size=len(data))
    assert w.offset == 60000
    w.write(data[60000:])
    assert w.commit() == expected


def test_resume_with_different_expected_restarts(store: ContentStore) -> None:
    w = store.writer("r", expected=dg(b"aaaa"))
    w.write(b"aa")
    w.close()
    w = store.writer("r", expected=dg(b"bbbb"))
    assert w.offset == 0
    w.write(b"bbbb")
    assert w.commit() == dg(b"bbbb")


def test_same_ref_locked_in_process(store: ContentStore) -> None:
    w = store.writer("locked")
    with pytest.raises(Unavailable, match="ref locked locked"):
        store.writer("locked")
    with pytest.raises(Unavailable):
        store.abort("locked")
    w.abort()
    store.writer("locked").abort()


def test_same_ref_locked_across_processes(tmp_path: Path) -> None:
    root = str(tmp_path / "c")
    store = ContentStore(root)
    w = store.writer("shared")
    script = textwrap.dedent(
        f"""
        from sampan.errdefs import Unavailable
        from sampan.store.content import ContentStore
        try:
            ContentStore({root!r}).writer("shared")
        except Unavailable:
            raise SystemExit(3)
        """
    )
    assert subprocess.run([sys.executable, "-c", script], check=False).returncode == 3
    w.abort()


def test_abort_ref(store: ContentStore) -> None:
    w = store.writer("ab")
    w.write(b"x")
    w.close()
    store.abort("ab")
    assert list(store.ingests()) == []
    with pytest.raises(NotFound):
        store.abort("ab")


def test_write_from_stream(store: ContentStore) -> None:
    data = os.urandom(2_500_000)
    w = store.writer("stream", expected=dg(data))
    assert w.write_from(io.BytesIO(data), chunk=1 << 16) == len(data)
    assert w.commit() == dg(data)


def test_blob_never_visible_before_commit(store: ContentStore) -> None:
    data = b"not yet"
    w = store.writer("vis", expected=dg(data))
    w.write(data)
    assert not store.has(dg(data))
    assert list(store.list()) == []
    w.commit()
    assert store.has(dg(data))
    mode = os.stat(store.path(dg(data))).st_mode & 0o777
    assert mode == 0o444


def test_sigkill_never_leaves_a_wrong_blob(tmp_path: Path) -> None:
    """Kill a writer at a random instant: every visible blob still matches its digest."""
    import signal
    import time

    root = str(tmp_path / "c")
    script = textwrap.dedent(
        f"""
        import os
        from sampan.store.content import ContentStore
        store = ContentStore({root!r})
        print("ready", flush=True)
        i = 0
        while True:
            data = os.urandom(1 << 20) * 4
            with store.writer(f"ref-{{i}}") as w:
                for k in range(4):
                    w.write(data[k << 20:(k + 1) << 20])
                w.commit()
            store.write_blob(os.urandom(200_000))
            i += 1
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    time.sleep(0.4)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    store = ContentStore(root)
    blobs = list(store.list())
    assert blobs
    for digest, size in blobs:
        assert dg(store.read_bytes(digest)) == digest
        assert size == store.size(digest)
