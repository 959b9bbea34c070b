"""`run` of a /bin/true busybox bundle: sampan-runtime vs runc (vs crun when it works here).

Runs alternate between runtimes so machine noise hits all of them alike; each run uses a new
container id and a temp --root. Prints the median and spread per runtime and the ratios.
PYTHONDONTWRITEBYTECODE is dropped for sampan-runtime so it runs from cached bytecode, as an
installed program does. sampan-runtime runs twice: as the console script pip generates, and as
`python -SEs sampan/runtime/launch.py` (no site, no `import re`: what a shim should exec).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from tests.integration.runtime.conftest import make_rootfs

import sampan.runtime
from sampan.runtime.spec import default_spec

SAMPAN = os.path.join(os.path.dirname(sys.executable), "sampan-runtime")
LAUNCHED = "sampan (-SEs launch.py)"  # what a shim should exec: see sampan/runtime/launch.py
UNIFIED = "/sys/fs/cgroup/unified"
HIDE_UNIFIED = ["unshare", "-m", "sh", "-c", f'umount {UNIFIED} && exec "$0" "$@"']
CRUN_HIDDEN = "crun (v2 hidden)"


def slug(name: str) -> str:
    """A runtime's label as part of a container id."""
    return "".join(ch if ch.isalnum() else "-" for ch in name)


def make_bundle(base: str) -> str:
    bundle = os.path.join(base, "bundle")
    make_rootfs(os.path.join(bundle, "rootfs"))
    spec = default_spec()
    spec["process"]["terminal"] = False
    spec["process"]["args"] = ["/bin/true"]
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(spec, f)
    return bundle


def runtimes(base: str) -> dict[str, list[str]]:
    launch = os.path.join(os.path.dirname(sampan.runtime.__file__), "launch.py")
    out = {"sampan-runtime": [SAMPAN, "--root", os.path.join(base, "sampan")],
           LAUNCHED: [sys.executable, "-SEs", launch, "--root", os.path.join(base, "sampan-launched")]}
    for name in ("runc", "crun"):
        path = shutil.which(name)
        if path:
            out[name] = [path, "--root", os.path.join(base, name)]
    return out


def run_once(cmd: list[str], bundle: str, cid: str, env: dict[str, str]) -> float | None:
    t0 = time.perf_counter()
    res = subprocess.run([*cmd, "run", "-b", bundle, cid], stdin=subprocess.DEVNULL, capture_output=True,
                         env=env, check=False)
    elapsed = time.perf_counter() - t0
    if res.returncode != 0:
        sys.stderr.write(f"{cmd[0]} failed: {res.stderr.decode(errors='replace').strip()[:300]}\n")
        subprocess.run([*cmd, "delete", "--force", cid], capture_output=True, check=False)
        return None
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=30, help="runs per runtime")
    ap.add_argument("--commands", action="store_true",
                    help="also time create/start/state/exec/kill/delete one by one (runtime_lib/commands.py)")
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="sampan-bench-runtime-")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    try:
        bundle = make_bundle(base)
        rts = runtimes(base)
        for name, cmd in list(rts.items()):  # warm caches; drop a runtime that cannot run here
            if run_once(cmd, bundle, f"warm-{slug(name)}", env) is not None:
                continue
            del rts[name]
            if name == "crun" and os.path.ismount(UNIFIED):
                # crun refuses hybrid cgroups; in a mount namespace without the v2 mount it runs
                hidden = [*HIDE_UNIFIED, *cmd]
                if run_once(hidden, bundle, "warm-crun-hidden", env) is not None:
                    rts[CRUN_HIDDEN] = hidden
                    continue
            print(f"{name}: cannot run this bundle on this machine, skipped")
        times: dict[str, list[float]] = {name: [] for name in rts}
        for i in range(args.n):
            for name, cmd in rts.items():
                t = run_once(cmd, bundle, f"b{i}-{slug(name)}", env)
                if t is not None:
                    times[name].append(t)
        print(f"run of a busybox /bin/true bundle, {args.n} runs each, alternating")
        medians = {}
        for name, ts in times.items():
            if not ts:
                continue
            medians[name] = statistics.median(ts) * 1000
            q = statistics.quantiles(ts, n=10) if len(ts) >= 10 else [min(ts)] * 9
            print(f"  {name:<24} median {medians[name]:6.1f} ms   p10 {q[0] * 1000:6.1f}   p90 {q[-1] * 1000:6.1f}"
                  f"   ({len(ts)} ok)")
        if CRUN_HIDDEN in times:
            wrapper = [run_once([*HIDE_UNIFIED, "true"], bundle, "", env) or 0.0 for _ in range(10)]
            print(f"  ({CRUN_HIDDEN} includes unshare+sh+umount: {statistics.median(wrapper) * 1000:.1f} ms)")
        for ours in ("sampan-runtime", LAUNCHED):
            for name, m in medians.items():
                if ours in medians and not name.startswith("sampan"):
                    print(f"  {ours} / {name}: {medians[ours] / m:.2f}x")
        if args.commands:
            from bench.runtime_lib.commands import lifecycle, make_sleep_bundle, report

            sleeper = make_sleep_bundle(base, bundle)
            rounds: dict[str, list[dict[str, float]]] = {name: [] for name in rts}
            for i in range(args.n):
                for name, cmd in rts.items():
                    r = lifecycle(cmd, sleeper, f"c{i}-{slug(name)}", env)
                    if r is not None:
                        rounds[name].append(r)
            report(rounds)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
