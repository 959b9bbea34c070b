"""Where the container service keeps things and which OCI runtimes it may use."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field

from sampan.errdefs import InvalidArgument

BUILTIN_RUNTIME = "sampan-runtime"


def fast_runtime_launcher(exec_root: str) -> str:
    """Write (once) EXEC_ROOT/bin/sampan-runtime, a launcher that starts the runtime without
    `site`: `#!<real interpreter> -SEs`, sampan's own directory first on sys.path.

    The shim runs the runtime three times per container (create, start, delete); the
    console script pip generates costs about 12 ms more per `run` (site, .pth files, `re`).
    The runtime needs only the standard library, so skipping site is safe.
    """
    import sampan

    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(sampan.__file__)))
    text = (
        f"#!{os.path.realpath(sys.executable)} -SEs\n"
        "import sys\n"
        f"sys.path[0] = {package_parent!r}\n"
        "from sampan.runtime.cli import main\n"
        "main()\n"
    )
    path = os.path.join(exec_root, "bin", "sampan-runtime")
    try:
        with open(path) as f:
            if f.read() == text:
                return path
    except OSError:
        pass
    os.makedirs(os.path.dirname(path), mode=0o711, exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
    return path


def builtin_runtimes(exec_root: str | None = None, *, write: bool = True) -> dict[str, str]:
    """sampan-runtime (through the fast launcher when an exec root is given, else the console
    script next to this interpreter), and runc when installed.

    `write=False` only names the launcher (for `info`, which must not write files).
    """
    if exec_root is not None:
        runtime = fast_runtime_launcher(exec_root) if write else os.path.join(exec_root, "bin", BUILTIN_RUNTIME)
    else:
        runtime = os.path.join(os.path.dirname(sys.executable), "sampan-runtime")
    out = {BUILTIN_RUNTIME: runtime}
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
    # a static init: it must run in any image's root (Debian's tini package ships tini-static)
    init_path: str | None = field(default_factory=lambda: shutil.which("docker-init") or shutil.which("tini-static"))

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
