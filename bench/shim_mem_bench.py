"""RSS and PSS of idle shims, each holding a running `sleep` container: sampan-shim vs containerd-shim.

Both sides run the same number of containers at the same time (PSS divides shared pages among the
processes that share them, so it depends on how many shims run). docker is measured only when
`dockerd` and `docker` are installed; it runs on temp roots and is killed by pid afterwards.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import tempfile
import time

from tests.integration.shim.bundle import RUNC, make_bundle

from sampan.shim.client import ShimClient, stop_zygote


def smaps(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in KiB from /proc/PID/smaps_rollup."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if parts[0] in ("Rss:", "Pss:"):
                values[parts[0]] = int(parts[1])
    return values["Rss:"], values["Pss:"]


def report(name: str, pids: list[int]) -> None:
    figures = [smaps(pid) for pid in pids]
    rss = sum(f[0] for f in figures) / len(figures) / 1024
    pss = sum(f[1] for f in figures) / len(figures) / 1024
    print(f"{name:<24} {len(pids):>3} shims   RSS {rss:6.1f} MiB   PSS {pss:5.1f} MiB  (mean per shim)")


def sampan_shims(work: str, count: int, zygote: str | None = None) -> list[ShimClient]:
    clients = []
    kind = "z" if zygote else "x"
    for i in range(count):
        bundle = make_bundle(os.path.join(work, f"bundle{kind}{i}"), ["sleep", "100000"])
        client = ShimClient.spawn(f"shimbench{os.getpid()}-{kind}{i}", bundle, os.path.join(work, f"state{kind}{i}"),
                                  runtime=RUNC, runtime_root=os.path.join(work, "runc"),
                                  log_path=os.path.join(work, f"log{kind}{i}.json"), zygote=zygote)
        client.start()
        clients.append(client)
    return clients


class Docker:
    """A throwaway dockerd on temp roots."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.host = f"unix://{root}/d.sock"
        self.pid = 0

    def cli(self, *args: str, stdin: bytes | None = None) -> str:
        return subprocess.run(["docker", "-H", self.host, *args], input=stdin, capture_output=True,
                              check=True).stdout.decode().strip()

    def start(self) -> None:
        log = open(os.path.join(self.root, "dockerd.log"), "wb")  # noqa: SIM115
        proc = subprocess.Popen(["dockerd", "--data-root", f"{self.root}/d", "--exec-root", f"{self.root}/e",
                                 "-H", self.host, "--pidfile", f"{self.root}/d.pid", "--bridge=none",
                                 "--iptables=false", "--ip6tables=false"],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = proc.pid
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if subprocess.run(["docker", "-H", self.host, "version"], capture_output=True).returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError("dockerd did not start")

    def shim_pids(self) -> list[int]:
        pids = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as f:
                        cmd = f.read()
                except OSError:
                    continue
                if b"containerd-shim-runc-v2" in cmd and self.root.encode() in cmd:
                    pids.append(int(entry))
        return pids

    def stop(self) -> None:
        if self.pid:
            os.kill(self.pid, signal.SIGTERM)
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--count", type=int, default=3, help="containers per side (default 3)")
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="sampan-bench-shim-")
    clients: list[ShimClient] = []
    docker: Docker | None = None
    zygote = os.path.join(work, "zygote.sock")
    try:
        clients = sampan_shims(work, args.count)
        zygote_clients = sampan_shims(work, args.count, zygote)
        clients += zygote_clients
        if not args.no_docker and shutil.which("dockerd") and shutil.which("docker"):
            docker = Docker(os.path.join(work, "docker"))
            os.makedirs(docker.root)
            docker.start()
            rootfs = os.path.join(work, "bundlex0", "rootfs")
            tar = subprocess.run(["tar", "-C", rootfs, "-c", "."], capture_output=True, check=True).stdout
            docker.cli("import", "-", "shimbench-bb", stdin=tar)
            for _ in range(args.count):
                docker.cli("run", "-d", "--network", "none", "shimbench-bb", "sleep", "100000")
        time.sleep(1.0)
        report("sampan-shim (exec)", [c.shim_pid for c in clients if c not in zygote_clients])
        report("sampan-shim (zygote)", [c.shim_pid for c in zygote_clients])
        with open(zygote + ".pid") as f:
            report("  + the zygote itself", [int(f.read())])
        if docker is not None:
            report("containerd-shim-runc-v2", docker.shim_pids())
        else:
            print("containerd-shim-runc-v2  (not measured: no dockerd; reference figure 12.9 MiB RSS, 2.8 MiB PSS)")
    finally:
        for client in clients:
            try:
                client.delete(force=True)
            except Exception as exc:  # keep cleaning up the others
                print(f"cleanup: {exc}")
        stop_zygote(zygote)
        if docker is not None:
            try:
                ids = docker.cli("ps", "-aq").split()
                if ids:
                    docker.cli("rm", "-f", *ids)
            finally:
                docker.stop()
        subprocess.run(["umount", "-R", os.path.join(work, "docker", "d")], capture_output=True, check=False)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
