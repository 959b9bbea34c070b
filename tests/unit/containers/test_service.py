"""ContainerService without root: a fake image service and snapshotter, no shim (created
containers only): create, names, cleanup after refused input, wait, list, rename, remove."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest

from sampan.daemon.containers.service import ContainerService
from sampan.daemon.containers.settings import ContainerSettings
from sampan.errdefs import Conflict, InvalidArgument, NotFound
from sampan.oci.image import ImageConfig
from sampan.snapshot.types import Mount, SnapshotInfo


class FakeSnapshots:
    """Keys with a directory each; enough of the Snapshotter protocol for the service."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.snaps: dict[str, tuple[str | None, str]] = {}

    def prepare(self, key: str, parent: str | None) -> list[Mount]:
        if key in self.snaps:
            raise Conflict(key)
        self.snaps[key] = (parent, "active")
        os.makedirs(os.path.join(self.root, key))
        return self.mounts(key)

    def apply_dir(self, key: str) -> tuple[str, str]:
        return os.path.join(self.root, key), "native"

    def commit(self, name: str, key: str) -> None:
        parent, _ = self.snaps.pop(key)
        self.snaps[name] = (parent, "committed")
        os.rename(os.path.join(self.root, key), os.path.join(self.root, name))

    def mounts(self, key: str) -> list[Mount]:
        return [Mount("bind", os.path.join(self.root, key), ["rbind"])]

    def exists(self, key: str) -> bool:
        return key in self.snaps

    def remove(self, key: str) -> None:
        if key not in self.snaps:
            raise NotFound(key)
        del self.snaps[key]

    def usage(self, key: str) -> int:
        return 42

    def walk(self) -> list[SnapshotInfo]:
        return [SnapshotInfo(k, p, kind, 0.0) for k, (p, kind) in self.snaps.items()]


@dataclass
class Record:
    id: str
    config: ImageConfig
    chain_id: str | None


class FakeImages:
    def __init__(self, snapshots: FakeSnapshots) -> None:
        self.snapshots = snapshots

    def resolve_image(self, name: str) -> Any:
        if name != "busybox":
            raise NotFound(f"No such image: {name}")
        return Record("sha256:" + "1" * 64, ImageConfig({"config": {"Cmd": ["sh"], "Env": ["PATH=/bin"]}}), None)


@pytest.fixture
def snaps(tmp_path: Any) -> FakeSnapshots:
    fake = FakeSnapshots(str(tmp_path / "snaps"))
    os.makedirs(fake.root)
    return fake


@pytest.fixture
def svc(tmp_path: Any, snaps: FakeSnapshots) -> ContainerService:
    settings = ContainerSettings(str(tmp_path / "data"), str(tmp_path / "exec"), runtimes={"sampan-runtime": "/x"})
    return ContainerService.open(settings, FakeImages(snaps))


def test_create_inspect_list_remove(svc: ContainerService, snaps: FakeSnapshots) -> None:
    cid = svc.create("web", {"Image": "busybox", "Env": ["A=1"], "Labels": {"k": "v"}}).id
    info = svc.inspect("web")
    assert info["Id"] == cid and info["Name"] == "/web" and info["Path"] == "sh"
    assert info["State"]["Status"] == "created"
    assert info["Config"]["Env"] == ["A=1", "PATH=/bin"] and info["Config"]["Hostname"] == cid[:12]
    assert info["HostConfig"]["NetworkMode"] == "default" and info["HostConfig"]["ShmSize"] > 0
    with open(info["HostnamePath"]) as f:
        assert f.read() == cid[:12] + "\n"
    assert svc.list_containers() == []  # not running
    listed = svc.list_containers(all=True, size=True, filters={"label": ["k=v"]})
    assert [c["Id"] for c in listed] == [cid] and listed[0]["SizeRw"] == 42 and listed[0]["Status"] == "Created"
    assert svc.counts() == {"Containers": 1, "ContainersRunning": 0, "ContainersPaused": 0, "ContainersStopped": 1}
    assert svc.image_users("sha256:" + "1" * 64) == [(cid, False)]
    assert sorted(snaps.snaps) == [cid, f"{cid}-init"]
    codes: list[int] = []
    svc.wait(cid, "not-running", lambda code, err: codes.append(code))
    svc.wait(cid, "removed", lambda code, err: codes.append(100 + code))
    assert codes == [0]
    svc.rename(cid, "api")
    assert svc.inspect("api")["Name"] == "/api"
    with pytest.raises(NotFound):
        svc.inspect("web")
    svc.remove("api")
    assert codes == [0, 100]
    assert snaps.snaps == {}
    assert os.listdir(svc.store.root) == []


@pytest.mark.parametrize(("name", "body", "error"), [
    ("", {"Image": "nosuch"}, NotFound),
    ("bad name", {"Image": "busybox"}, InvalidArgument),
    ("", {"Image": "busybox", "HostConfig": {"Mounts": [{"Type": "bind", "Source": "/no/such", "Target": "/x"}]}},
     InvalidArgument),
    ("", {"Image": "busybox", "HostConfig": {"RestartPolicy": {"Name": "always"}, "AutoRemove": True}},
     InvalidArgument),
    ("", {"Image": "busybox", "HostConfig": {"Runtime": "crun"}}, InvalidArgument),
])
def test_refused_create_leaves_nothing(svc: ContainerService, snaps: FakeSnapshots, name: str, body: dict[str, Any],
                                       error: type[Exception]) -> None:
    with pytest.raises(error):
        svc.create(name, body)
    assert snaps.snaps == {} and os.listdir(svc.store.root) == []


def test_name_conflict_and_generated_names(svc: ContainerService) -> None:
    first = svc.create("same", {"Image": "busybox"}).id
    with pytest.raises(Conflict, match=first):
        svc.create("same", {"Image": "busybox"})
    assert len(svc.store.all()) == 1
    other = svc.create("", {"Image": "busybox"}).id
    assert "_" in svc.inspect(other)["Name"]
    with pytest.raises(Conflict, match="is not running"):
        svc.kill(other)
    with pytest.raises(InvalidArgument, match="invalid condition"):
        svc.wait(other, "sometime", lambda c, e: None)


def test_records_survive_reopen(svc: ContainerService, snaps: FakeSnapshots) -> None:
    cid = svc.create("keep", {"Image": "busybox"}).id
    snaps.prepare("f" * 64, None)  # a create cut short: no record
    again = ContainerService.open(svc.settings, svc.images)
    assert again.inspect("keep")["Id"] == cid
    assert "f" * 64 not in snaps.snaps
