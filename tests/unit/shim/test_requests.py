"""Control operations against a fake shim: validation, state rules, what reaches the runtime."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sampan.shim.requests import RequestHandler
from sampan.shim.runtime import RuntimeCommandError


class FakeRuntime:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.fail: str | None = None

    def _do(self, *call: Any) -> None:
        self.calls.append(call)
        if self.fail:
            raise RuntimeCommandError(["runc"], 1, self.fail)

    def start(self, cid: str) -> None:
        self._do("start", cid)

    def kill(self, cid: str, sig: int | str, all_processes: bool = False) -> None:
        self._do("kill", cid, sig, all_processes)

    def delete(self, cid: str, force: bool = False) -> None:
        self._do("delete", cid, force)

    def pause(self, cid: str) -> None:
        self._do("pause", cid)

    def resume(self, cid: str) -> None:
        self._do("resume", cid)


class FakeConn:
    def __init__(self) -> None:
        self.replies: list[dict[str, object]] = []

    def reply(self, message: dict[str, object]) -> None:
        self.replies.append(message)


class FakeOpts:
    id = "c1"
    tty = False


class FakeStdio:
    tty = False


class FakeLoop:
    def call_later(self, delay: float, callback: Callable[[], None]) -> int:
        return 1

    def cancel(self, handle: int) -> None:
        pass


class FakeShim:
    def __init__(self, status: str = "created") -> None:
        self.opts = FakeOpts()
        self.status = status
        self.pid = 42
        self.exit: dict[str, object] | None = None
        self.done = False
        self.runtime = FakeRuntime()
        self.stdio = FakeStdio()
        self.hub: list[object] = []
        self.loop = FakeLoop()
        self.execs: dict[str, object] = {}
        self.pending: list[Callable[[], None]] = []
        self.finished: list[tuple[Any, ...]] = []

    def when_done(self, callback: Callable[[], None]) -> None:
        if self.done:
            callback()
        else:
            self.pending.append(callback)

    def finish_now(self, conn: FakeConn, message: dict[str, object], remove_state: bool) -> None:
        conn.reply(message)
        self.finished.append((message, remove_state))

    def exited(self, code: int) -> None:
        self.status, self.done = "stopped", True
        self.exit = {"exit_code": code, "exited_at": "2024-01-01T00:00:00Z", "pid": 42, "oom_killed": False}
        for callback in self.pending:
            callback()


def call(shim: FakeShim, request: dict[str, object]) -> dict[str, object]:
    conn = FakeConn()
    RequestHandler(shim).handle(conn, request)  # type: ignore[arg-type]
    assert len(conn.replies) == 1
    return conn.replies[0]


def test_state_and_start() -> None:
    shim = FakeShim()
    assert call(shim, {"op": "state"}) == {"id": "c1", "status": "created", "pid": 42, "tty": False, "attached": 0}
    assert call(shim, {"op": "start"}) == {"pid": 42}
    assert shim.status == "running" and shim.runtime.calls == [("start", "c1")]
    assert call(shim, {"op": "start"})["kind"] == "Conflict"


@pytest.mark.parametrize("request_", [{"op": "nope"}, {"op": "kill", "signal": True}, {"op": "kill", "signal": [9]},
                                      {"op": "resize", "height": -1, "width": 3}, {"op": "resize", "height": "a"}])
def test_invalid_requests(request_: dict[str, object]) -> None:
    assert call(FakeShim("running"), request_)["kind"] == "InvalidArgument"


def test_kill_reaches_runtime_and_is_refused_when_stopped() -> None:
    shim = FakeShim("running")
    assert call(shim, {"op": "kill", "signal": "KILL", "all": True}) == {}
    assert shim.runtime.calls == [("kill", "c1", "KILL", True)]
    shim.exited(137)
    assert call(shim, {"op": "kill", "signal": 9})["kind"] == "Conflict"


def test_runtime_errors_keep_the_runtimes_words() -> None:
    shim = FakeShim("running")
    shim.runtime.fail = "container not running"
    assert call(shim, {"op": "kill", "signal": 15}) == {"error": "container not running", "kind": "Conflict"}


def test_wait_answers_after_exit() -> None:
    shim = FakeShim("running")
    conn = FakeConn()
    RequestHandler(shim).handle(conn, {"op": "wait"})  # type: ignore[arg-type]
    assert conn.replies == []
    shim.exited(3)
    assert conn.replies[0]["exit_code"] == 3


def test_resize_without_terminal_is_a_conflict() -> None:
    assert call(FakeShim("running"), {"op": "resize", "height": 24, "width": 80})["kind"] == "Conflict"


def test_delete_rules() -> None:
    shim = FakeShim("running")
    assert call(shim, {"op": "delete"})["kind"] == "Conflict"
    conn = FakeConn()
    RequestHandler(shim).handle(conn, {"op": "delete", "force": True})  # type: ignore[arg-type]
    assert shim.runtime.calls == [("delete", "c1", True)] and conn.replies == []
    shim.exited(137)
    assert conn.replies[0]["exit_code"] == 137 and shim.finished[0][1] is True


def test_shutdown_refused_while_running() -> None:
    assert call(FakeShim("running"), {"op": "shutdown"})["kind"] == "Conflict"
    shim = FakeShim("running")
    assert call(shim, {"op": "shutdown", "force": True}) == {}
    assert shim.finished == [({}, False)]


def test_pause_resume_states() -> None:
    shim = FakeShim("created")
    assert call(shim, {"op": "pause"})["kind"] == "Conflict"
    shim.status = "running"
    assert call(shim, {"op": "pause"}) == {} and shim.status == "paused"
    assert call(shim, {"op": "delete"})["kind"] == "Conflict"
    assert call(shim, {"op": "resume"}) == {} and shim.status == "running"
    assert call(shim, {"op": "resume"})["kind"] == "Conflict"
    assert shim.runtime.calls == [("pause", "c1"), ("resume", "c1")]


@pytest.mark.parametrize("request_", [
    {"op": "exec", "exec_id": "", "process": {"args": ["ls"]}},
    {"op": "exec", "exec_id": "e", "process": {"args": []}},
    {"op": "exec", "exec_id": "e", "process": "ls"},
    {"op": "wait", "exec_id": 5},
])
def test_invalid_exec_requests(request_: dict[str, object]) -> None:
    shim = FakeShim("running")
    assert call(shim, request_)["kind"] == "InvalidArgument"


def test_exec_into_a_stopped_container_and_unknown_exec() -> None:
    shim = FakeShim("stopped")
    answer = call(shim, {"op": "exec", "exec_id": "e", "process": {"args": ["ls"]}})
    assert answer == {"error": "Container c1 is not running", "kind": "Conflict"}
    assert call(shim, {"op": "kill", "exec_id": "x", "signal": 9}) == {
        "error": "No such exec instance: x", "kind": "NotFound"}
