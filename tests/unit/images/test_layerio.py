"""The streamed-layer digest sinks: verification, and the partial ingest kept on slow links."""

from __future__ import annotations

import hashlib

import pytest

from sampan.daemon.images.layerio import Digesting, ResumableDigesting
from sampan.errdefs import DataLoss, InvalidArgument
from sampan.store.content import ContentStore

DATA = bytes(range(256)) * 4096  # 1 MiB
DIGEST = "sha256:" + hashlib.sha256(DATA).hexdigest()


def test_digesting_verifies_size_and_digest() -> None:
    ok = Digesting(DIGEST, len(DATA))
    ok.write(DATA[:1000])
    ok.write(memoryview(DATA)[1000:])
    assert ok.verify() == DIGEST
    short = Digesting(DIGEST, len(DATA))
    short.write(DATA[:-1])
    with pytest.raises(DataLoss):
        short.verify()
    wrong = Digesting(DIGEST, len(DATA))
    wrong.write(b"x" * len(DATA))
    with pytest.raises(DataLoss):
        wrong.verify()
    with pytest.raises(DataLoss):
        Digesting(DIGEST, 10).write(DATA)


def test_slow_link_keeps_a_resumable_partial_ingest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = ContentStore(str(tmp_path))
    writer = store.writer("layer-x", expected=DIGEST, size=len(DATA))
    sink = ResumableDigesting(DIGEST, len(DATA), writer, fast=1e15, probe=1)
    sink.write(DATA[:300_000])
    assert sink.keeping
    writer.close()  # as a crash would leave it
    resumed = store.writer("layer-x", expected=DIGEST, size=len(DATA))
    assert resumed.offset == 300_000
    resumed.write(DATA[300_000:])
    assert resumed.commit() == DIGEST


def test_fast_link_drops_the_ingest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = ContentStore(str(tmp_path))
    writer = store.writer("layer-x", expected=DIGEST, size=len(DATA))
    sink = ResumableDigesting(DIGEST, len(DATA), writer, fast=0, probe=100)
    sink.write(DATA[:50])  # below the probe: still written
    assert sink.keeping
    sink.write(DATA[50:])
    assert not sink.keeping
    assert sink.verify() == DIGEST
    assert list(store.ingests()) == []


def test_unhashed_writes_cannot_be_committed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = ContentStore(str(tmp_path))
    writer = store.writer("layer-x", expected=DIGEST, size=len(DATA))
    writer.write_unhashed(DATA)
    with pytest.raises(InvalidArgument):
        writer.commit()
    writer.abort()
    assert not store.has(DIGEST)
