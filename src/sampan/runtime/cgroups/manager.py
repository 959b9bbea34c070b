"""One container's cgroup across the mounted hierarchies (v1 controllers and/or the unified v2 one).

Each resource goes to the v1 controller when it is mounted, else to the unified cgroup when the
v2 controller is available there (hybrid machines often put hugetlb or others in v2). A resource
set for a controller the machine lacks is an error; zero or unset values are skipped.
"""

from __future__ import annotations

import errno
import os
import posixpath
import time

from sampan import errdefs

from . import fsutil, v1, v2
from .devices import DEFAULT_ALLOWED
from .layout import Layout

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time counts)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    DeviceAttacher = Callable[[str, bytes], None]

# v1 hierarchies looked at for the process list, best first.
_PROCS_ORDER = ("pids", "freezer", "memory", "cpu", "cpuacct", "cpuset", "devices", "blkio", "name=systemd")
_V2_CONTROLLER = {"blkio": "io"}  # v1 name -> v2 name where they differ

_SIGKILL = 9


def attach_device_program(cgroup_dir: str, program: bytes) -> None:
    """Load an eBPF device program and attach it to a v2 cgroup (the real kernel path)."""
    from sampan.linux import cgroupbpf

    prog_fd = cgroupbpf.load_device_program(program)
    try:
        cgroupbpf.attach_device_program(cgroup_dir, prog_fd)
    finally:
        os.close(prog_fd)


def _has_values(section: Any) -> bool:
    """Whether an OCI resource section asks for anything (zero, -1 and empty mean "leave alone")."""
    if isinstance(section, dict):
        return any(_has_values(v) for v in section.values())
    if isinstance(section, list):
        return bool(section)
    if isinstance(section, bool):
        return section
    if isinstance(section, int):
        return section not in (0, -1)
    return bool(section)


class CgroupManager:
    """Create, configure, freeze, inspect and remove one cgroup; see `new_manager`."""

    def __init__(self, layout: Layout, v1_dirs: dict[str, str], unified_dir: str | None,
                 attach_devices: DeviceAttacher | None = None) -> None:
        self.layout = layout
        self._v1 = v1_dirs
        self._unified = unified_dir
        self._attach_devices = attach_device_program if attach_devices is None else attach_devices

    # -- where things live ------------------------------------------------------------------
    def paths(self) -> dict[str, str]:
        """controller -> directory; the unified (v2) directory is under the key "" as in runc."""
        out = dict(self._v1)
        if self._unified:
            out[""] = self._unified
        return out

    def _v2_controllers(self) -> set[str]:
        if not self._unified:
            return set()
        path = self._unified
        while True:  # the leaf may not exist yet: ask the nearest existing ancestor
            if os.path.isdir(path):
                return set(fsutil.read_or(os.path.join(path, "cgroup.controllers")).split())
            if path == self.layout.unified or path == "/":
                return set()
            path = os.path.dirname(path)

    def _where(self, controller: str) -> tuple[str, str] | None:
        """("v1", dir) or ("v2", dir) for a controller, or None when the machine lacks it."""
        if controller in self._v1:
            return "v1", self._v1[controller]
        if self._unified and _V2_CONTROLLER.get(controller, controller) in self._v2_controllers():
            return "v2", self._unified
        return None

    def exists(self) -> bool:
        return any(os.path.isdir(p) for p in self.paths().values())

    # -- lifecycle --------------------------------------------------------------------------
    def create(self) -> None:
        for controller, path in self._v1.items():
            os.makedirs(path, exist_ok=True)
            if controller == "cpuset":
                v1.init_cpuset(self.layout.v1["cpuset"], path)
        if self._unified:
            self._create_unified()

    def _create_unified(self) -> None:
        assert self._unified and self.layout.unified
        rel = os.path.relpath(self._unified, self.layout.unified)
        current = self.layout.unified
        for part in [] if rel == "." else rel.split(os.sep):
            self._enable_controllers(current)
            current = os.path.join(current, part)
            try:
                os.mkdir(current)
            except FileExistsError:
                pass

    @staticmethod
    def _enable_controllers(parent: str) -> None:
        """Delegate every available controller to the children, one at a time like runc: some
        (say, cpu with realtime tasks around) may be refused and that must not stop the rest."""
        available = fsutil.read_or(os.path.join(parent, "cgroup.controllers")).split()
        enabled = set(fsutil.read_or(os.path.join(parent, "cgroup.subtree_control")).split())
        for name in available:
            if name in enabled:
                continue
            try:
                fsutil.write(os.path.join(parent, "cgroup.subtree_control"), f"+{name}")
            except errdefs.SampanError as exc:
                fsutil.debug(__name__, "cannot enable %s in %s: %s", name, parent, exc)

    def apply(self, pid: int) -> None:
        """Move a process into the cgroup in every hierarchy."""
        for path in sorted(set(self.paths().values())):
            fsutil.write(os.path.join(path, "cgroup.procs"), pid)

    def destroy(self) -> None:
        """rmdir the cgroup (and sub-cgroups) in every hierarchy; parents such as /sampan stay."""
        for path in sorted(set(self.paths().values())):
            v1.remove_tree(path)

    # -- resources --------------------------------------------------------------------------
    def set(self, resources: dict[str, Any], *, default_devices: bool = True) -> None:
        """Apply an OCI `linux.resources` object (validated by `validate_resources`).

        With `default_devices`, runc's always-allowed device rules follow the spec's own ones."""
        res = resources or {}
        mem = res.get("memory") or {}
        self._apply("memory", mem, v1.set_memory, v2.set_memory)
        cpu = res.get("cpu") or {}
        cpu_part = {k: v for k, v in cpu.items() if k not in ("cpus", "mems")}
        self._apply("cpu", cpu_part, v1.set_cpu, v2.set_cpu)
        cpuset = {k: v for k, v in cpu.items() if k in ("cpus", "mems")}
        self._apply("cpuset", cpuset, v1.set_cpuset, v1.set_cpuset)
        self._apply("pids", res.get("pids") or {}, v1.set_pids, v2.set_pids)
        self._apply("blkio", res.get("blockIO") or {}, v1.set_blkio, v2.set_io)
        huge = res.get("hugepageLimits") or []
        self._apply("hugetlb", huge, v1.set_hugetlb, lambda p, h: v1.set_hugetlb(p, h, "max"))
        self._apply("rdma", res.get("rdma") or {}, v1.set_rdma, v1.set_rdma)
        self._set_network(res.get("network") or {})
        if res.get("devices") is not None:
            rules = list(res["devices"]) + (list(DEFAULT_ALLOWED) if default_devices else [])
            self._set_devices(rules)
        if res.get("unified"):
            if not self._unified:
                raise errdefs.InvalidArgument("linux.resources.unified needs cgroup v2 (this host has v1 only)")
            v2.set_unified(self._unified, res["unified"])

    def _apply(self, controller: str, section: Any, v1_set: Any, v2_set: Any) -> None:
        if not section:
            return
        where = self._where(controller)
        if where is None:
            if not _has_values(section):
                return
            raise errdefs.InvalidArgument(
                f"cannot set {controller} resources: the {controller} cgroup controller is not available"
            )
        kind, path = where
        (v1_set if kind == "v1" else v2_set)(path, section)

    def _set_network(self, net: dict[str, Any]) -> None:
        if net.get("classID"):
            if "net_cls" in self._v1:
                v1.set_net_cls(self._v1["net_cls"], net["classID"])
            else:
                fsutil.debug(__name__, "network.classID ignored: no net_cls cgroup controller")
        if net.get("priorities"):
            if "net_prio" in self._v1:
                v1.set_net_prio(self._v1["net_prio"], net["priorities"])
            else:
                fsutil.debug(__name__, "network.priorities ignored: no net_prio cgroup controller")

    def _set_devices(self, rules: list[dict[str, Any]]) -> None:
        if "devices" in self._v1:
            v1.set_devices(self._v1["devices"], rules)
        elif self._unified:
            self._set_v2_devices(rules)
        else:
            fsutil.debug(__name__, "device rules ignored: no devices cgroup controller")

    def _set_v2_devices(self, rules: list[dict[str, Any]]) -> None:
        """v2 has no device files: compile the rules to eBPF and attach it to the cgroup."""
        from .devfilter import build_program

        assert self._unified
        if not fsutil.exists(os.path.join(self._unified, "cgroup.procs")):
            raise errdefs.System(f"cannot attach the device policy: {self._unified} is not a cgroup v2 directory")
        self._attach_devices(self._unified, build_program(rules))

    # -- freezer ----------------------------------------------------------------------------
    def freeze(self, timeout: float = 10.0) -> None:
        self._freeze(True, timeout)

    def thaw(self, timeout: float = 10.0) -> None:
        self._freeze(False, timeout)

    def _freeze(self, frozen: bool, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        delay = 0.001
        while True:
            if "freezer" in self._v1:
                state = os.path.join(self._v1["freezer"], "freezer.state")
                fsutil.write(state, "FROZEN" if frozen else "THAWED")  # rewritten: FREEZING can stall
                done = fsutil.read(state) == ("FROZEN" if frozen else "THAWED")
            elif self._unified:
                fsutil.write(os.path.join(self._unified, "cgroup.freeze"), 1 if frozen else 0)
                done = self._v2_frozen() == frozen
            else:
                raise errdefs.NotImplementedFeature("cannot freeze: no freezer cgroup on this host")
            if done:
                return
            if time.monotonic() > deadline:
                if frozen:
                    self._freeze(False, 1.0)
                raise errdefs.System(f"timed out {'freezing' if frozen else 'thawing'} cgroup {self.paths()}")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)

    def _v2_frozen(self) -> bool:
        assert self._unified
        events = os.path.join(self._unified, "cgroup.events")
        if fsutil.exists(events):
            return fsutil.read_keyed(events).get("frozen") == 1
        return fsutil.read_or(os.path.join(self._unified, "cgroup.freeze")) == "1"

    def state(self) -> str:
        """"frozen" or "thawed" (a freeze in progress counts as thawed until it completes)."""
        if "freezer" in self._v1:
            text = fsutil.read_or(os.path.join(self._v1["freezer"], "freezer.state"))
            return "frozen" if text == "FROZEN" else "thawed"
        if self._unified and os.path.isdir(self._unified):
            return "frozen" if self._v2_frozen() else "thawed"
        return "thawed"

    # -- processes and stats ----------------------------------------------------------------
    def pids(self) -> list[int]:
        """Every process in the cgroup and its sub-cgroups."""
        base = next((self._v1[c] for c in _PROCS_ORDER if c in self._v1), self._unified)
        if base is None or not os.path.isdir(base):
            return []
        found: set[int] = set()
        for dirpath, _dirs, _files in os.walk(base):
            for line in fsutil.read_or(os.path.join(dirpath, "cgroup.procs")).split():
                if line.isdigit():
                    found.add(int(line))
        return sorted(found)

    def kill_all(self, sig: int = _SIGKILL) -> None:
        """Signal every process, frozen first so none can fork away between listing and signalling."""
        kill_file = os.path.join(self._unified, "cgroup.kill") if self._unified else ""
        if sig == _SIGKILL and not self._v1 and kill_file and fsutil.exists(kill_file):
            fsutil.write(kill_file, 1)
            return
        can_freeze = "freezer" in self._v1 or bool(self._unified)
        was_frozen = can_freeze and self.state() == "frozen"
        if can_freeze:
            self.freeze()
        try:
            for pid in self.pids():
                try:
                    os.kill(pid, sig)
                except OSError as exc:
                    if exc.errno != errno.ESRCH:
                        raise
        finally:
            # A paused container stays paused, unless the signal can only act once thawed.
            if can_freeze and (not was_frozen or sig == _SIGKILL):
                self.thaw()

    def stats(self) -> dict[str, Any]:
        """Usage in the shape documented in `sampan.runtime.cgroups.stats`."""
        from . import stats

        out: dict[str, Any] = {}
        if self._unified:
            out.update(stats.v2_stats(self._unified, self._v2_controllers()))
        out.update(stats.v1_stats(self._v1))  # v1 controllers win in hybrid mode
        return out


def _expand_slice(slice_name: str) -> str:
    """systemd's nesting: "a-b.slice" lives at /a.slice/a-b.slice; "-.slice" is the root."""
    if slice_name in ("", "-.slice"):
        return ""
    stem = slice_name.removesuffix(".slice")
    parts = stem.split("-")
    return "".join("/" + "-".join(parts[: i + 1]) + ".slice" for i in range(len(parts)))


def inner_path(cgroups_path: str | None, container_id: str) -> str:
    """The cgroup path inside each hierarchy, cleaned so ".." cannot climb out of it.

    The systemd driver's "slice:prefix:name" form is accepted and mapped to the directory
    systemd would use (/system.slice/prefix-name.scope), though no unit is registered."""
    if not cgroups_path:
        return f"/sampan/{container_id}"
    parts = cgroups_path.split(":")
    if len(parts) == 3 and not cgroups_path.startswith("/") and "/" not in cgroups_path:
        slice_name, prefix, name = parts
        scope = f"{prefix}-{name}.scope" if prefix else f"{name}.scope"
        return _expand_slice(slice_name or "system.slice") + "/" + scope
    clean = posixpath.normpath("/" + cgroups_path.lstrip("/"))
    return clean if cgroups_path.startswith("/") else clean.lstrip("/")


def build(layout: Layout, path: str, own: dict[str, str],
          attach_devices: DeviceAttacher | None = None) -> CgroupManager:
    """A manager for `path` (absolute: from each hierarchy root; relative: from this process's
    own cgroup in that hierarchy, given in `own`)."""

    def join(mount: str, controller: str) -> str:
        base = "/" if path.startswith("/") else own.get(controller, "/")
        return posixpath.normpath(posixpath.join(mount, base.lstrip("/"), path.lstrip("/")))

    dirs = {c: join(m, c) for c, m in layout.v1.items()}
    unified = join(layout.unified, "") if layout.unified else None
    return CgroupManager(layout, dirs, unified, attach_devices)
