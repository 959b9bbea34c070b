"""Restart policy decisions and dockerd's back-off, without containers."""

from __future__ import annotations

import tempfile
import threading
import time

from sampan.daemon.containers import state as st
from sampan.daemon.containers.live import Live
from sampan.daemon.containers.record import ContainerRecord, State
from sampan.daemon.containers.restart import RestartScheduler, next_delay, restart_at_boot, should_restart


def hc(name: str, retries: int = 0) -> dict[str, object]:
    return {"RestartPolicy": {"Name": name, "MaximumRetryCount": retries}}


def test_should_restart_after_an_exit() -> None:
    assert not should_restart(hc("no"), 1, 0, False)
    assert not should_restart({}, 1, 0, False)
    assert should_restart(hc("always"), 0, 50, False)
    assert not should_restart(hc("always"), 0, 0, True)  # stopped by the user
    assert should_restart(hc("unless-stopped"), 0, 0, False)
    assert not should_restart(hc("unless-stopped"), 1, 0, True)
    assert not should_restart(hc("on-failure"), 0, 0, False)
    assert should_restart(hc("on-failure"), 1, 99, False)  # no maximum
    assert [should_restart(hc("on-failure", 2), 137, n, False) for n in range(3)] == [True, True, False]


def test_back_off_doubles_and_resets() -> None:
    delays = []
    delay = 0.0
    for _ in range(12):
        delay = next_delay(delay, ran_for=0.5)
        delays.append(delay)
    assert delays[:4] == [0.1, 0.2, 0.4, 0.8] and delays[-1] == 60.0
    assert next_delay(6.4, ran_for=10.0) == 0.1


def test_restart_at_boot() -> None:
    assert restart_at_boot(hc("always"), 137, 0, True, True)  # even after a manual stop
    assert not restart_at_boot(hc("always"), 0, 0, False, False)  # never started
    assert restart_at_boot(hc("unless-stopped"), 0, 0, False, True)
    assert not restart_at_boot(hc("unless-stopped"), 0, 0, True, True)
    assert restart_at_boot(hc("on-failure", 3), 1, 2, False, True)
    assert not restart_at_boot(hc("on-failure", 3), 1, 3, False, True)
    assert not restart_at_boot(hc("on-failure"), 0, 0, False, True)
    assert not restart_at_boot(hc("no"), 1, 0, False, True)


class FakeLifecycle:
    def __init__(self) -> None:
        self.lives: dict[str, Live] = {}
        self.started = threading.Event()

    def live(self, cid: str) -> Live:
        return self.lives.setdefault(cid, Live())

    def start(self, rec: ContainerRecord) -> None:
        rec.state.status = st.RUNNING
        self.started.set()


def exited_record(directory: str, policy: str, *, manually_stopped: bool = False) -> ContainerRecord:
    rec = ContainerRecord(id="a" * 64, name="r", created="", created_ns=0, image_id="", image_name="img", path="sh",
                          args=[], config={}, host_config=hc(policy), image_config={}, driver="overlay2",
                          dir=directory, manually_stopped=manually_stopped)
    rec.state = State(status=st.EXITED, exit_code=1, started_at="2026-01-01T00:00:00Z",
                      finished_at="2026-01-01T00:00:01Z")
    return rec


def test_scheduler_restarts_after_the_back_off() -> None:
    lifecycle = FakeLifecycle()
    with tempfile.TemporaryDirectory() as d:
        rec = exited_record(d, "always")
        sched = RestartScheduler(lifecycle, lambda ref: rec)
        assert sched.after_exit(rec, lifecycle.live(rec.id))
        assert (rec.state.status, rec.restart_count, lifecycle.live(rec.id).restart_delay) == \
            (st.RESTARTING, 1, 0.1)
        assert lifecycle.started.wait(5)
        assert rec.state.status == st.RUNNING
        rec.state.status = st.EXITED
        sched.reset(rec)
        assert (rec.restart_count, lifecycle.live(rec.id).restart_delay) == (0, 0.0)
        stopped = exited_record(d, "always", manually_stopped=True)
        assert not sched.after_exit(stopped, lifecycle.live(stopped.id))
        assert stopped.state.status == st.EXITED


def test_scheduler_leaves_a_cancelled_restart_alone() -> None:
    lifecycle = FakeLifecycle()
    with tempfile.TemporaryDirectory() as d:
        rec = exited_record(d, "on-failure")
        sched = RestartScheduler(lifecycle, lambda ref: rec)
        assert sched.after_exit(rec, lifecycle.live(rec.id))
        rec.state.status = st.EXITED  # a stop during the back-off
        time.sleep(0.3)
        assert not lifecycle.started.is_set()
