"""`sampan update` flags -> the ContainerUpdate body, and its flag errors (no daemon)."""

from __future__ import annotations

import pytest

from sampan.cli.errors import StatusError
from sampan.cli.flags import parse_args
from sampan.cli.update import UPDATE, build_body


def body(*argv: str) -> dict[str, object]:
    return build_body(parse_args(UPDATE, "update", [*argv, "c1"]))


def test_flags_to_body() -> None:
    b = body("-m", "64m", "--memory-swap", "-1", "--cpus", "1.5", "-c", "512", "--pids-limit", "20",
             "--restart", "on-failure:3", "--cpuset-cpus", "0", "--blkio-weight", "300")
    assert (b["Memory"], b["MemorySwap"], b["NanoCpus"], b["CpuShares"]) == (64 << 20, -1, 1_500_000_000, 512)
    assert (b["PidsLimit"], b["CpusetCpus"], b["BlkioWeight"]) == (20, "0", 300)
    assert b["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    b = body("--memory-reservation", "1g")
    assert b["MemoryReservation"] == 1 << 30 and "PidsLimit" not in b
    assert b["RestartPolicy"] == {"Name": "", "MaximumRetryCount": 0}


def test_flag_errors() -> None:
    with pytest.raises(StatusError) as info:
        body("-m", "lots")
    assert info.value.status == 125
    assert info.value.message == ("invalid argument \"lots\" for \"-m, --memory\" flag: invalid size: 'lots'\n"
                                  "See 'sampan update --help'.")
    with pytest.raises(StatusError) as info:
        body("--restart", "sometimes")
    assert info.value.status == 1 and "unknown policy 'sometimes'" in info.value.message
