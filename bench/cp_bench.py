"""`docker cp` throughput into and out of a running container: sampan vs Docker, alternating.

Copies (1) one small file, (2) one 200 MB file of random bytes and (3) a tree of 2000 files of 2 KB
in 40 directories, into a running container (`cp SRC CTR:/tmp/in-N`) and out of it
(`cp CTR:/data/X DEST`), with `sampan cp` against sampand, the docker CLI against sampand and the
docker CLI against a dockerd on temp roots (when installed). Every copy goes to a new name; it is
removed and the disks synced after the timing, so that one tool's writeback does not compete with
the next tool's copy. Prints MB/s of file content (files/s for the tree, ms alone for the small
file) and the time ratios sampan / dockerd.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.exec_engines import Engines, alternate, engines, loadavg, spread, timed

SMALL = 4096
BIG = 200 * 1000 * 1000
TREE_FILES, TREE_DIRS, TREE_FILE_SIZE = 2000, 40, 2048


@dataclass(frozen=True)
class Payload:
    name: str
    path: str  # on the host; the same name under /data in the containers
    size: int  # bytes of file content
    files: int
    rounds: int


def make_payloads(root: str, rounds: int) -> list[Payload]:
    os.makedirs(root)
    small = os.path.join(root, "small.txt")
    with open(small, "wb") as f:
        f.write(b"x" * SMALL)
    big = os.path.join(root, "big.bin")
    with open(big, "wb") as f:
        for _ in range(BIG // 10**6):
            f.write(os.urandom(10**6))
    tree = os.path.join(root, "tree")
    for i in range(TREE_FILES):
        d = os.path.join(tree, f"d{i % TREE_DIRS:02d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:04d}.txt"), "wb") as f:
            f.write(os.urandom(TREE_FILE_SIZE // 2).hex().encode())
    return [Payload("small file (4 KB)", small, SMALL, 1, rounds * 4),
            Payload("200 MB file", big, BIG, 1, rounds),
            Payload(f"tree of {TREE_FILES} files of 2 KB", tree, TREE_FILES * TREE_FILE_SIZE, TREE_FILES, rounds)]


class Copier:
    """The copy commands of one CLI against one container, each to a fresh destination."""

    def __init__(self, cli: list[str], container: str, out_dir: str) -> None:
        self.cli, self.container, self.out_dir = cli, container, out_dir
        self.count = 0

    def into(self, payload: Payload) -> Callable[[], float]:
        def run() -> float:
            self.count += 1
            dest = f"/tmp/in-{self.count}"
            elapsed = timed([*self.cli, "cp", payload.path, f"{self.container}:{dest}"])
            subprocess.run([*self.cli, "exec", self.container, "rm", "-rf", dest], check=True)
            os.sync()
            return elapsed
        return run

    def out_of(self, payload: Payload) -> Callable[[], float]:
        def run() -> float:
            self.count += 1
            dest = os.path.join(self.out_dir, f"out-{self.count}")
            elapsed = timed([*self.cli, "cp", f"{self.container}:/data/{os.path.basename(payload.path)}", dest])
            shutil.rmtree(dest) if os.path.isdir(dest) else os.unlink(dest)
            os.sync()
            return elapsed
        return run


def copiers(env: Engines, payloads: list[Payload]) -> dict[str, Copier]:
    """A container per daemon with every payload under /data, and the CLIs to time against each."""
    started = {"sampand": env.run_detached(env.docker_on_sampan, "bench-cp", "sleep", "3600")}
    if env.docker_on_dockerd:
        started["dockerd"] = env.run_detached(env.docker_on_dockerd, "bench-cp", "sleep", "3600")
    clis = {"sampan cp -> sampand": (env.sampan, "sampand"),
            "docker CLI -> sampand": (env.docker_on_sampan, "sampand")}
    if env.docker_on_dockerd:
        clis["docker CLI -> dockerd"] = (env.docker_on_dockerd, "dockerd")
    for daemon, cid in started.items():
        cli = env.docker_on_sampan if daemon == "sampand" else env.docker_on_dockerd
        assert cli is not None
        subprocess.run([*cli, "exec", cid, "mkdir", "/data"], check=True)
        for p in payloads:
            subprocess.run([*cli, "cp", p.path, f"{cid}:/data/"], check=True, stdout=subprocess.DEVNULL)
    out_root = os.path.join(env.work, "out")
    result = {}
    for i, (name, (cli, daemon)) in enumerate(clis.items()):
        os.makedirs(os.path.join(out_root, str(i)))
        result[name] = Copier(cli, started[daemon], os.path.join(out_root, str(i)))
    return result


def report(payload: Payload, direction: str, times: dict[str, list[float]]) -> None:
    print(f"\n{payload.name} {direction}, median of {payload.rounds} alternating rounds (load {loadavg()}):")
    med = {name: statistics.median(v) for name, v in times.items()}
    for name, m in med.items():
        rate = f"{payload.size / m / 1e6:8.1f} MB/s" if payload.size >= 10**6 else ""
        if payload.files > 1:
            rate += f" {payload.files / m:6.0f} files/s"
        print(f"  {name:24s} {m * 1e3:8.1f} ms {rate}   {spread(times[name])}")
    ref = med.get("docker CLI -> dockerd")
    if ref:
        for name in ("sampan cp -> sampand", "docker CLI -> sampand"):
            print(f"    time {name} / dockerd: {med[name] / ref:5.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--rounds", type=int, default=5,
                        help="rounds of the 200 MB file and the tree (the small file gets 4x as many)")
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()
    with engines("cp", with_docker=not args.no_docker) as env:
        payloads = make_payloads(os.path.join(env.work, "src"), args.rounds)
        os.sync()
        tools = copiers(env, payloads)
        start = time.monotonic()
        for payload in payloads:
            for direction in ("into", "out of"):
                cases = {name: (c.into(payload) if direction == "into" else c.out_of(payload))
                         for name, c in tools.items()}
                report(payload, f"{direction} a running container", alternate(cases, payload.rounds))
        print(f"\n(timed part took {time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
