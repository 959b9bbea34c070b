"""A pull SIGKILLed at any moment leaves a store that reopens consistent and pulls again."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from sampan.api.progress import JSONMessage
from sampan.daemon.images.service import ImageService
from sampan.digest import Digest
from tests.support.faultproxy import FaultProxy
from tests.support.images import Entry, Image, Pusher, build_image, busybox_entries, make_layer
from tests.support.registry import LocalRegistry

pytestmark = pytest.mark.root

ROOT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture(scope="module")
def big_image(registry: LocalRegistry) -> tuple[str, Image]:
    layers = [make_layer(busybox_entries(("sh",)))]
    layers += [make_layer([Entry(f"data{i}/{j}", data=os.urandom(4_000_000)) for j in range(5)])
               for i in range(4)]
    img = build_image(layers)
    Pusher(registry.url).push_image("it-images/crash", "latest", img)
    return f"{registry.host}/it-images/crash:latest", img


def _downloading(pct: float) -> Callable[[dict[str, object]], bool]:
    def hit(msg: dict[str, object]) -> bool:
        detail = msg.get("progressDetail") or {}
        assert isinstance(detail, dict)
        total = detail.get("total") or 0
        return msg.get("status") == "Downloading" and total > 1_000_000 and \
            detail.get("current", 0) >= pct * total
    return hit


KILL_POINTS: dict[str, Callable[[dict[str, object]], bool]] = {
    "mid-download": _downloading(0.3),
    "late-download": _downloading(0.9),
    "after-first-layer": lambda m: m.get("status") == "Pull complete",
    "verifying": lambda m: m.get("status") == "Verifying Checksum",
    "extracting": lambda m: m.get("status") == "Extracting",
}


def leftovers(root: str) -> tuple[int, int]:
    """(unfinished snapshots, ingests) a killed pull left, seen before the service repairs them."""
    from sampan.snapshot import new_snapshotter
    from sampan.store.content import ContentStore

    snaps = new_snapshotter(os.path.join(root, "snapshots"))
    try:
        active = sum(1 for s in snaps.walk() if s.kind != "committed")
    finally:
        snaps.close()
    return active, sum(1 for _ in ContentStore(os.path.join(root, "content")).ingests())


def check_consistent(root: str) -> ImageService:
    svc = ImageService.open(root)
    for info in svc.snapshots.walk():
        assert info.kind == "committed", f"unfinished snapshot {info.name} survived reopening"
    for img in svc.meta.images():
        for chain in img.chain_ids:
            assert svc.snapshots.exists(chain)
        assert svc.content.has(img.id)
    for digest, _ in svc.content.list():  # type: ignore[attr-defined,unused-ignore]
        with svc.content.open(digest) as f:
            d = Digest.parse(digest)
            import hashlib

            h = hashlib.new(d.algorithm)
            while chunk := f.read(1 << 20):
                h.update(chunk)
            assert h.hexdigest() == d.hex, f"blob {digest} does not match its digest"
    return svc


@pytest.mark.parametrize("point", sorted(KILL_POINTS))
def test_sigkill_mid_pull(tmp_path, big_image: tuple[str, Image], point: str) -> None:  # type: ignore[no-untyped-def]
    ref, img = big_image
    root = str(tmp_path / "root")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.images.crash_pull", root, ref],
        stdout=subprocess.PIPE, cwd=ROOT_DIR, text=True,
    )
    killed = False
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            msg = json.loads(line)
            if KILL_POINTS[point](msg):
                os.kill(proc.pid, signal.SIGKILL)
                killed = True
                break
    finally:
        if proc.poll() is None and not killed:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    assert killed, "the pull finished before the kill point"
    active, ingests = leftovers(root)
    print(f"{point}: {active} unfinished snapshots, {ingests} ingests")
    if point == "mid-download":
        assert active + ingests > 0  # the kill really interrupted work in progress
    svc = check_consistent(root)
    try:
        msgs: list[JSONMessage] = []
        svc.pull(ref, platform=None, auth=None, progress=msgs.append)
        assert msgs[-1].status.startswith("Status: Downloaded newer image")
        info = svc.inspect_image(ref).to_json()
        assert info["Id"] == img.image_id and info["RootFS"]["Layers"] == img.diff_ids
    finally:
        svc.close()
    check_consistent(root).close()


def test_killed_slow_pull_resumes_from_partial_ingest(tmp_path, big_image: tuple[str, Image],  # type: ignore[no-untyped-def]
                                                      proxy: FaultProxy) -> None:
    """On a slow link a streamed layer is also written as a partial ingest: after a SIGKILL
    the next pull asks the registry only for the rest of it (a Range request)."""
    ref, img = big_image
    ref = ref.replace(ref.split("/", 1)[0], proxy.host, 1)
    layer = json.loads(img.manifest)["layers"][1]["digest"]
    short = layer.split(":", 1)[1][:12]
    root = str(tmp_path / "root")
    proxy.clear()
    # The layer breaks after 6 MB and then fails: the pull sits in its resume back-off,
    # with those 6 MB in the ingest, when it is killed.
    proxy.set_fault(layer, "truncate", after=6_000_000)
    proxy.set_fault(layer, "status", status=500, times=None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.images.crash_pull", root, ref, "slow"],
        stdout=subprocess.PIPE, cwd=ROOT_DIR, text=True,
    )
    data = os.path.join(root, "content", "ingest", hashlib.sha256(f"layer-{layer}".encode()).hexdigest(), "data")
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if json.loads(line).get("id") == short:
                break
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (os.path.exists(data) and os.path.getsize(data) >= 6_000_000):
            time.sleep(0.005)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    proxy.clear()
    svc = check_consistent(root)
    try:
        if not svc.snapshots.independent_layers:
            pytest.skip("native snapshots store every layer blob first (resume covered by the store tests)")
        sizes = dict(svc.content.ingests())  # type: ignore[attr-defined,unused-ignore]
        assert sizes.get(f"layer-{layer}") == 6_000_000
        svc.pull(ref, platform=None, auth=None, progress=lambda m: None)
        assert svc.inspect_image(ref).to_json()["Id"] == img.image_id
        ranges = [h.get("Range") for m, p, h in proxy.requests if m == "GET" and p.endswith(layer)]
        assert ranges == ["bytes=6000000-"]
        assert list(svc.content.ingests()) == []  # type: ignore[attr-defined,unused-ignore]
    finally:
        svc.close()
