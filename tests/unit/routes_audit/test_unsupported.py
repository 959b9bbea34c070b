"""HostConfig fields refused or discarded as dockerd does on Linux."""

from __future__ import annotations

import pytest

from sampan.daemon.containers.unsupported import check_create, check_start
from sampan.errdefs import InvalidArgument, System


def test_create_refusals_and_warnings() -> None:
    assert check_create({"Memory": 1}) == []
    assert check_create({"CpuCount": 2, "CpuPercent": 50}) == [
        "linux does not support CPU percent. Percent discarded.", "linux does not support CPU count. Count discarded."]
    with pytest.raises(InvalidArgument, match="Invalid QoS settings: linux does not support Maximum IO Bandwidth"):
        check_create({"IOMaximumIOps": 10})
    with pytest.raises(System, match="--storage-opt is supported only for overlay over xfs"):
        check_create({"StorageOpt": {"size": "1G"}})


def test_gpu_requests_fail_at_start() -> None:
    check_start({"DeviceRequests": None})
    with pytest.raises(InvalidArgument) as info:
        check_start({"DeviceRequests": [{"Driver": "", "Count": -1, "Capabilities": [["gpu"]]}]})
    assert str(info.value) == 'could not select device driver "" with capabilities: [[gpu]]'
