"""`exec CONTAINER true` latency: sampan vs Docker, in one alternating run.

One `sleep` container runs on a sampand and one (`--network none`) on a dockerd, both on temp roots
(dockerd only when installed). Each round times, in turn: `sampan exec`, the docker CLI against
sampand, the docker CLI against dockerd, and docker-py's `exec_run(["true"])` against each daemon
(one client per daemon, made before the timing). Then the three API calls of an exec (create,
start with the output stream, inspect) are timed apart on each daemon, to show where the time goes.
Prints medians, spreads and the ratios sampan / dockerd.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import docker

from bench.exec_engines import Engines, alternate, engines, loadavg, spread, timed


def docker_py_case(client: docker.DockerClient, container_id: str) -> Callable[[], float]:
    container = client.containers.get(container_id)

    def run() -> float:
        start = time.perf_counter()
        result = container.exec_run(["true"])
        elapsed = time.perf_counter() - start
        assert result.exit_code == 0, result
        return elapsed
    return run


def api_phases(client: docker.DockerClient, container_id: str, rounds: int) -> dict[str, float]:
    """Median ms of each API call of an exec: POST /exec, POST /exec/start, GET /exec/json."""
    api = client.api
    phases: dict[str, list[float]] = {"create": [], "start+stream": [], "inspect": []}
    for _ in range(rounds):
        t0 = time.perf_counter()
        exec_id = api.exec_create(container_id, ["true"])["Id"]
        t1 = time.perf_counter()
        api.exec_start(exec_id)
        t2 = time.perf_counter()
        assert api.exec_inspect(exec_id)["ExitCode"] == 0
        t3 = time.perf_counter()
        for name, value in zip(phases, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            phases[name].append(value)
    return {name: statistics.median(v) * 1e3 for name, v in phases.items()}


def cases(env: Engines, clients: dict[str, docker.DockerClient], ids: dict[str, str]) -> dict[str, Callable[[], float]]:
    table: dict[str, Callable[[], float]] = {
        "sampan exec": lambda: timed([*env.sampan, "exec", ids["sampand"], "true"]),
        "docker CLI -> sampand": lambda: timed([*env.docker_on_sampan, "exec", ids["sampand"], "true"]),
    }
    if env.docker_on_dockerd:
        cli = env.docker_on_dockerd
        table["docker CLI -> dockerd"] = lambda: timed([*cli, "exec", ids["dockerd"], "true"])
    for name, client in clients.items():
        table[f"docker-py exec_run -> {name}"] = docker_py_case(client, ids[name])
    return table


def report(times: dict[str, list[float]], rounds: int) -> None:
    print(f"\nexec CONTAINER true, median of {rounds} alternating rounds (load {loadavg()}):")
    med = {name: statistics.median(v) for name, v in times.items()}
    for name, m in med.items():
        print(f"  {name:34s} {m * 1e3:7.1f} ms   {spread(times[name])}")
    pairs = [("sampan exec", "docker CLI -> dockerd"), ("docker CLI -> sampand", "docker CLI -> dockerd"),
             ("docker-py exec_run -> sampand", "docker-py exec_run -> dockerd")]
    if "docker CLI -> dockerd" not in med:
        return
    print("  ratios sampan / dockerd (below 1: sampan faster):")
    for ours, ref in pairs:
        if ours in med and ref in med:
            print(f"    {ours:32s} / {ref:30s} {med[ours] / med[ref]:5.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--rounds", type=int, default=30)
    parser.add_argument("--no-docker", action="store_true")
    parser.add_argument("--raw", action="store_true", help="also print every time, in run order")
    args = parser.parse_args()
    with engines("exec", with_docker=not args.no_docker) as env:
        ids = {"sampand": env.run_detached(env.docker_on_sampan, "bench-exec", "sleep", "3600")}
        hosts = {"sampand": env.sampand.docker_host}
        if env.docker_on_dockerd and env.docker_host:
            ids["dockerd"] = env.run_detached(env.docker_on_dockerd, "bench-exec", "sleep", "3600")
            hosts["dockerd"] = env.docker_host
        clients = {name: docker.DockerClient(base_url=host, version="auto") for name, host in hosts.items()}
        try:
            times = alternate(cases(env, clients, ids), args.rounds, warmup=2)
            report(times, args.rounds)
            if args.raw:
                for name, values in times.items():
                    print(f"  {name}: " + " ".join(f"{v * 1e3:.0f}" for v in values))
            print("\nAPI calls of one exec (docker-py low-level client), median ms:")
            for name, client in clients.items():
                phases = api_phases(client, ids[name], args.rounds)
                print(f"  {name:8s} " + "   ".join(f"{k} {v:6.1f}" for k, v in phases.items()))
        finally:
            for client in clients.values():
                client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
