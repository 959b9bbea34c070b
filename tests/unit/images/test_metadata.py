"""The sqlite metadata store: transactions, references and layer bookkeeping."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator

import pytest

from sampan.store.metadata import LayerRow, MetadataStore, NewImage


@pytest.fixture
def meta(tmp_path) -> Iterator[MetadataStore]:  # type: ignore[no-untyped-def]
    store = MetadataStore(str(tmp_path / "metadata.db"))
    yield store
    store.close()


def _image(meta: MetadataStore, image_id: str = "sha256:" + "a" * 64, tag: str | None = "docker.io/library/x:1",
           chains: tuple[str, ...] = ("sha256:" + "1" * 64,)) -> None:
    parent = None
    for c in chains:
        meta.add_layer(LayerRow(c, c, parent, 10))
        parent = c
    meta.put_image(NewImage(image_id, 100, {"k": "v"}, chains, tag=tag,
                            repo_digest="docker.io/library/x@sha256:" + "d" * 64))


def test_put_image_records_tag_digest_and_size(meta: MetadataStore) -> None:
    _image(meta, chains=("sha256:" + "1" * 64, "sha256:" + "2" * 64))
    img = meta.get_image("sha256:" + "a" * 64)
    assert img is not None and img.size == 20 and img.labels == {"k": "v"}
    assert img.top_chain_id == "sha256:" + "2" * 64
    assert meta.refs_of(img.id) == (["docker.io/library/x:1"], ["docker.io/library/x@sha256:" + "d" * 64])
    assert meta.lookup_ref("docker.io/library/x:1") == img.id
    assert meta.image_count() == 1


def test_put_image_reports_whether_a_reference_moved(meta: MetadataStore) -> None:
    meta.add_layer(LayerRow("sha256:" + "1" * 64, "d", None, 1))
    rec = NewImage("sha256:" + "a" * 64, 1, {}, ["sha256:" + "1" * 64], tag="docker.io/library/x:1")
    assert meta.put_image(rec) is True
    assert meta.put_image(rec) is False


def test_image_needs_recorded_layers(meta: MetadataStore) -> None:
    with pytest.raises(KeyError):
        meta.put_image(NewImage("sha256:" + "a" * 64, 1, {}, ["sha256:" + "9" * 64], tag="docker.io/library/x:1"))
    assert meta.image_count() == 0


def test_tag_cannot_point_at_a_missing_image(meta: MetadataStore) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        meta.set_tag("docker.io/library/x:1", "sha256:" + "f" * 64)


def test_delete_image_cascades_references_and_frees_layers(meta: MetadataStore) -> None:
    _image(meta)
    assert meta.unreferenced_layers() == []
    meta.delete_image("sha256:" + "a" * 64)
    assert meta.lookup_ref("docker.io/library/x:1") is None
    assert [r.chain_id for r in meta.unreferenced_layers()] == ["sha256:" + "1" * 64]


def test_unreferenced_layers_are_leaves_first(meta: MetadataStore) -> None:
    meta.add_layer(LayerRow("c1", "d1", None, 1))
    meta.add_layer(LayerRow("c2", "d2", "c1", 1))
    assert [r.chain_id for r in meta.unreferenced_layers()] == ["c2"]


def test_search_ids_by_prefix(meta: MetadataStore) -> None:
    _image(meta, "sha256:ab" + "0" * 62, tag="docker.io/library/x:1")
    _image(meta, "sha256:ac" + "0" * 62, tag="docker.io/library/y:1")
    assert meta.search_ids("a") == sorted(meta.search_ids("a")) and len(meta.search_ids("a")) == 2
    assert meta.search_ids("ab") == ["sha256:ab" + "0" * 62]
    assert meta.search_ids("%") == []


def test_remove_ref_and_last_tag_time(meta: MetadataStore) -> None:
    _image(meta)
    meta.set_tag("docker.io/library/z:2", "sha256:" + "a" * 64)
    img = meta.get_image("sha256:" + "a" * 64)
    assert img is not None and img.last_tag_time is not None
    assert meta.remove_ref("docker.io/library/z:2") is True
    assert meta.remove_ref("docker.io/library/z:2") is False


def test_threads_share_the_store(meta: MetadataStore) -> None:
    meta.add_layer(LayerRow("sha256:" + "1" * 64, "d", None, 1))
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            meta.put_image(NewImage(f"sha256:{i:064x}", i, {}, ["sha256:" + "1" * 64], tag=f"docker.io/library/t:{i}"))
            assert meta.lookup_ref(f"docker.io/library/t:{i}") == f"sha256:{i:064x}"
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and meta.image_count() == 8


def test_reopen_keeps_data(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = str(tmp_path / "m.db")
    a = MetadataStore(path)
    a.add_layer(LayerRow("c", "d", None, 5))
    a.close()
    b = MetadataStore(path)
    assert b.get_layer("c") == LayerRow("c", "d", None, 5)
    b.close()
