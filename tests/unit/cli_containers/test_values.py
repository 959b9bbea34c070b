"""Flag value parsers (docker's units, mounts, devices, ports) and the exit status mapping."""

from __future__ import annotations

import pytest

from sampan.cli import opts_values as ov
from sampan.cli.logs import get_timestamp
from sampan.cli.run import start_status


@pytest.mark.parametrize(("text", "value"), [
    ("64m", 64 << 20), ("64M", 64 << 20), ("1.5g", 3 << 29), ("100", 100), ("2KiB", 2048), ("1gb", 1 << 30),
    ("0", 0), ("3 k", 3072),
])
def test_ram_in_bytes(text: str, value: int) -> None:
    assert ov.ram_in_bytes(text) == value


@pytest.mark.parametrize("text", ["", "lots", "-1m", "1x", "m"])
def test_ram_in_bytes_refuses(text: str) -> None:
    with pytest.raises(ov.OptError, match="invalid size"):
        ov.ram_in_bytes(text)


def test_nano_cpus() -> None:
    assert ov.nano_cpus("1.5") == 1_500_000_000
    assert ov.nano_cpus("0.000000001") == 1
    with pytest.raises(ov.OptError, match="too precise"):
        ov.nano_cpus("0.0000000001")


def test_devices_ulimits_hosts_restart() -> None:
    assert ov.parse_device("/dev/a:rw") == {"PathOnHost": "/dev/a", "PathInContainer": "/dev/a",
                                            "CgroupPermissions": "rw"}
    assert ov.parse_device("/dev/a:/dev/b")["PathInContainer"] == "/dev/b"
    with pytest.raises(ov.OptError):
        ov.parse_device("/dev/a:/dev/b:x")
    assert ov.parse_ulimit("nofile=10") == {"Name": "nofile", "Soft": 10, "Hard": 10}
    with pytest.raises(ov.OptError, match="soft limit"):
        ov.parse_ulimit("nofile=10:5")
    assert ov.parse_extra_host("h=1.2.3.4") == "h:1.2.3.4"
    assert ov.parse_extra_host("h6=[::1]") == "h6:::1"
    assert ov.parse_restart("on-failure:5") == {"Name": "on-failure", "MaximumRetryCount": 5}
    with pytest.raises(ov.OptError):
        ov.parse_restart("always:5")


def test_mounts() -> None:
    assert ov.parse_mount("type=bind,source=/a,target=/b,ro=false") == {
        "Type": "bind", "Source": "/a", "Target": "/b", "ReadOnly": False}
    with pytest.raises(ov.OptError, match="cannot mix"):
        ov.parse_mount("type=bind,src=/a,dst=/b,tmpfs-size=1m")
    with pytest.raises(ov.OptError, match="invalid mount type"):
        ov.parse_mount("type=nfs,dst=/b")


def test_ports() -> None:
    exposed, bindings = ov.parse_ports(["[::1]:80:8080"], [])
    assert exposed == {"8080/tcp": {}}
    assert bindings == {"8080/tcp": [{"HostIp": "::1", "HostPort": "80"}]}


def test_exit_status_of_start_errors() -> None:
    assert start_status('exec: "x": executable file not found in $PATH') == 127
    assert start_status("open /x: no such file or directory") == 127
    assert start_status("exec /etc/passwd: permission denied") == 126
    assert start_status("read /bin: is a directory") == 126
    assert start_status("cgroup quota too small") == 125


def test_log_timestamps() -> None:
    import time

    before = int(time.time()) - 600
    assert before <= int(get_timestamp("10m")) <= before + 2  # a duration is sent as whole seconds
    assert get_timestamp("1700000000") == "1700000000"
    assert get_timestamp("2024-01-02T03:04:05.5Z") == "1704164645.500000000"
    assert get_timestamp("2024-01-02T03:04:05+01:00") == "1704161045.000000000"
    from sampan.cli.errors import StatusError

    with pytest.raises(StatusError, match='invalid value for "until"'):
        get_timestamp("yesterday", "until")
