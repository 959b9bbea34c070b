from __future__ import annotations

import pytest

from sampan.daemon.containers.spec import validate_host_config
from sampan.errdefs import InvalidArgument, NotImplementedFeature

MB = 1 << 20


@pytest.mark.parametrize(("hc", "message"), [
    ({"NanoCpus": 1_000_000_000, "CpuPeriod": 100000},
     "Conflicting options: Nano CPUs and CPU Period cannot both be set"),
    ({"NanoCpus": 1_000_000_000, "CpuQuota": 50000}, "Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
    ({"Memory": 4 * MB}, "Minimum memory limit allowed is 6MB"),
    ({"Memory": 64 * MB, "MemorySwap": 32 * MB},
     "Minimum memoryswap limit should be larger than memory limit, see usage"),
    ({"MemorySwap": 32 * MB}, "You should always set the Memory limit when using Memoryswap limit, see usage"),
    ({"Memory": 8 * MB, "MemoryReservation": 16 * MB},
     "Minimum memory limit can not be less than memory reservation limit, see usage"),
    ({"MemoryReservation": 1 * MB}, "Minimum memory reservation allowed is 6MB"),
    ({"MemorySwappiness": 101}, "Invalid value: 101, valid memory swappiness range is 0-100"),
    ({"CpuPeriod": 10}, "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"),
    ({"CpuQuota": 10}, "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
    ({"CpusetCpus": "0-x"}, "Invalid value 0-x for cpuset cpus"),
    ({"RestartPolicy": {"Name": "sometimes"}},
     "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', "
     "or 'unless-stopped'"),
    ({"RestartPolicy": {"Name": "always", "MaximumRetryCount": 3}},
     "invalid restart policy: maximum retry count can only be used with 'on-failure'"),
    ({"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": -1}},
     "invalid restart policy: maximum retry count can not be negative"),
    ({"AutoRemove": True, "RestartPolicy": {"Name": "always"}},
     "can't create 'AutoRemove' container with restart policy"),
    ({"PidMode": "weird"}, "invalid PID mode: weird"),
    ({"PidMode": "container:"}, "invalid PID mode: container:"),
    ({"IpcMode": "bogus"}, "invalid IPC mode: bogus"),
    ({"UTSMode": "other"}, "invalid UTS mode: other"),
    ({"CgroupnsMode": "shared"}, "invalid cgroup namespace mode: shared"),
    ({"OomScoreAdj": 1001}, "Invalid value 1001, range for oom score adj is [-1000, 1000]"),
    ({"ShmSize": -1}, "SHM size can not be less than 0"),
    ({"BlkioWeight": 5}, "Range of blkio weight is from 10 to 1000"),
    ({"CapAdd": ["NOT_A_CAP"]}, 'unknown capability: "CAP_NOT_A_CAP"'),
    ({"SecurityOpt": ["x"]}, 'invalid --security-opt 1: "x"'),
    ({"Sysctls": {"vm.swappiness": "1"}}, "sysctl 'vm.swappiness' is not whitelisted"),
    ({"Mounts": [{"Type": "bind", "Source": "/does/not/exist", "Target": "/x"}]},
     'invalid mount config for type "bind": bind source path does not exist: /does/not/exist'),
    ({"Memory": "lots"}, "invalid value for Memory: 'lots': want an integer"),
    ({"SecurityOpt": ["seccomp={nope"]},
     "Decoding seccomp profile failed: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ({"SecurityOpt": ['seccomp={"defaultAction": "SCMP_ACT_MAYBE"}']},
     "invalid seccomp profile: defaultAction: 'SCMP_ACT_MAYBE' is not a valid seccomp action"),
    ({"Isolation": "hyperv"}, "invalid isolation: \"hyperv\" - linux only supports 'default'"),
    ({"NetworkMode": "container:x", "Dns": ["1.1.1.1"]}, "conflicting options: dns and the network mode"),
    ({"NetworkMode": "container:x", "ExtraHosts": ["a:1.2.3.4"]},
     "conflicting options: custom host-to-IP mapping and the network mode"),
    ({"NetworkMode": "container:x", "PortBindings": {"80/tcp": [{"HostPort": "8080"}]}},
     "conflicting options: port publishing and the container type network mode"),
    ({"NetworkMode": "host", "Links": ["a:b"]},
     "conflicting options: host type networking can't be used with links. This would result in undefined behavior"),
])
def test_invalid(hc: dict, message: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        validate_host_config(hc)
    assert str(err.value) == message
    assert err.value.status == 400


@pytest.mark.parametrize("hc", [
    {},
    {"Memory": 6 * MB, "MemorySwap": -1},
    {"Memory": 64 * MB, "MemorySwap": 64 * MB, "MemorySwappiness": -1},
    {"NanoCpus": 500_000_000, "CpuShares": 100, "CpusetCpus": "0", "CpusetMems": "0"},
    {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}},
    {"AutoRemove": True, "RestartPolicy": {"Name": "no"}},
    {"AutoRemove": True, "RestartPolicy": {"Name": ""}},
    {"PidMode": "host", "IpcMode": "shareable", "UTSMode": "host", "NetworkMode": "none"},
    {"PidMode": "container:abc", "IpcMode": "container:abc"},
    {"CapAdd": ["all"], "CapDrop": ["cap_chown"], "SecurityOpt": ["no-new-privileges", "seccomp=unconfined"]},
    {"Sysctls": {"net.core.somaxconn": "1024", "kernel.msgmax": "1"}},
    {"Binds": ["/tmp/not-yet-there-but-created-at-start:/x"]},
])
def test_valid(hc: dict) -> None:
    validate_host_config(hc)


def test_config_conflicts() -> None:
    from sampan.daemon.containers.spec import validate_config

    with pytest.raises(InvalidArgument, match="conflicting options: mac-address and the network mode"):
        validate_config({"MacAddress": "02:42:ac:11:00:02"}, {"NetworkMode": "container:x"})
    validate_config({"Hostname": "h", "MacAddress": "02:42:ac:11:00:02"}, {"NetworkMode": "bridge"})


def test_volumes_not_implemented() -> None:
    with pytest.raises(NotImplementedFeature):
        validate_host_config({"Binds": ["vol:/data"]})
