"""`sampan update`: change resources and the restart policy of one or more containers.

As docker's: at least one flag, each container name printed as given once updated, the
daemon's warnings after them, then the failures (exit 1). A flag value that does not parse
is a flag error (exit 125).
"""

from __future__ import annotations

from sampan import errdefs
from sampan.cli.containers import daemon_error
from sampan.cli.errors import StatusError
from sampan.cli.flags import Flag, Parsed, Spec, flag_error

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

    from sampan.cli.context import Cli

S, INT = "string", "int"


def _value(path: str, shown: str, raw: str, parse: Any) -> int:
    from sampan.cli.opts_values import OptError

    try:
        return int(parse(raw))
    except OptError as e:
        raise flag_error(path, f'invalid argument "{raw}" for "{shown}" flag: {e}') from None


def build_body(o: Parsed, path: str = "update") -> dict[str, Any]:
    """The ContainerUpdate body for the parsed flags (zero means "leave as is", as in the API)."""
    from sampan.cli import opts_values as ov

    body: dict[str, Any] = {
        "BlkioWeight": o.blkio_weight, "CpuShares": o.cpu_shares, "CpuPeriod": o.cpu_period,
        "CpuQuota": o.cpu_quota, "CpuRealtimePeriod": o.cpu_rt_period, "CpuRealtimeRuntime": o.cpu_rt_runtime,
        "CpusetCpus": o.cpuset_cpus, "CpusetMems": o.cpuset_mems, "Memory": 0, "MemorySwap": 0,
        "MemoryReservation": 0, "KernelMemory": 0, "NanoCpus": 0,
    }
    for flag, key, shown in (("memory", "Memory", "-m, --memory"),
                             ("memory_reservation", "MemoryReservation", "--memory-reservation"),
                             ("kernel_memory", "KernelMemory", "--kernel-memory")):
        if getattr(o, flag):
            body[key] = _value(path, shown, getattr(o, flag), ov.ram_in_bytes)
    if o.memory_swap:
        body["MemorySwap"] = -1 if o.memory_swap == "-1" else _value(path, "--memory-swap", o.memory_swap,
                                                                    ov.ram_in_bytes)
    if o.cpus:
        body["NanoCpus"] = _value(path, "--cpus", o.cpus, ov.nano_cpus)
    if o.pids_limit:
        body["PidsLimit"] = o.pids_limit
    if not 0 <= o.blkio_weight <= 65535:
        raise flag_error(path, f'invalid argument "{o.blkio_weight}" for "--blkio-weight" flag: '
                               f'strconv.ParseUint: parsing "{o.blkio_weight}": value out of range')
    policy = {"Name": "", "MaximumRetryCount": 0}
    if o.restart:
        try:
            policy = ov.parse_restart(o.restart)
        except ov.OptError as e:
            raise StatusError(str(e), 1) from None
    body["RestartPolicy"] = policy
    return body


def run_update(cli: Cli, o: Parsed) -> int:
    if not o.given - {"help"}:
        raise StatusError("you must provide one or more flags when using this command", 1)
    body = build_body(o)
    client = cli.client()
    errors: list[str] = []
    warnings: list[str] = []
    for name in o.args:
        from sampan.client.api import quote

        try:
            answer = client.request_json("POST", f"/containers/{quote(name)}/update", body=body) or {}
        except errdefs.SampanError as e:
            errors.append(daemon_error(e))
            continue
        cli.write(f"{name}\n")
        warnings.extend(str(w) for w in answer.get("Warnings") or [])
    if warnings:
        cli.write("\n".join(warnings) + "\n")
    if errors:
        raise StatusError("\n".join(errors), 1)
    return 0


def _run_flags(*names: str) -> list[Flag]:
    """The resource flags `update` shares with `run`/`create` (same names, types and help)."""
    from sampan.cli.container_opts import CONTAINER_FLAGS

    by_name = {f.long: f for f in CONTAINER_FLAGS}
    return [by_name[n] for n in names]


UPDATE = Spec("[OPTIONS] CONTAINER [CONTAINER...]", "Update configuration of one or more containers", [
    *_run_flags("blkio-weight", "cpu-period", "cpu-quota"),
    Flag("cpu-rt-period", "", INT, "Limit the CPU real-time period in microseconds"),
    Flag("cpu-rt-runtime", "", INT, "Limit the CPU real-time runtime in microseconds"),
    *_run_flags("cpu-shares", "cpus", "cpuset-cpus", "cpuset-mems"),
    Flag("kernel-memory", "", S, "Kernel memory limit (deprecated)", type_name="bytes", hidden=True),
    *_run_flags("memory", "memory-reservation"),
    Flag("memory-swap", "", S, "Swap limit equal to memory plus swap: -1 to enable unlimited swap",
         type_name="bytes"),
    *_run_flags("pids-limit"),
    Flag("restart", "", S, "Restart policy to apply when a container exits"),  # no "no" default here
], run_update, min_args=1)
