"""`sampan run` and the lifecycle commands print and exit like docker 28 against the same daemon."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.unit.cli_containers.conftest import Result, docker, sampan, sampan_program
from tests.unit.cli_containers.fakeengine import FakeEngine

ID = re.compile(r"\b[0-9a-f]{64}\b")


def _same(d: Result, s: Result) -> None:
    """Equal once `docker` reads `sampan` and full ids are masked."""
    def norm(text: str) -> str:
        return ID.sub("<id>", text.replace("docker", "sampan"))

    assert (s.status, norm(s.out), norm(s.err)) == (d.status, norm(d.out), norm(d.err))


RUN_CASES = [
    (["busybox", "echo", "hi"], ""),
    (["busybox", "exit", "3"], ""),
    (["--rm", "busybox", "err", "oops"], ""),
    (["-i", "busybox", "cat"], "line one\nline two\n"),
    (["--rm", "-i", "busybox", "cat"], "x" * 100_000),
    (["-a", "stdout", "busybox", "err", "hidden"], ""),
    (["-t", "busybox", "echo", "tty"], ""),
    (["busybox", "missing-cmd"], ""),
    (["--rm", "busybox", "missing-cmd"], ""),
    (["busybox", "noperm-cmd"], ""),
    (["nosuch", "echo"], ""),
    (["alpine", "echo", "pulled"], ""),
    (["--pull", "never", "alpine", "echo"], ""),
    (["--pull", "always", "busybox", "echo", "again"], ""),
    (["-d", "busybox", "sleep", "5"], ""),
    (["-it", "busybox", "sh"], ""),
    (["--name", "dup", "busybox", "true"], ""),
]


@pytest.mark.parametrize(("argv", "stdin"), RUN_CASES, ids=[" ".join(a) for a, _ in RUN_CASES])
def test_run_like_docker(engine: FakeEngine, argv: list[str], stdin: str) -> None:
    d = docker("run", *argv, stdin=stdin)
    engine.images.discard("alpine:latest")
    s = sampan("run", *argv, stdin=stdin)
    if argv[:2] == ["--name", "dup"]:  # the second run meets the first one's name
        assert s.status == 125 and 'Conflict. The container name "/dup" is already in use' in s.err
        return
    _same(d, s)


def test_run_as_a_program(engine: FakeEngine) -> None:
    """Through real pipes (sys.stdin/stdout buffers), not in-memory streams."""
    for argv, stdin in ((["busybox", "echo", "hi"], ""), (["-i", "busybox", "cat"], "abc\n"),
                        (["busybox", "exit", "7"], ""), (["busybox", "err", "to", "stderr"], "")):
        _same(docker("run", *argv, stdin=stdin), sampan_program("run", *argv, stdin=stdin))


def test_run_pulls_missing_image_then_creates(engine: FakeEngine) -> None:
    r = sampan("run", "--rm", "alpine:3", "echo", "x")
    assert r.status == 0 and r.out == "x\n"
    assert r.err.startswith("Unable to find image 'alpine:3' locally\n3: Pulling from library/alpine\n")
    assert engine.pulls == ["alpine:3"]
    assert len(engine.find("POST", "/containers/create")) == 2


def test_run_attaches_and_waits_before_start(engine: FakeEngine) -> None:
    sampan("run", "--rm", "busybox", "echo", "x")
    order = [p.rsplit("/", 1)[-1] for m, p, _, _ in engine.requests if p.startswith("/containers/")]
    assert order[:4] == ["create", "attach", "wait", "start"]
    _, query, _ = engine.find("POST", "/wait")[0]
    assert query["condition"] == ["removed"]
    _, query, _ = engine.find("POST", "/attach")[0]
    assert query["stream"] == ["1"] and query["stdout"] == ["1"] and query["stdin"] == ["0"]
    sampan("run", "busybox", "true")
    assert engine.find("POST", "/wait")[-1][1]["condition"] == ["next-exit"]


def test_detach_prints_full_id(engine: FakeEngine) -> None:
    r = sampan("run", "-d", "--name", "bg", "busybox", "sleep", "5")
    assert r.status == 0 and ID.fullmatch(r.out.strip())
    assert engine.lookup("bg") is not None and engine.lookup("bg").running  # type: ignore[union-attr]
    assert not engine.find("POST", "/attach")


def test_create_prints_id_and_start_attach(engine: FakeEngine) -> None:
    r = sampan("create", "--name", "c1", "busybox", "echo", "later")
    assert r.status == 0 and ID.fullmatch(r.out.strip())
    r = sampan("start", "-a", "c1")
    assert (r.status, r.out) == (0, "later\n")
    sampan("create", "--name", "c2", "busybox", "exit", "4")
    assert sampan("start", "-a", "c2").status == 4
    r = sampan("start", "c1", "nope")
    assert r.status == 1 and r.out == "c1\n"
    assert r.err == "Error response from daemon: No such container: nope\nError: failed to start containers: nope\n"


LIFECYCLE = [
    ["stop", "bg", "nope"], ["kill", "nope"], ["restart", "nope"], ["rm", "nope"], ["rm", "-f", "nope"],
    ["wait", "nope"], ["logs", "nope"], ["start", "nope"], ["rm", "bg"],
]


@pytest.mark.parametrize("argv", LIFECYCLE, ids=[" ".join(a) for a in LIFECYCLE])
def test_lifecycle_errors_like_docker(engine: FakeEngine, argv: list[str]) -> None:
    for tool in (docker, sampan):
        engine.containers.clear()
        assert sampan("run", "-d", "--name", "bg", "busybox", "sleep", "10").status == 0
        result = tool(*argv)
        if tool is docker:
            want = result
    _same(want, result)


def test_stop_kill_rm_wait(engine: FakeEngine) -> None:
    sampan("run", "-d", "--name", "a", "busybox", "sleep", "10")
    sampan("run", "-d", "--name", "b", "busybox", "sleep", "10")
    assert sampan("stop", "-t", "1", "-s", "SIGUSR1", "a").out == "a\n"
    assert engine.find("POST", "/stop")[-1][1] == {"t": ["1"], "signal": ["SIGUSR1"]}
    assert sampan("kill", "-s", "INT", "b").out == "b\n"
    assert sampan("wait", "a", "b").out == "137\n130\n"
    assert sampan("rm", "-v", "a", "b").out == "a\nb\n"
    assert engine.find("DELETE", "/containers/a")[-1][1] == {"v": ["1"]}
    assert engine.containers == {}


def test_container_prune(engine: FakeEngine) -> None:
    sampan("run", "--name", "done", "busybox", "true")
    r = sampan("container", "prune", stdin="n\n")
    assert r.out == "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] "
    cid = engine.lookup("done").id  # type: ignore[union-attr]
    r = sampan("container", "prune", "-f")
    assert r.out == f"Deleted Containers:\n{cid}\n\nTotal reclaimed space: 0B\n"


def test_logs_demux_tail_timestamps(engine: FakeEngine) -> None:
    sampan("run", "--name", "l", "busybox", "echo", "one")
    engine.lookup("l").emit(2, b"two\n")  # type: ignore[union-attr]
    for argv in (["l"], ["-n", "1", "l"], ["-t", "l"], ["--tail", "0", "l"]):
        _same(docker("logs", *argv), sampan("logs", *argv))
    sampan("logs", "--since", "10m", "--until", "2024-01-02T03:04:05Z", "-f", "l")
    _, query, _ = engine.find("GET", "/logs")[-1]
    assert query["until"] == ["1704164645.000000000"] and query["follow"] == ["1"]
    assert re.fullmatch(r"\d{10}", query["since"][0])  # a duration goes out in whole seconds, as docker


def test_inspect_container_then_image(engine: FakeEngine) -> None:
    sampan("run", "--name", "i", "busybox", "true")
    r = sampan("inspect", "--format", "{{.Name}} {{.Config.Image}}", "i")
    assert (r.status, r.out) == (0, "/i busybox\n")
    r = sampan("container", "inspect", "nope")
    assert (r.status, r.out, r.err) == (1, "[]\n", "Error: No such container: nope\n")
    info = json.loads(sampan("inspect", "--type", "container", "i").out)
    assert info[0]["Name"] == "/i"


def test_signals_are_proxied_to_the_container(engine: FakeEngine) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-m", "sampan.cli.main", "run", "--name", "sig", "busybox", "sleep", "30"],
                            env=dict(os.environ, SAMPAN_NO_AUTOSTART="1"), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not (engine.lookup("sig") and engine.lookup("sig").running):  # type: ignore[union-attr]
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.2)  # the handlers are installed once the output is being copied
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 137
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _, query, _ = engine.find("POST", "/kill")[-1]
    assert query["signal"] == ["SIGTERM"]


def test_attach_to_running_and_stopped(engine: FakeEngine) -> None:
    import threading

    sampan("run", "-d", "--name", "att", "busybox", "sleep", "30")
    stopper = threading.Timer(0.3, lambda: sampan("stop", "att"))
    stopper.start()
    r = sampan("attach", "--no-stdin", "att")
    stopper.join()
    assert r.status == 137
    _, query, _ = engine.find("POST", "/attach")[-1]
    assert query["stdin"] == ["0"] and query["detachKeys"] == ["ctrl-p,ctrl-q"]
    r = sampan("attach", "att")
    assert (r.status, r.err) == (1, "You cannot attach to a stopped container, start it first\n")
    _same(docker("attach", "att"), r)


def test_cidfile(engine: FakeEngine, tmp_path: os.PathLike[str]) -> None:
    path = os.path.join(os.fspath(tmp_path), "cid")
    r = sampan("run", "-d", "--cidfile", path, "busybox", "true")
    with open(path) as f:
        assert f.read() == r.out.strip()
    d, s = docker("run", "--cidfile", path, "busybox", "true"), sampan("run", "--cidfile", path, "busybox", "true")
    _same(d, s)
    assert s.status == 125 and "container ID file found" in s.err


def test_start_attach_interactive_like_docker(engine: FakeEngine) -> None:
    for tool, name in ((docker, "d"), (sampan, "s")):
        assert sampan("create", "-i", "--name", name, "busybox", "cat").status == 0
        result = tool("start", "-ai", name, stdin="typed\n")
        if tool is docker:
            want = result
    _same(want, result)
    assert result.out == "typed\n"
