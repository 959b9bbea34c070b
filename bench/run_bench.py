"""`run --rm` latency and parallel `run -d`: sampan vs Docker, in one alternating run.

Times `sampan run --rm IMAGE true` against a sampand on temp roots, the unmodified docker CLI
against the same sampand, and `docker run --rm --network none IMAGE true` against a real
dockerd on temp roots (when `dockerd` is installed). Then starts 20 `run -d` containers in
parallel on each engine. The image comes from a local registry (busybox-static). Prints
medians and ratios; for shim memory see bench/shim_mem.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from tests.support.daemon import DaemonProcess
from tests.support.images import Pusher, hello_image
from tests.support.registry import LocalRegistry

from bench.pull_bench import Dockerd
from sampan.shim.client import stop_zygote

DOCKER_CLI = shutil.which("docker") or "docker"


def timed(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def parallel_detached(cli: list[str], image: str, count: int) -> float:
    """Wall time to get `count` containers running with concurrent `run -d`."""
    def one(i: int) -> None:
        subprocess.run([*cli, "run", "-d", "--name", f"bench-par-{i}", "--network", "none", image,
                        "sleep", "60"], check=True, stdout=subprocess.DEVNULL)

    start = time.perf_counter()
    with ThreadPoolExecutor(count) as pool:
        list(pool.map(one, range(count)))
    elapsed = time.perf_counter() - start
    subprocess.run([*cli, "rm", "-f", *[f"bench-par-{i}" for i in range(count)]],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--rounds", type=int, default=15)
    parser.add_argument("--parallel", type=int, default=20)
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="sampan-bench-run-", dir="/tmp")
    registry = LocalRegistry(root=os.path.join(work, "registry"))
    os.makedirs(registry.root)
    registry.start()
    daemon = DaemonProcess(os.path.join(work, "s"))
    dockerd: Dockerd | None = None
    try:
        Pusher(registry.url).push_image("bench/hello", "latest", hello_image())
        image = f"{registry.host}/bench/hello:latest"
        daemon.start()
        sampan = [sys.executable, "-m", "sampan.cli.main", "-H", daemon.docker_host]
        docker_on_sampan = [DOCKER_CLI, "-H", daemon.docker_host]
        subprocess.run([*sampan, "pull", "-q", image], check=True, stdout=subprocess.DEVNULL)
        commands = {
            "sampan run --rm": [*sampan, "run", "--rm", image, "true"],
            "docker CLI -> sampand": [*docker_on_sampan, "run", "--rm", image, "true"],
        }
        if not args.no_docker and shutil.which("dockerd"):
            dockerd = Dockerd(os.path.join(work, "d"))
            os.makedirs(dockerd.root)
            dockerd.start()
            docker = [DOCKER_CLI, "-H", f"unix://{dockerd.sock}"]
            subprocess.run([*docker, "pull", "-q", image], check=True, stdout=subprocess.DEVNULL)
            commands["docker run --rm (dockerd)"] = [*docker, "run", "--rm", "--network", "none", image, "true"]
        for argv in commands.values():  # warm caches once
            timed(argv)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, argv in commands.items():
                times[name].append(timed(argv))
        print(f"run --rm IMAGE true, median of {args.rounds} alternating rounds:")
        med = {name: statistics.median(v) for name, v in times.items()}
        for name, m in med.items():
            print(f"  {name:28s} {m * 1000:7.1f} ms   (min {min(times[name]) * 1000:.1f})")
        ref = med.get("docker run --rm (dockerd)")
        if ref:
            print(f"  sampan / docker: {med['sampan run --rm'] / ref:.2f}  (target <= 0.50)")
        print(f"\n{args.parallel} x `run -d` in parallel (until all are running):")
        print(f"  sampan    {parallel_detached(sampan, image, args.parallel):6.2f} s")
        if dockerd:
            docker = [DOCKER_CLI, "-H", f"unix://{dockerd.sock}"]
            print(f"  docker    {parallel_detached(docker, image, args.parallel):6.2f} s")
        return 0
    finally:
        daemon.stop()
        stop_zygote(os.path.join(daemon.exec_root, "shim-zygote.sock"))
        if dockerd:
            dockerd.stop()
        registry.stop()
        subprocess.run(["umount", "-R", work], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
