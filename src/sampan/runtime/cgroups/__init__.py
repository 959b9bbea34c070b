"""cgroups for sampan-runtime: v1, v2 (unified) and hybrid hosts, with runc's cgroupfs path rules.

`new_manager(cgroups_path, container_id)` gives a `CgroupManager`; `validate_resources` checks an
OCI `linux.resources` object before anything is created.
"""

from __future__ import annotations

from .devices import DEFAULT_ALLOWED
from .layout import Layout, detect, own_cgroups
from .manager import CgroupManager, build, inner_path
from .validate import validate_resources

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time counts)
if TYPE_CHECKING:
    from .manager import DeviceAttacher

__all__ = ["DEFAULT_ALLOWED", "CgroupManager", "Layout", "new_manager", "validate_resources"]


def new_manager(
    cgroups_path: str | None,
    container_id: str,
    *,
    root: str = "/sys/fs/cgroup",
    mode: str | None = None,
    attach_devices: DeviceAttacher | None = None,
) -> CgroupManager:
    """The cgroup manager for one container.

    `cgroups_path` follows runc's cgroupfs driver: an absolute path is taken from the root of each
    hierarchy, a relative one from this process's own cgroup there. None (or "") means
    "/sampan/<container_id>"; systemd-style "slice:prefix:name" maps to /slice/prefix-name.scope.
    The layout under `root` is read from /proc/self/mountinfo; a fake
    root (tests) passes `mode` ("v1", "v2" or "hybrid") and is read from its directory names.
    `attach_devices(cgroup_dir, ebpf_program)` replaces the bpf(2) loader on v2 (tests' fakes).
    """
    layout = detect(root, mode)
    path = inner_path(cgroups_path, container_id)
    own = own_cgroups() if mode is None and not path.startswith("/") else {}
    return build(layout, path, own, attach_devices)
