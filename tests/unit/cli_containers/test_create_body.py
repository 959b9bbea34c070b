"""`sampan create/run` sends the create request the docker CLI (28.x) sends for the same flags.

Each case runs `docker create ...` and `sampan create ...` against the same fake engine and
compares the decoded request bodies and queries. Nothing is normalised: sampan fills in the
same zero values docker's Go structs serialise.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from tests.unit.cli_containers.conftest import docker, sampan
from tests.unit.cli_containers.fakeengine import FakeEngine

CASES = [
    "--name x -e A=1 -v /a:/b:ro --cpus 1.5 -m 64m busybox true",
    "busybox",
    "-t -i busybox sh",
    "--rm --init --read-only -w /w -u 1:2 -h host --domainname dom busybox echo a b",
    "--entrypoint /bin/sh busybox -c 'echo hi'",
    "--entrypoint= busybox",
    "-e FOO -e BAR -e X=1=2 --env-file {envfile} busybox",
    "-l a=b -l c --label-file {labelfile} busybox",
    "--mount type=bind,src=/a,dst=/b,readonly --mount type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770 "
    "--mount type=volume,src=v,dst=/v,volume-nocopy --mount type=bind,source=/c,target=/d,bind-propagation=rshared "
    "busybox",
    "-v /data -v named:/n -v /x:/y --tmpfs /run:rw,size=1m --tmpfs /tmp busybox",
    "--ulimit nofile=1024:2048 --ulimit nproc=5 --memory-swap -1 --memory-reservation 1g --shm-size 1g busybox",
    "-m 1.5g --memory-swap 2g --cpu-shares 512 --cpuset-cpus 0-1 --pids-limit 10 --cpus 0.25 busybox",
    "--cpu-period 100000 --cpu-quota 50000 --oom-score-adj 100 --oom-kill-disable busybox",
    "--log-driver json-file --log-opt max-size=1m --log-opt max-file=3 --stop-signal SIGINT --stop-timeout 3 busybox",
    "--stop-timeout 0 busybox",
    "--device /dev/fuse --device /dev/null:/dev/n:r --device /dev/zero:r --group-add 10 --group-add audio busybox",
    "--add-host h:1.2.3.4 --add-host g=5.6.7.8 --dns 1.1.1.1 --dns-option ndots:1 --dns-search x.com busybox",
    "--pid host --ipc host --uts host --sysctl net.core.somaxconn=10 --network none busybox",
    "--network host --restart on-failure:3 busybox",
    "--restart always --privileged busybox",
    "--cap-add NET_ADMIN --cap-add sys_time --cap-drop all busybox",
    "--cap-add net_admin --cap-drop NET_ADMIN --cap-drop CAP_CHOWN busybox",
    "--cap-add sys_time --cap-add NET_ADMIN --cap-add ALL --network container:abc busybox",
    "--network bridge --mount type=volume,src=v,dst=/v --mount type=volume,dst=/w,volume-driver=x,volume-label=a=b "
    "busybox",
    "--security-opt no-new-privileges --security-opt seccomp=unconfined --security-opt seccomp={profile} busybox",
    "-p 8080:80 -p 127.0.0.1:53:53/udp -p 9000 --expose 99 --expose 100/udp busybox",
    "--init=false --platform linux/amd64 busybox",
    "-a stdout busybox",
    "-a stdin -a stderr busybox",
    "--cgroupns private --userns host --cgroup-parent /p --volumes-from other busybox",
    "--health-cmd 'curl -f x' --health-interval 30s --health-retries 3 --health-timeout 1m30s "
    "--health-start-period 5s --health-start-interval 250ms busybox",
    "--no-healthcheck --link other:alias --blkio-weight 300 --device-cgroup-rule 'c 1:3 mr' --volume-driver local "
    "--storage-opt size=1G --mac-address 02:42:ac:11:00:02 busybox",
    "--network mynet --network-alias web --ip 10.0.0.5 --ip6 2001:db8::33 --link o:a busybox",
    "--network bridge --link o:a --health-cmd true busybox",
]


def _files(tmp_path: os.PathLike[str]) -> dict[str, str]:
    base = os.fspath(tmp_path)
    env = os.path.join(base, "e.env")
    with open(env, "w") as f:
        f.write("X=1\n# comment\n\nFOO\nNOPE\n  Y= 2 \nEMPTY=\n")
    labels = os.path.join(base, "l.txt")
    with open(labels, "w") as f:
        f.write("k=v\n# c\nbare\n")
    profile = os.path.join(base, "seccomp.json")
    with open(profile, "w") as f:
        json.dump({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}, f, indent=2)
    return {"envfile": env, "labelfile": labels, "profile": profile}


def _last_create(engine: FakeEngine) -> tuple[dict[str, list[str]], dict[str, Any]]:
    _, query, body = engine.find("POST", "/containers/create")[-1]
    return query, json.loads(body)


def _split(line: str) -> list[str]:
    import shlex

    return shlex.split(line)


@pytest.mark.parametrize("line", CASES)
def test_create_body_matches_docker(engine: FakeEngine, tmp_path: os.PathLike[str],
                                    monkeypatch: pytest.MonkeyPatch, line: str) -> None:
    monkeypatch.setenv("FOO", "from-env")
    monkeypatch.delenv("BAR", raising=False)
    argv = _split(line.format(**_files(tmp_path)))
    if "--name" in argv:  # names must be unique: the second create gets another one
        argv[argv.index("--name") + 1] = "first"
    d = docker("create", *argv)
    assert d.status == 0, d
    want_query, want = _last_create(engine)
    if "--name" in argv:
        argv[argv.index("--name") + 1] = "second"
        want_query["name"] = ["second"]
    s = sampan("create", *argv)
    assert s.status == 0, s
    got_query, got = _last_create(engine)
    for body in (got, want):  # docker 28 orders -e and -v values differently from run to run (map order)
        for holder, key in ((body, "Env"), (body["HostConfig"], "Binds")):
            if holder.get(key):
                holder[key] = sorted(holder[key])
    assert got_query == want_query
    assert _diff(got, want) == []


def _diff(got: Any, want: Any, path: str = "") -> list[str]:
    """Readable differences between two decoded bodies."""
    if isinstance(got, dict) and isinstance(want, dict):
        out = []
        for key in sorted(set(got) | set(want)):
            if key not in got or key not in want:
                out.append(f"{path}.{key}: {got.get(key, '<missing>')!r} != {want.get(key, '<missing>')!r}")
            else:
                out.extend(_diff(got[key], want[key], f"{path}.{key}"))
        return out
    return [] if got == want else [f"{path}: {got!r} != {want!r}"]


def test_run_body_matches_docker(engine: FakeEngine) -> None:
    """`run` (attached, or -d) differs from `create` in the attach and stdin fields."""
    for argv in (["busybox", "true"], ["-d", "busybox", "true"], ["-i", "busybox", "true"],
                 ["--rm", "-i", "-a", "stdout", "busybox", "true"]):
        d = docker("run", *argv)
        assert d.status == 0, d
        _, want = _last_create(engine)
        s = sampan("run", *argv)
        assert s.status == 0, s
        _, got = _last_create(engine)
        assert _diff(got, want) == [], argv


@pytest.mark.parametrize(("argv", "message"), [
    (["-m", "lots", "busybox"], "invalid size: 'lots'"),
    (["--cpus", "0.0000000001", "busybox"], "value is too precise"),
    (["--rm", "--restart", "always", "busybox"], "conflicting options: cannot specify both --restart and --rm"),
    (["--ulimit", "nofile", "busybox"], "invalid ulimit argument: nofile"),
    (["--mount", "type=bind,src=/a", "busybox"], "target is required"),
    (["--pull", "sometimes", "busybox"], "invalid pull option"),
])
def test_bad_values_exit_125(engine: FakeEngine, argv: list[str], message: str) -> None:
    r = sampan("run", *argv)
    assert r.status == 125
    assert message in r.err
    assert r.err.startswith("sampan: ") and r.err.endswith("Run 'sampan run --help' for more information\n")
    assert not engine.find("POST", "/containers/create")


def test_unknown_flag_exits_125(engine: FakeEngine) -> None:
    r = sampan("run", "--bogus", "busybox")
    assert r.status == 125 and "unknown flag: --bogus" in r.err
