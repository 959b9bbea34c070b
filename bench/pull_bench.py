"""Cold-pull throughput: sampand vs `skopeo copy` (to an OCI layout) vs `docker pull`.

Builds a 5-layer image of about 270 MB compressed (three layers of random bytes, two of
text files) in a local docker-registry, then times cold pulls of it, alternating the tools
in one run, each into a fresh root. Prints MB/s of compressed input, the ratios, and the CPU
seconds each tool used (client + daemon; the registry's share apart): on a 2-core machine a
pull that keeps both cores busy cannot take less than (its CPU + the registry's) / 2.
Every root is kept until the end: on an ext4 without a journal (these machines), files
deleted just before a run make each file creation of that run scan for an inode that was
not recently deleted, which would charge the previous round's cleanup to the next tool.
For the same reason every run is followed by a sync, outside the timing: otherwise the
kernel's writeback of one run competes for the 2 cores with the next.
docker is measured only when a `dockerd` binary is present (it is started on temp roots).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from tests.support.daemon import DaemonProcess
from tests.support.images import Entry, Pusher, build_image, make_layer
from tests.support.registry import LocalRegistry

WORDS = (
    "container image layer registry manifest digest config runtime namespace cgroup overlay "
    "snapshot content blob tag pull push daemon shim socket volume network bridge veth mount "
    "the of and to in is that for it as with was on be by this are or from at which"
).split()


def random_layer(size: int, files: int = 8) -> list[Entry]:
    per = size // files
    return [Entry(f"data/r{i}.bin", data=os.urandom(per)) for i in range(files)]


def text_layer(raw_size: int, seed: int, files: int = 200) -> list[Entry]:
    rng = random.Random(seed)
    per = raw_size // files
    entries = [Entry("text", "dir")]
    for i in range(files):
        words = rng.choices(WORDS, k=per // 6)
        entries.append(Entry(f"text/f{i}.txt", data=" ".join(words).encode()[:per]))
    return entries


def build_big_image() -> tuple[object, int]:
    layers = [
        make_layer(random_layer(62_000_000, 8)),
        make_layer(random_layer(62_000_000, 4)),
        make_layer(random_layer(62_000_000, 2)),
        make_layer(text_layer(150_000_000, 1)),
        make_layer(text_layer(150_000_000, 2)),
    ]
    image = build_image(layers, cmd=["true"])
    compressed = sum(len(layer.blob) for layer in layers)
    return image, compressed


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def time_cmd(argv: list[str], cpu: list[float], pids: tuple[int, ...] = (),
             env: dict[str, str] | None = None) -> float:
    """Wall seconds of `argv`; appends the CPU seconds it (and the live `pids`) used to `cpu`."""
    before = children_cpu() + sum(proc_cpu(p) for p in pids)
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    cpu.append(children_cpu() + sum(proc_cpu(p) for p in pids) - before)
    return wall


class BaselineDaemon(DaemonProcess):
    """A sampand run from another checkout's `src` (`--baseline`), for before/after runs."""

    def __init__(self, tmpdir: str, src: str) -> None:
        super().__init__(tmpdir)
        self.src = src

    def spawn(self) -> subprocess.Popen[bytes]:
        os.makedirs(self.tmpdir, exist_ok=True)
        with open(self.config_file, "w") as f:
            f.write("{}")
        env = dict(os.environ, PYTHONPATH=self.src)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=env)
        return self.proc


class Dockerd:
    """A throwaway dockerd on temp roots (reference only; tests never depend on it)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.sock = os.path.join(root, "docker.sock")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(os.path.join(self.root, "dockerd.log"), "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            ["dockerd", "--data-root", os.path.join(self.root, "data"), "--exec-root",
             os.path.join(self.root, "exec"), "-H", f"unix://{self.sock}", "--pidfile",
             os.path.join(self.root, "d.pid"), "--bridge=none", "--iptables=false", "--ip6tables=false"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if subprocess.run(["docker", "-H", f"unix://{self.sock}", "version"], capture_output=True).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("dockerd did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--rounds", type=int, default=3)
    parser.add_argument("--no-docker", action="store_true")
    parser.add_argument("--baseline", metavar="CHECKOUT",
                        help="also time the sampan of another checkout (its src/), alternating")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="sampan-bench-pull-", dir="/var/tmp")
    registry = LocalRegistry(root=os.path.join(work, "registry"))
    os.makedirs(registry.root)
    registry.start()
    dockerd: Dockerd | None = None
    try:
        print("building the 5-layer image ...", flush=True)
        image, compressed = build_big_image()
        Pusher(registry.url).push_image("bench/big", "latest", image)  # type: ignore[arg-type]
        ref = f"{registry.host}/bench/big:latest"
        mb = compressed / 1e6
        print(f"image {ref}: {mb:.0f} MB compressed in 5 layers", flush=True)
        os.sync()

        if not args.no_docker and shutil.which("dockerd") and shutil.which("docker"):
            dockerd = Dockerd(os.path.join(work, "docker"))
            os.makedirs(dockerd.root)
            dockerd.start()
        results: dict[str, list[float]] = {"sampan": [], "skopeo": []}
        cpu: dict[str, list[float]] = {"sampan": [], "skopeo": []}
        registry_cpu: dict[str, list[float]] = {"sampan": [], "skopeo": []}
        if dockerd:
            results["docker"], cpu["docker"], registry_cpu["docker"] = [], [], []
        if args.baseline:
            results["baseline"], cpu["baseline"], registry_cpu["baseline"] = [], [], []
        assert registry.proc is not None
        reg_pid = registry.proc.pid

        def timed(tool: str, argv: list[str], pids: tuple[int, ...] = (),
                  env: dict[str, str] | None = None) -> None:
            reg_before = proc_cpu(reg_pid)
            results[tool].append(time_cmd(argv, cpu[tool], pids, env))
            registry_cpu[tool].append(proc_cpu(reg_pid) - reg_before)
            os.sync()  # the next run must not share the CPUs with the writeback of this one
        for r in range(args.rounds):
            sampans: list[tuple[str, str | None]] = [("sampan", None)]
            if args.baseline:
                sampans.append(("baseline", os.path.join(os.path.abspath(args.baseline), "src")))
            for name, src in sampans:
                root = os.path.join(work, f"{name}{r}")
                daemon = DaemonProcess(root) if src is None else BaselineDaemon(root, src)
                daemon.start()
                try:
                    timed(name, [sys.executable, "-m", "sampan.cli.main", "-H", daemon.docker_host,
                                 "pull", "-q", ref], (daemon.pid,),
                          None if src is None else dict(os.environ, PYTHONPATH=src))
                finally:
                    daemon.stop()
                    subprocess.run(["umount", "-R", root], capture_output=True)
            dest = os.path.join(work, f"oci{r}")
            timed("skopeo", ["skopeo", "copy", "--src-tls-verify=false", f"docker://{ref}", f"oci:{dest}:latest"])
            if dockerd:
                host = f"unix://{dockerd.sock}"
                assert dockerd.proc is not None
                timed("docker", ["docker", "-H", host, "pull", "-q", ref], (dockerd.proc.pid,))
                subprocess.run(["docker", "-H", host, "rmi", "-f", ref], capture_output=True)
                subprocess.run(["docker", "-H", host, "builder", "prune", "-af"], capture_output=True)
        print(f"\ncold pull of {mb:.0f} MB compressed, median of {args.rounds}:")
        med = {k: statistics.median(v) for k, v in results.items()}
        for k, v in med.items():
            print(f"  {k:8s} {v:6.2f} s  {mb / v:7.1f} MB/s   runs: {', '.join(f'{x:.2f}' for x in results[k])}"
                  f"   CPU s: {statistics.median(cpu[k]):.2f} + registry {statistics.median(registry_cpu[k]):.2f}")
        for k in med:
            if k != "sampan":
                print(f"  sampan throughput / {k}: {med[k] / med['sampan']:.2f}x")
        return 0
    finally:
        if dockerd:
            dockerd.stop()
        registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
