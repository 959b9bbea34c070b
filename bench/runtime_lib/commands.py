"""Per-command times: create, start, state, exec, kill and delete of a `sleep` container.

Each round runs the lifecycle once per runtime, alternating runtimes; only the commands are
timed (waiting for the killed container to stop is not). Prints the median per command.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import time

STEPS = ("create", "start", "state", "exec", "kill", "delete")


def make_sleep_bundle(base: str, make_bundle_dir: str) -> str:
    """A copy of the bench bundle's config that runs `sleep 30` (the rootfs is shared)."""
    bundle = os.path.join(base, "sleep-bundle")
    os.makedirs(bundle, exist_ok=True)
    with open(os.path.join(make_bundle_dir, "config.json")) as f:
        spec = json.load(f)
    spec["root"]["path"] = os.path.join(make_bundle_dir, "rootfs")
    spec["process"]["args"] = ["/bin/sleep", "30"]
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(spec, f)
    return bundle


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, str, int]:
    """(seconds, stderr, exit code). Output goes to a file, not a pipe: a created container
    inherits the runtime's stdio, and a pipe would stay open until it exits."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        code = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env,
                              check=False).returncode
        elapsed = time.perf_counter() - t0
        err.seek(0)
        return elapsed, err.read().decode(errors="replace"), code


def lifecycle(cmd: list[str], bundle: str, cid: str, env: dict[str, str]) -> dict[str, float] | None:
    """Times of one create/start/state/exec/kill/delete round, None if a command failed."""
    argvs = {
        "create": [*cmd, "create", "-b", bundle, cid], "start": [*cmd, "start", cid],
        "state": [*cmd, "state", cid], "exec": [*cmd, "exec", cid, "/bin/true"],
        "kill": [*cmd, "kill", cid, "KILL"], "delete": [*cmd, "delete", cid],
    }
    out: dict[str, float] = {}
    try:
        for step in STEPS:
            if step == "delete":
                _wait_stopped(cmd, cid, env)
            out[step], err, code = _timed(argvs[step], env)
            if code != 0:
                raise RuntimeError(f"{cmd[0]} {step}: {err.strip()[:300]}")
    except RuntimeError as e:
        print(e)
        subprocess.run([*cmd, "delete", "--force", cid], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=False)
        return None
    return out


def _wait_stopped(cmd: list[str], cid: str, env: dict[str, str]) -> None:
    for _ in range(200):
        res = subprocess.run([*cmd, "state", cid], capture_output=True, env=env, check=False)
        if res.returncode != 0 or json.loads(res.stdout or b"{}").get("status") == "stopped":
            return
        time.sleep(0.005)


def report(times: dict[str, list[dict[str, float]]]) -> None:
    print("per command (median ms): " + "  ".join(f"{s:>7}" for s in STEPS))
    for name, rounds in times.items():
        if rounds:
            cells = "  ".join(f"{statistics.median(r[s] for r in rounds) * 1000:7.1f}" for s in STEPS)
            print(f"  {name:<24}{cells}   ({len(rounds)} ok)")
