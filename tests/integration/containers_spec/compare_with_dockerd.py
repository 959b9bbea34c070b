"""Development tool (not a test): compare generate_spec with the config.json a real dockerd writes.

Run as root where docker.io is installed:  .venv/bin/python tests/integration/containers_spec/compare_with_dockerd.py
It starts a private dockerd on temp roots, imports a busybox image, runs each flag set, feeds the
container's inspected Config/HostConfig to generate_spec and prints every difference, then stops
that dockerd (by pid) and removes its directories. Known, accepted differences are normalised away:
zero-valued resources dockerd writes, the host netns path, and capabilities/paths newer than dockerd.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from sampan.daemon.containers.spec import SpecInputs, generate_spec

CASES = [
    [],
    ["-e", "FOO=mine", "-e", "NEW=1", "-t", "-h", "myhost", "-w", "/etc"],
    ["--init"],
    ["--ipc", "shareable"],
    ["--ipc", "none"],
    ["--tmpfs", "/dev/shm:size=1m"],
    ["--cap-drop", "ALL", "--cap-add", "chown", "-u", "1000:wheel"],
    ["--security-opt", "seccomp=unconfined", "--read-only"],
    ["--cap-add", "sys_admin", "--cap-drop", "CAP_NET_RAW", "--security-opt", "no-new-privileges"],
    ["--mount", "type=bind,src={src},dst=/b,bind-nonrecursive,readonly", "-v", "{src}:/a/b/c/d", "-v", "{src}:/a"],
    ["--mount", "type=tmpfs,dst=/t,tmpfs-mode=1770,tmpfs-size=3145728"],
    ["--tmpfs", "/run:rw,noexec,nosuid,size=65536k", "--tmpfs", "/a/b", "-v", "{src}:/a/b/c:ro"],
    ["--sysctl", "net.core.somaxconn=100", "-m", "32m", "--memory-swap", "-1", "--oom-kill-disable",
     "--cpu-quota", "50000", "--cpu-period", "100000", "--cpuset-mems", "0"],
    ["-m", "64m", "--cpus", "1.5", "--pids-limit", "50", "--ulimit", "nofile=100:200", "--oom-score-adj", "300"],
    ["--pid", "host", "--network", "host", "--group-add", "nogroup", "--group-add", "77"],
    ["--ipc", "host", "--uts", "host"],
    ["--device", "/dev/fuse", "--device", "/dev/null:/dev/n2:r"],
]


def _docker(sock: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "-H", f"unix://{sock}", *args], capture_output=True, text=True, check=False)


def _normalise(spec: dict[str, Any]) -> dict[str, Any]:
    s: dict[str, Any] = json.loads(json.dumps(spec))
    s.pop("hooks", None)
    s["root"].pop("path", None)
    lx = s["linux"]
    res = lx.get("resources", {})
    for key in ("cpu", "blockIO", "memory"):
        if key in res:
            res[key] = {k: v for k, v in res[key].items() if v not in (0, False)}
            if not res[key]:
                res.pop(key)
    if "seccomp" in lx:
        lx["seccomp"] = bool(lx["seccomp"]["syscalls"])
    lx["namespaces"] = [ns for ns in lx.get("namespaces", []) if "netns/default" not in ns.get("path", "")]
    if "maskedPaths" in lx:
        lx["maskedPaths"] = [p for p in lx["maskedPaths"] if p != "/sys/devices/virtual/powercap"]
    caps = s["process"]["capabilities"]
    s["process"]["capabilities"] = {k: sorted(c for c in v if c not in ("CAP_BPF", "CAP_PERFMON",
                                                                        "CAP_CHECKPOINT_RESTORE"))
                                    for k, v in caps.items()}
    return s


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [line for k in sorted(set(a) | set(b)) for line in _diff(a.get(k), b.get(k), f"{path}.{k}")]
    if a == b:
        return []
    if isinstance(a, list) and isinstance(b, list):
        out = [f"{path} only dockerd: {json.dumps(x)}" for x in a if x not in b]
        out += [f"{path} only sampan: {json.dumps(x)}" for x in b if x not in a]
        return out or [f"{path}: same items, other order"]
    return [f"{path}: dockerd={json.dumps(a)} sampan={json.dumps(b)}"]


def main() -> int:
    tmp = tempfile.mkdtemp(prefix="spec-vs-dockerd-")
    sock = os.path.join(tmp, "d.sock")
    rootfs = os.path.join(tmp, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    os.makedirs(os.path.join(rootfs, "etc"))
    os.makedirs(os.path.join(tmp, "src"))  # bind sources: not above dockerd's root (that makes dockerd pick rslave)
    shutil.copy2("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
    for applet in ("sh", "sleep"):
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    with open(os.path.join(rootfs, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nu1:x:1000:1000::/home/u1:/bin/sh\n")
    with open(os.path.join(rootfs, "etc", "group"), "w") as f:
        f.write("root:x:0:\nwheel:x:10:root,u1\nu1:x:1000:\nnogroup:x:65534:\n")
    log = open(os.path.join(tmp, "dockerd.log"), "w")  # noqa: SIM115
    daemon = subprocess.Popen(["dockerd", "--data-root", f"{tmp}/d", "--exec-root", f"{tmp}/e", "-H", f"unix://{sock}",
                               "--pidfile", f"{tmp}/d.pid", "--bridge=none", "--iptables=false", "--ip6tables=false"],
                              stdout=log, stderr=log)
    failures = 0
    try:
        for _ in range(100):
            if _docker(sock, "version").returncode == 0:
                break
            time.sleep(0.2)
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        subprocess.run(["docker", "-H", f"unix://{sock}", "import", "-c", "ENV FOO=img", "-c", "WORKDIR /tmp",
                        "-c", 'CMD ["sleep", "1000"]', "-", "bb"], stdin=tar.stdout, capture_output=True, check=True)
        tar.wait()
        image = json.loads(_docker(sock, "image", "inspect", "bb").stdout)[0]["Config"]
        for case in CASES:
            args = [a.replace("{src}", f"{tmp}/src") for a in case]
            run = _docker(sock, "run", "-d", *args, "bb")
            if run.returncode:
                print("dockerd refused", case, run.stderr.strip())
                continue
            cid = run.stdout.strip()
            found = glob.glob(f"{tmp}/e/containerd/**/{cid}/config.json", recursive=True)
            theirs = json.load(open(found[0]))  # noqa: SIM115
            info = json.loads(_docker(sock, "inspect", cid).stdout)[0]
            cdir = f"{tmp}/d/containers/{cid}"
            shm = next((m["source"] for m in theirs["mounts"] if m["destination"] == "/dev/shm"
                        and m["type"] == "bind" and m["source"] != "/dev/shm"), None)
            ours = generate_spec(SpecInputs(
                cid, info["Config"], info["HostConfig"], image, theirs["root"]["path"], f"{cdir}/hosts",
                f"{cdir}/hostname", f"{cdir}/resolv.conf", shm, cgroup_parent="/docker",
                init_path="/usr/bin/docker-init" if "--init" in case else None))
            lines = _diff(_normalise(theirs), _normalise(ours))
            failures += bool(lines)
            print("same  " if not lines else "DIFFER", " ".join(case))
            for line in lines:
                print("      ", line[:400])
            _docker(sock, "rm", "-f", cid)
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
        log.close()
        subprocess.run(["sh", "-c", f"grep ' {tmp}' /proc/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l"],
                       check=False)
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
