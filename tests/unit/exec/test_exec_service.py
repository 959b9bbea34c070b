"""ExecService with a fake container service and a fake shim: Docker's validation and errors,
the exec's life (create, start, exit), its events, inspect, ExecIDs, and `run` for probes."""

from __future__ import annotations

import json
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from sampan import errdefs
from sampan.daemon.containers import state as st
from sampan.daemon.containers.execs import ExecService
from sampan.daemon.events import Event, EventBus
from sampan.shim.protocol import ExitStatus
from sampan.shim.wire import frame

CID = "c" * 64


class FakeShim:
    """Runs nothing: an exec's output is whatever the test scripted, its exit when released."""

    def __init__(self) -> None:
        self.processes: dict[str, dict[str, Any]] = {}
        self.exits: dict[str, int] = {}
        self.released: dict[str, threading.Event] = {}
        self.killed: list[tuple[str, int | str]] = []
        self.resized: list[tuple[str, int, int]] = []
        self.output = b""
        self.hold_stream = False
        self.fail = ""
        self.peers: list[socket.socket] = []

    def exec(self, exec_id: str, process: dict[str, Any], *, stdin: bool = False, attach: bool = True,
             stdout: bool = True, stderr: bool = True, close_stdin: bool = True) -> tuple[int, socket.socket | None]:
        if self.fail:
            raise errdefs.System(self.fail)
        self.processes[exec_id] = process
        self.released.setdefault(exec_id, threading.Event())
        if not attach:
            return 4242, None
        ours, theirs = socket.socketpair()
        ours.sendall(self.output)
        if self.hold_stream:
            self.peers.append(ours)
        else:
            ours.close()
            self.released[exec_id].set()
        return 4242, theirs

    def wait(self, timeout: float | None = None, exec_id: str = "") -> ExitStatus:
        self.released[exec_id].wait(10)
        return ExitStatus(self.exits.get(exec_id, 0), "2024-01-01T00:00:00Z")

    def kill(self, sig: int | str, all: bool = False, exec_id: str = "") -> None:
        self.killed.append((exec_id, sig))
        self.exits[exec_id] = 137
        self.released[exec_id].set()
        for peer in self.peers:
            peer.close()

    def resize(self, height: int, width: int, exec_id: str = "") -> None:
        self.resized.append((exec_id, height, width))


@dataclass
class FakeState:
    status: str = st.RUNNING


@dataclass
class FakeRecord:
    id: str = CID
    name: str = "web"
    image_name: str = "busybox:latest"
    config: dict[str, Any] = field(default_factory=lambda: {"Labels": {"team": "a"}})
    host_config: dict[str, Any] = field(default_factory=dict)
    state: FakeState = field(default_factory=FakeState)


class FakeStore:
    def __init__(self, *recs: FakeRecord) -> None:
        self.recs = {r.id: r for r in recs}

    def get(self, ref: str) -> FakeRecord:
        for rec in self.recs.values():
            if rec.id.startswith(ref) or rec.name == ref:
                return rec
        raise errdefs.NotFound(f"No such container: {ref}")

    def all(self) -> list[FakeRecord]:
        return list(self.recs.values())


@dataclass
class FakeLive:
    shim: FakeShim | None


class FakeLifecycle:
    def __init__(self, root: Path, shim: FakeShim) -> None:
        self.root, self.shim = root, shim

    def live(self, cid: str) -> FakeLive:
        return FakeLive(self.shim)

    def bundle(self, cid: str) -> str:
        return str(self.root / cid)


class FakeContainers:
    def __init__(self, root: Path) -> None:
        self.rec = FakeRecord()
        self.store = FakeStore(self.rec)
        self.shim = FakeShim()
        self.lifecycle = FakeLifecycle(root, self.shim)
        self.events = EventBus()
        bundle = root / CID
        os.makedirs(bundle / "rootfs/etc")
        (bundle / "rootfs/etc/passwd").write_text("root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n")
        (bundle / "config.json").write_text(json.dumps({"process": {
            "user": {"uid": 0, "gid": 0}, "args": ["sleep"], "env": ["PATH=/bin"], "cwd": "/",
            "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
            "noNewPrivileges": True}}))


@pytest.fixture
def fake(tmp_path: Path) -> FakeContainers:
    return FakeContainers(tmp_path)


@pytest.fixture
def execs(fake: FakeContainers) -> ExecService:
    return ExecService(fake)  # type: ignore[arg-type,unused-ignore]


def kept(fake: FakeContainers) -> list[Event]:
    return fake.events.history()


def test_create_validation(fake: FakeContainers, execs: ExecService) -> None:
    with pytest.raises(errdefs.InvalidArgument, match=r"^No exec command specified$"):
        execs.create(CID, {"Cmd": []})
    with pytest.raises(errdefs.NotFound, match="No such container: nope"):
        execs.create("nope", {"Cmd": ["true"]})
    for status, message in ((st.CREATED, f"Container {CID} is not running"),
                            (st.EXITED, f"Container {CID} is not running"),
                            (st.PAUSED, f"Container {CID} is paused, unpause the container before exec"),
                            (st.RESTARTING, f"Container {CID} is restarting, wait until the container is running")):
        fake.rec.state.status = status
        with pytest.raises(errdefs.Conflict) as info:
            execs.create(CID, {"Cmd": ["true"]})
        assert str(info.value) == message
    assert kept(fake) == []


def test_unknown_exec(execs: ExecService) -> None:
    for call in (lambda: execs.inspect("x"), lambda: execs.start("x"), lambda: execs.resize("x", 1, 1)):
        with pytest.raises(errdefs.NotFound, match=r"^No such exec instance: x$"):
            call()


def test_attached_life_events_and_inspect(fake: FakeContainers, execs: ExecService) -> None:
    fake.shim.output = frame(1, b"hello\n")
    fake.shim.exits = {}
    eid = execs.create("web", {"Cmd": ["echo", "hello"], "AttachStdout": True, "User": "app", "Env": ["A=1"]})
    assert len(eid) == 64 and int(eid, 16) >= 0
    assert execs.ids_for(CID) == [eid]
    info = execs.inspect(eid)
    assert info["Running"] is False and info["ExitCode"] is None and info["Pid"] == 0
    assert info["ProcessConfig"] == {"tty": False, "entrypoint": "echo", "arguments": ["hello"],
                                     "privileged": False, "user": "app"}
    fake.shim.exits[eid] = 3
    sock = execs.start(eid)
    assert sock is not None
    with sock:
        assert sock.recv(100) == frame(1, b"hello\n")
    assert execs.wait(eid, 10) == 3
    info = execs.inspect(eid)
    assert info["Running"] is False and info["ExitCode"] == 3 and info["Pid"] == 4242
    assert execs.ids_for(CID) == []
    process = fake.shim.processes[eid]
    assert process["args"] == ["echo", "hello"] and process["user"]["uid"] == 1000
    assert process["env"] == ["PATH=/bin", "A=1"] and process["noNewPrivileges"] is True
    assert process["capabilities"] == {"bounding": ["CAP_KILL"]}
    events = kept(fake)
    assert [e.action for e in events] == ["exec_create: echo hello", "exec_start: echo hello", "exec_die"]
    for e in events:
        assert e.type == "container" and e.actor_id == CID
        assert {k: e.attributes[k] for k in ("execID", "image", "name", "team")} == {
            "execID": eid, "image": "busybox:latest", "name": "web", "team": "a"}
    assert events[2].attributes["exitCode"] == "3"
    with pytest.raises(errdefs.Conflict, match=f"^Error: Exec command {eid} has already run$"):
        execs.start(eid)


def test_command_without_arguments_keeps_docker_trailing_space(fake: FakeContainers, execs: ExecService) -> None:
    execs.create(CID, {"Cmd": ["ls"]})
    assert kept(fake)[-1].action == "exec_create: ls "


def test_detached_second_start_resize(fake: FakeContainers, execs: ExecService) -> None:
    eid = execs.create(CID, {"Cmd": ["sleep", "9"], "Tty": True})
    assert execs.start(eid, detach=True, console_size=(30, 100)) is None
    assert fake.shim.processes[eid]["consoleSize"] == {"height": 30, "width": 100}
    assert execs.inspect(eid)["Running"] is True
    with pytest.raises(errdefs.Conflict, match=f"^Error: Exec command {eid} is already running$"):
        execs.start(eid)
    execs.resize(eid, 40, 120)
    assert fake.shim.resized == [(eid, 40, 120)]
    fake.shim.released[eid].set()
    assert execs.wait(eid, 10) == 0


def test_failed_start_records_docker_codes(fake: FakeContainers, execs: ExecService) -> None:
    for message, code in (('exec: "x": executable file not found in $PATH', 127),
                          ('exec: "/etc": permission denied', 126), ("something else", 126)):
        fake.shim.fail = message
        eid = execs.create(CID, {"Cmd": ["x"]})
        with pytest.raises(errdefs.System):
            execs.start(eid)
        assert execs.inspect(eid)["ExitCode"] == code and execs.inspect(eid)["Running"] is False
    assert "exec_die" not in [e.action for e in kept(fake)]  # nothing ran


def test_execs_go_with_their_container(fake: FakeContainers, execs: ExecService) -> None:
    eid = execs.create(CID, {"Cmd": ["true"]})
    assert execs.ids_for(CID) == [eid]
    fake.rec.state.status = st.EXITED
    assert execs.ids_for(CID) == []
    fake.store.recs.clear()
    with pytest.raises(errdefs.NotFound):
        execs.inspect(eid)


def test_run_collects_bounded_output(fake: FakeContainers, execs: ExecService) -> None:
    fake.shim.output = frame(1, b"a" * 3000) + frame(2, b"b" * 3000)
    result = execs.run(CID, ["sh", "-c", "probe"], timeout=5)
    assert result.exit_code == 0 and not result.timed_out
    assert result.output == b"a" * 3000 + b"b" * 1096
    assert [e.action for e in kept(fake)] == ["exec_create: sh -c probe", "exec_start: sh -c probe", "exec_die"]
    assert execs._execs == {}  # probes leave no records behind


def test_run_kills_on_timeout(fake: FakeContainers, execs: ExecService) -> None:
    fake.shim.output = frame(1, b"partial")
    fake.shim.hold_stream = True
    result = execs.run(CID, ["sleep", "100"], timeout=0.2)
    assert result.timed_out and result.exit_code == 137 and result.output == b"partial"
    assert fake.shim.killed and fake.shim.killed[0][1] == 9


def test_fields_match_case_insensitively_as_in_go(execs: ExecService) -> None:
    eid = execs.create(CID, {"cmd": ["ls"], "detachKeys": "ctrl-x", "attachstdout": True})
    ex = execs.get(eid)
    assert ex.entrypoint == "ls" and ex.detach_sequence == b"\x18" and ex.open_stdout
    assert execs.get(execs.create(CID, {"Cmd": ["ls"]})).detach_sequence == b"\x10\x11"
    with pytest.raises(errdefs.InvalidArgument, match="Invalid detach keys"):
        execs.create(CID, {"Cmd": ["ls"], "DetachKeys": "ctrl-"})
