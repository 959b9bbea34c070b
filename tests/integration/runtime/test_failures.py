"""Failed creates leave nothing behind: no state dir, cgroup, mount or process."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.runtime.conftest import Bundle, Runtime

pytestmark = pytest.mark.root


def _mounts(*under: str) -> list[str]:
    """Mount points below our paths (other tests on this host mount things of their own)."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return sorted(p for p in points if p.startswith(under))


def _procs_in(rootfs: str) -> list[int]:
    """Processes whose root or cwd is inside the bundle's rootfs (a leaked container init)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        for link in ("root", "cwd"):
            try:
                if os.readlink(f"/proc/{name}/{link}").startswith(rootfs):
                    out.append(int(name))
            except OSError:
                pass
    return out


def _no_hook(spec: dict[str, Any]) -> None:
    spec["hooks"] = {"prestart": [{"path": "/bin/false"}]}


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("bad-bind-source",
     lambda s: s["mounts"].append({"destination": "/data", "type": "bind", "source": "/no/such/src",
                                   "options": ["rbind"]}),
     "error mounting '/no/such/src' to rootfs at '/data'"),
    ("bad-fs-type",
     lambda s: s["mounts"].append({"destination": "/x", "type": "nosuchfs", "source": "none"}),
     "to rootfs at '/x'"),
    ("missing-binary", lambda s: s["process"].__setitem__("args", ["/bin/nosuch"]),
     'exec: \\"/bin/nosuch\\": stat /bin/nosuch: no such file or directory'),
    ("missing-in-path", lambda s: s["process"].__setitem__("args", ["nosuch"]),
     "executable file not found in $PATH"),
    ("unknown-capability",
     lambda s: s["process"]["capabilities"]["bounding"].append("CAP_BOGUS"), "unknown capability 'CAP_BOGUS'"),
    ("unknown-namespace", lambda s: s["linux"]["namespaces"].append({"type": "bogus"}),
     "unknown namespace type 'bogus'"),
    ("bad-type", lambda s: s["process"].__setitem__("terminal", "no"), "process.terminal: expected a boolean"),
    ("failing-hook", _no_hook, "error running prestart hook #0 (/bin/false): exit status 1"),
    ("hook-timeout",
     lambda s: s.__setitem__("hooks", {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "5"],
                                                          "timeout": 1}]}),
     "error running createRuntime hook #0 (/bin/sleep): timed out after 1s"),
    ("bad-cwd", lambda s: s["process"].__setitem__("cwd", "/no/such/dir"), "chdir to cwd"),
    ("bad-sysctl", lambda s: s["linux"].__setitem__("sysctl", {"kernel.nosuchknob": "1"}), "nosuchknob"),
    ("bad-join-path", lambda s: s["linux"]["namespaces"].__setitem__(1, {"type": "network", "path": "/no/ns"}),
     "open network namespace /no/ns"),
]


@pytest.mark.parametrize(("name", "edit", "message"), CASES, ids=[c[0] for c in CASES])
def test_failed_create_leaves_no_trace(make_bundle: Callable[..., Bundle], sampan: Runtime, name: str,
                                       edit: Callable[[dict[str, Any]], None], message: str) -> None:
    b = make_bundle(["true"], edit)
    before = _mounts(b.path, sampan.root)
    assert before == []
    for cmd in ("create", "run"):
        res = sampan(cmd, "-b", b.path, "bad")
        assert res.returncode == 1, res.stderr
        assert message in res.stderr.decode(), res.stderr.decode()
        assert not os.path.exists(os.path.join(sampan.root, "bad"))
        assert sampan.ok("list", "-q") == ""
        cg = b.spec["linux"]["cgroupsPath"].lstrip("/")
        for hier in ("memory", "pids", "cpu", "freezer"):
            assert not os.path.exists(os.path.join("/sys/fs/cgroup", hier, cg)), hier
        assert _mounts(b.path, sampan.root) == before
        assert _procs_in(os.path.join(b.path, "rootfs")) == []


def test_duplicate_id_keeps_the_first(make_bundle: Callable[..., Bundle], sampan: Runtime) -> None:
    b = make_bundle(["sleep", "100"])
    sampan.ok("create", "-b", b.path, "dup")
    res = sampan("create", "-b", b.path, "dup")
    assert res.returncode == 1 and b"container with id exists: dup" in res.stderr
    assert sampan.state("dup")["status"] == "created"
    sampan.ok("delete", "dup")
