from __future__ import annotations

from typing import Any

import pytest

from sampan import errdefs
from sampan.runtime.cgroups import validate_resources

GOOD: dict[str, Any] = {
    "devices": [{"allow": False, "access": "rwm"}, {"allow": True, "type": "c", "major": 1, "minor": 3,
                                                    "access": "rw"}],
    "memory": {"limit": 1 << 30, "swap": 2 << 30, "reservation": -1, "swappiness": 0,
               "disableOOMKiller": False},
    "cpu": {"shares": 1024, "quota": -1, "period": 100000, "cpus": "0-3,5", "mems": "0", "idle": 0},
    "pids": {"limit": -1},
    "blockIO": {"weight": 10, "weightDevice": [{"major": 8, "minor": 0, "weight": 500}],
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 100}]},
    "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
    "network": {"classID": 1, "priorities": [{"name": "eth0", "priority": 2}]},
    "unified": {"memory.high": "max"},
    "someFutureKey": {"x": 1},
}


def test_good() -> None:
    validate_resources(GOOD)
    validate_resources({})


@pytest.mark.parametrize(
    ("resources", "message"),
    [
        ({"memory": {"limit": "1g"}}, "memory.limit: want an integer"),
        ({"memory": {"limit": True}}, "memory.limit: want an integer"),
        ({"memory": {"limit": -2}}, "below the minimum"),
        ({"memory": {"swappiness": 101}}, "0-100"),
        ({"memory": {"limit": 200, "swap": 100}}, "should be >= memory limit"),
        ({"memory": {"disableOOMKiller": 1}}, "want a boolean"),
        ({"cpu": {"cpus": "0-a"}}, "cpu.cpus"),
        ({"cpu": {"shares": -5}}, "below the minimum"),
        ({"cpu": {"idle": 2}}, "above the maximum"),
        ({"pids": []}, "want an object"),
        ({"blockIO": {"weight": 5}}, "10-1000"),
        ({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "minor": 0}]}}, "rate: missing"),
        ({"hugepageLimits": [{"pageSize": "2M", "limit": 1}]}, "page size"),
        ({"devices": [{"type": "c"}]}, "allow: a boolean is required"),
        ({"devices": [{"allow": True, "type": "x"}]}, "type"),
        ({"devices": [{"allow": True, "access": "rwx"}]}, "access"),
        ({"unified": {"../memory.max": "1"}}, "not a cgroup v2 control file"),
        ({"unified": {"cgroup.procs": "1"}}, "cannot be set"),
        ({"unified": {"memory.max": 5}}, "want a string"),
        ({"network": {"priorities": [{"priority": 1}]}}, "interface name"),
        ([], "want an object"),
    ],
)
def test_bad(resources: Any, message: str) -> None:
    with pytest.raises(errdefs.InvalidArgument, match=message.replace(".", r"\.").replace("(", r"\(")):
        validate_resources(resources)
