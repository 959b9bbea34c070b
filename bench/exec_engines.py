"""sampand and a reference dockerd side by side, for the container-operation benches (exec, cp, stats).

One local docker-registry serves a busybox-static image; a sampand and (when `dockerd` is installed)
a dockerd, each on temp roots, pull it. `engines()` yields the docker CLI argv for each daemon,
starts containers on both (`--network none` on dockerd, so both do the same work) and at the end
removes every container, stops both daemons and the shim zygote, unmounts and deletes the roots.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tests.support.daemon import DOCKER_CLI, DaemonProcess
from tests.support.images import Pusher, build_image, busybox_entries, make_layer
from tests.support.registry import LocalRegistry

from bench.pull_bench import Dockerd
from sampan.shim.client import stop_zygote

APPLETS = ("sh", "echo", "cat", "ls", "true", "false", "sleep", "rm", "mkdir", "du", "find", "wc")


@dataclass
class Engines:
    """The daemons of one bench run and the CLI argv prefixes that talk to them."""

    image: str
    sampand: DaemonProcess
    dockerd: Dockerd | None
    work: str

    @property
    def sampan(self) -> list[str]:
        """sampan's own CLI, run the way a user runs it (a fresh Python each time)."""
        return [sys.executable, "-m", "sampan.cli.main", "-H", self.sampand.docker_host]

    @property
    def docker_on_sampan(self) -> list[str]:
        return [DOCKER_CLI, "-H", self.sampand.docker_host]

    @property
    def docker_host(self) -> str | None:
        return f"unix://{self.dockerd.sock}" if self.dockerd else None

    @property
    def docker_on_dockerd(self) -> list[str] | None:
        return [DOCKER_CLI, "-H", self.docker_host] if self.docker_host else None

    def run_detached(self, cli: list[str], name: str, *cmd: str) -> str:
        """Start a `--network none` container named `name`; returns its id."""
        out = subprocess.run([*cli, "run", "-d", "--name", name, "--network", "none", self.image, *cmd],
                             capture_output=True, text=True, env=_docker_env())
        if out.returncode != 0:
            raise RuntimeError(f"{cli[-1]}: run -d {name} failed: {out.stderr.strip()}")
        return out.stdout.strip()


def _docker_env() -> dict[str, str]:
    """The CLI must not read the user's config or contexts: every call names its daemon with -H."""
    env = dict(os.environ)
    env.pop("DOCKER_HOST", None)
    env.pop("DOCKER_CONTEXT", None)
    return env


def _pull(cli: list[str], image: str) -> None:
    subprocess.run([*cli, "pull", "-q", image], check=True, stdout=subprocess.DEVNULL, env=_docker_env())


def _remove_all(cli: list[str]) -> None:
    ids = subprocess.run([*cli, "ps", "-aq"], capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run([*cli, "rm", "-f", *ids], capture_output=True, timeout=120)


@contextlib.contextmanager
def engines(prefix: str, with_docker: bool = True) -> Iterator[Engines]:
    """A registry, a sampand and (if installed and wanted) a dockerd, all on one temp root."""
    # short and under /tmp: shim sockets live below it and AF_UNIX paths are limited
    work = tempfile.mkdtemp(prefix=f"sb-{prefix}-", dir="/tmp")
    registry = LocalRegistry(root=os.path.join(work, "registry"))
    os.makedirs(registry.root)
    registry.start()
    sampand = DaemonProcess(os.path.join(work, "s"))
    dockerd: Dockerd | None = None
    env: Engines | None = None
    try:
        image = build_image([make_layer(busybox_entries(APPLETS))], cmd=["sh"], env=["PATH=/bin"])
        Pusher(registry.url).push_image("bench/busybox", "latest", image)
        ref = f"{registry.host}/bench/busybox:latest"
        sampand.start()
        if with_docker and shutil.which("dockerd"):
            dockerd = Dockerd(os.path.join(work, "d"))
            os.makedirs(dockerd.root)
            dockerd.start()
        env = Engines(ref, sampand, dockerd, work)
        _pull(env.docker_on_sampan, ref)
        if env.docker_on_dockerd:
            _pull(env.docker_on_dockerd, ref)
        yield env
    finally:
        hosts = [sampand.docker_host] if sampand.proc and sampand.proc.poll() is None else []
        if dockerd and dockerd.proc and dockerd.proc.poll() is None:
            hosts.append(f"unix://{dockerd.sock}")
        for host in hosts:
            with contextlib.suppress(Exception):
                _remove_all([DOCKER_CLI, "-H", host])
        sampand.stop()
        stop_zygote(os.path.join(sampand.exec_root, "shim-zygote.sock"))
        if dockerd:
            dockerd.stop()
        registry.stop()
        _kill_leftovers(work)
        subprocess.run(["umount", "-R", work], capture_output=True)
        _unmount_below(work)
        shutil.rmtree(work, ignore_errors=True)


def _kill_leftovers(work: str) -> None:
    """After the orderly stops: SIGKILL, by pid, any process still naming our temp root on its
    command line (a containerd or shim orphaned by a daemon that had to be killed)."""
    needle = work.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if needle not in f.read():
                    continue
            print(f"killing leftover process {entry}", file=sys.stderr)
            os.kill(int(entry), signal.SIGKILL)
        except (FileNotFoundError, ProcessLookupError):
            pass


def _unmount_below(path: str) -> None:
    """dockerd's overlay and shm mounts are not always one tree under `path`: unmount each, deepest first."""
    real = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f if line.split()[4].startswith(real + "/")]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


def timed(argv: list[str]) -> float:
    """Wall seconds of one command, which must succeed."""
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_docker_env())
    return time.perf_counter() - start


def alternate(cases: dict[str, Callable[[], float]], rounds: int, warmup: int = 1) -> dict[str, list[float]]:
    """Run every case once per round, in turn, so that drifts of the machine hit all alike."""
    for _ in range(warmup):
        for fn in cases.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            times[name].append(fn())
    return times


def spread(values: list[float]) -> str:
    """min / quartiles / max, in ms."""
    q = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else [values[0]] * 3
    return f"min {min(values) * 1e3:.1f}  q1 {q[0] * 1e3:.1f}  q3 {q[2] * 1e3:.1f}  max {max(values) * 1e3:.1f}"


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])
