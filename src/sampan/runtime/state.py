"""Per-container state under --root/<id>/: state.json (written atomically) and exec.fifo.

The status is never stored; it is derived each time from facts, like runc does: the init
pid is alive with the start time we recorded (so a recycled pid is not mistaken for ours),
the exec fifo still exists (created, not started), the cgroup is frozen (paused).
"""

from __future__ import annotations

import os
import time

from sampan.errdefs import AlreadyExists, DataLoss, InvalidArgument, NotFound
from sampan.runtime import jsonc

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:  # annotations only: typing costs start-up time on every command
    from typing import Any

OCI_VERSION = "1.0.2-dev"
STATE_FILE = "state.json"
FIFO_NAME = "exec.fifo"
_ID_PUNCT = frozenset("_+-.")


def validate_id(container_id: str) -> None:
    if not container_id:
        raise InvalidArgument("container id cannot be empty")
    if not all(ch.isalnum() or ch in _ID_PUNCT for ch in container_id) or container_id in (".", ".."):
        raise InvalidArgument(f"invalid container id format: {container_id}")


def rfc3339_now() -> str:
    ns = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 1_000_000_000)) + f".{ns % 1_000_000_000:09d}Z"


def proc_start_time(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat (start time in ticks), None if gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2:].split()
    if rest[0] in (b"Z", b"X"):
        return None
    return int(rest[19])


class ContainerState:
    """What create records in state.json (a plain class: `state` must start fast)."""

    __slots__ = ("annotations", "bundle", "cgroup_paths", "cgroups_path", "created", "id", "owner", "pid",
                 "rootfs", "spec", "start_time")

    def __init__(self, id: str, pid: int, bundle: str, rootfs: str, created: str, start_time: int,
                 annotations: dict[str, str] | None = None, cgroups_path: str | None = None,
                 spec: dict[str, Any] | None = None, owner: str = "",
                 cgroup_paths: dict[str, str] | None = None) -> None:
        self.id = id
        self.pid = pid
        self.bundle = bundle
        self.rootfs = rootfs
        self.created = created
        self.start_time = start_time
        self.annotations = annotations or {}
        self.cgroups_path = cgroups_path
        self.spec = spec or {}
        self.owner = owner
        self.cgroup_paths = cgroup_paths or {}  # controller -> host dir, recorded at create

    def _replace(self, **changes: Any) -> ContainerState:
        fields = {name: getattr(self, name) for name in self.__slots__}
        fields.update(changes)
        return ContainerState(**fields)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "pid": self.pid, "bundle": self.bundle, "rootfs": self.rootfs,
            "created": self.created, "start_time": self.start_time, "annotations": self.annotations,
            "cgroups_path": self.cgroups_path, "spec": self.spec, "owner": self.owner,
            "cgroup_paths": self.cgroup_paths,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ContainerState:
        return cls(d["id"], int(d["pid"]), d["bundle"], d["rootfs"], d["created"], int(d["start_time"]),
                   dict(d.get("annotations") or {}), d.get("cgroups_path"), dict(d.get("spec") or {}),
                   d.get("owner", ""), dict(d.get("cgroup_paths") or {}))


class Container:
    """One container's directory under the runtime root."""

    def __init__(self, root: str, container_id: str) -> None:
        self.id = container_id
        self.dir = os.path.join(root, container_id)
        self.fifo = os.path.join(self.dir, FIFO_NAME)
        self._state: ContainerState | None = None

    @classmethod
    def create_dir(cls, root: str, container_id: str) -> Container:
        validate_id(container_id)
        os.makedirs(root, mode=0o711, exist_ok=True)
        c = cls(root, container_id)
        try:
            os.mkdir(c.dir, 0o711)
        except FileExistsError:
            raise AlreadyExists(f"container with id exists: {container_id}")
        return c

    @classmethod
    def load(cls, root: str, container_id: str) -> Container:
        validate_id(container_id)
        c = cls(root, container_id)
        if not os.path.isdir(c.dir):
            raise NotFound(f'container "{container_id}" does not exist')
        return c

    @property
    def state(self) -> ContainerState:
        if self._state is None:
            try:
                with open(os.path.join(self.dir, STATE_FILE), "rb") as f:
                    self._state = ContainerState.from_json(jsonc.loads(f.read()))
            except FileNotFoundError:
                raise NotFound(f'container "{self.id}" does not exist')
            except (ValueError, KeyError, TypeError) as e:
                raise DataLoss(f"container {self.id}: unreadable {STATE_FILE}: {e}")
        return self._state

    def has_state(self) -> bool:
        return os.path.exists(os.path.join(self.dir, STATE_FILE))

    def save(self, st: ContainerState) -> None:
        tmp = os.path.join(self.dir, f".{STATE_FILE}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, jsonc.dumps(st.to_json()).encode())  # no fsync: state lives on tmpfs (/run)
        finally:
            os.close(fd)
        os.rename(tmp, os.path.join(self.dir, STATE_FILE))
        self._state = st

    def alive(self) -> bool:
        st = self.state
        return st.pid > 0 and proc_start_time(st.pid) == st.start_time

    def status(self) -> str:
        if not self.has_state():
            return "creating"
        if not self.alive():
            return "stopped"
        if os.path.exists(self.fifo):
            return "created"
        if self._frozen():
            return "paused"
        return "running"

    def _frozen(self) -> bool:
        """Read the freezer where create recorded it: `state` runs often (shims poll it), and
        reading one file is much cheaper than loading the cgroup manager."""
        paths = self.state.cgroup_paths
        if "freezer" in paths:
            return _read(os.path.join(paths["freezer"], "freezer.state")).strip() == "FROZEN"
        if "" in paths:
            return "frozen 1" in _read(os.path.join(paths[""], "cgroup.events"))
        return False

    def oci_state(self) -> dict[str, Any]:
        """The OCI state document (what `state` prints and hooks read on stdin)."""
        st = self.state
        status = self.status()
        out: dict[str, Any] = {
            "ociVersion": OCI_VERSION, "id": self.id, "pid": st.pid if status != "stopped" else 0,
            "status": status, "bundle": st.bundle, "rootfs": st.rootfs, "created": st.created,
            "owner": st.owner,
        }
        if st.annotations:
            out["annotations"] = st.annotations
        return out

    def remove(self) -> None:
        """The state dir holds only flat files (state.json, exec.fifo): no shutil needed."""
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return
        for name in names:
            try:
                os.unlink(os.path.join(self.dir, name))
            except FileNotFoundError:
                pass
        try:
            os.rmdir(self.dir)
        except FileNotFoundError:
            pass


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def list_ids(root: str) -> list[str]:
    try:
        names = os.listdir(root)
    except FileNotFoundError:
        return []
    return sorted(n for n in names if os.path.isdir(os.path.join(root, n)))


def write_pid_file(path: str, pid: int) -> None:
    """--pid-file, written atomically (a reader never sees it empty)."""
    path = os.path.abspath(path)
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp")
    with open(tmp, "w") as f:
        f.write(str(pid))
    os.rename(tmp, path)
