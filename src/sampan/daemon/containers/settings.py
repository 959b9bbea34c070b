"""Where the container service keeps things and which OCI runtimes it may use."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field

from sampan.errdefs import InvalidArgument

BUILTIN_RUNTIME = "sampan-runtime"


def builtin_runtimes() -> dict[str, str]:
    """sampan-runtime next to this interpreter, and runc when installed."""
    out = {BUILTIN_RUNTIME: os.path.join(os.path.dirname(sys.executable), "sampan-runtime")}
    runc = shutil.which("runc")
    if runc:
        out["runc"] = runc
    return out


@dataclass(frozen=True)
class ContainerSettings:
    data_root: str
    exec_root: str
    runtimes: dict[str, str] = field(default_factory=builtin_runtimes)
    default_runtime: str = BUILTIN_RUNTIME
    cgroup_parent: str = "/sampan"
    use_zygote: bool = True
    init_path: str | None = field(default_factory=lambda: shutil.which("docker-init") or shutil.which("tini"))

    @property
    def zygote_path(self) -> str | None:
        return os.path.join(self.exec_root, "shim-zygote.sock") if self.use_zygote else None

    def runtime_for(self, name: str) -> tuple[str, str]:
        """(name, path) of a configured runtime; "" is the default one."""
        name = name or self.default_runtime
        path = self.runtimes.get(name)
        if path is None:
            raise InvalidArgument(f"unknown or invalid runtime name: {name}")
        return name, path
