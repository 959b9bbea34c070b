"""`stats --no-stream` for 10 running containers: sampan vs Docker, alternating.

Starts 10 `sleep` containers on a sampand and 10 (`--network none`) on a dockerd, both on temp
roots (dockerd only when installed), then times in turn `sampan stats --no-stream`, the docker CLI
against sampand and the docker CLI against dockerd, and one `GET /containers/ID/stats?stream=0`
through docker-py on each daemon (a one-shot sample needs a CPU delta: dockerd waits for its next
collection tick, so this is mostly a wait, not work), and the same with `one-shot=1` (one sample,
no wait: the cost of the work itself). Prints medians, spreads and ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import docker

from bench.exec_engines import alternate, engines, loadavg, spread, timed


def api_case(client: docker.DockerClient, container_id: str, one_shot: bool) -> Callable[[], float]:
    api = client.api

    def run() -> float:
        start = time.perf_counter()
        api.stats(container_id, stream=False, one_shot=one_shot or None)
        return time.perf_counter() - start
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--rounds", type=int, default=10)
    parser.add_argument("-c", "--containers", type=int, default=10)
    parser.add_argument("--no-docker", action="store_true")
    args = parser.parse_args()
    with engines("stats", with_docker=not args.no_docker) as env:
        hosts = {"sampand": env.sampand.docker_host}
        ids = {"sampand": [env.run_detached(env.docker_on_sampan, f"bench-stats-{i}", "sleep", "3600")
                           for i in range(args.containers)]}
        cases: dict[str, Callable[[], float]] = {
            "sampan stats --no-stream": lambda: timed([*env.sampan, "stats", "--no-stream"]),
            "docker CLI -> sampand": lambda: timed([*env.docker_on_sampan, "stats", "--no-stream"]),
        }
        if env.docker_on_dockerd and env.docker_host:
            cli = env.docker_on_dockerd
            hosts["dockerd"] = env.docker_host
            ids["dockerd"] = [env.run_detached(cli, f"bench-stats-{i}", "sleep", "3600")
                              for i in range(args.containers)]
            cases["docker CLI -> dockerd"] = lambda: timed([*cli, "stats", "--no-stream"])
        clients = {name: docker.DockerClient(base_url=host, version="auto") for name, host in hosts.items()}
        try:
            for name, client in clients.items():
                cases[f"API stats?stream=0 -> {name}"] = api_case(client, ids[name][0], False)
                cases[f"API ...&one-shot=1 -> {name}"] = api_case(client, ids[name][0], True)
            times = alternate(cases, args.rounds)
        finally:
            for client in clients.values():
                client.close()
    print(f"\nstats --no-stream with {args.containers} running containers, median of {args.rounds} "
          f"alternating rounds (load {loadavg()}):")
    med = {name: statistics.median(v) for name, v in times.items()}
    for name, m in med.items():
        print(f"  {name:32s} {m * 1e3:8.1f} ms   {spread(times[name])}")
    pairs = [("sampan stats --no-stream", "docker CLI -> dockerd"), ("docker CLI -> sampand", "docker CLI -> dockerd"),
             ("API stats?stream=0 -> sampand", "API stats?stream=0 -> dockerd"),
             ("API ...&one-shot=1 -> sampand", "API ...&one-shot=1 -> dockerd")]
    if "docker CLI -> dockerd" not in med:
        return 0
    print("  ratios sampan / dockerd (below 1: sampan faster):")
    for ours, ref in pairs:
        if ours in med and ref in med:
            print(f"    {ours:30s} / {ref:30s} {med[ours] / med[ref]:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
