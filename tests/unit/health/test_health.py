"""Health checks without containers: config defaults, dockerd's state machine, the scheduler
with a fake prober (real threads, short intervals)."""

from __future__ import annotations

import threading
import time

import pytest

from sampan.daemon.containers import state as st
from sampan.daemon.containers.health import (
    HEALTHY,
    STARTING,
    UNHEALTHY,
    HealthConfig,
    HealthMonitor,
    ProbeResult,
    ProbeTimeout,
    apply_result,
    bounded_output,
    health_filter_value,
    new_health,
    run_probe,
    timeout_text,
    validate,
)
from sampan.daemon.containers.record import ContainerRecord, State
from sampan.daemon.containers.views import status_text
from sampan.errdefs import InvalidArgument
from sampan.shim.wire import rfc3339nano

MS = 1_000_000


def record(healthcheck: dict[str, object] | None, status: str = st.RUNNING) -> ContainerRecord:
    config: dict[str, object] = {"Labels": {"a": "b"}}
    if healthcheck is not None:
        config["Healthcheck"] = healthcheck
    rec = ContainerRecord(id="c" * 64, name="hc", created="", created_ns=0, image_id="", image_name="img",
                          path="sh", args=[], config=config, host_config={}, image_config={}, driver="overlay2")
    rec.state = State(status=status, pid=1, started_at=rfc3339nano(time.time_ns()))
    return rec


def test_config_defaults_and_kinds() -> None:
    assert HealthConfig.of({}) is None
    assert HealthConfig.of({"Healthcheck": {"Test": ["NONE"]}}) is None
    assert HealthConfig.of({"Healthcheck": {"Test": ["BOGUS", "x"]}}) is None
    cfg = HealthConfig.of({"Healthcheck": {"Test": ["CMD", "true", "x"]}})
    assert cfg == HealthConfig(["true", "x"], 30.0, 30.0, 0.0, 5.0, 3)
    cfg = HealthConfig.of({"Healthcheck": {"Test": ["CMD-SHELL", "exit 1"], "Interval": 200 * MS, "Retries": 2}})
    assert cfg is not None and cfg.command == ["/bin/sh", "-c", "exit 1"] and cfg.interval == 0.2
    assert cfg.retries == 2
    cfg = HealthConfig.of({"Shell": ["/bin/ash", "-e", "-c"], "Healthcheck": {"Test": ["CMD-SHELL", "true"]}})
    assert cfg is not None and cfg.command == ["/bin/ash", "-e", "-c", "true"]


def test_next_delay_follows_the_start_period() -> None:
    cfg = HealthConfig(["true"], interval=10, start_period=30, start_interval=2)
    assert cfg.next_delay(0, STARTING) == 2
    assert cfg.next_delay(0, HEALTHY) == 10
    assert cfg.next_delay(25, STARTING) == 5  # right when the start period ends
    assert cfg.next_delay(31, STARTING) == 10


def result(code: int, start: float = 100.0) -> ProbeResult:
    return ProbeResult(start, start + 0.01, code, "out")


def test_state_machine() -> None:
    cfg = HealthConfig(["x"], retries=2, start_period=5)
    h = new_health()
    assert apply_result(h, result(1, start=102), cfg, started_at=100) == STARTING  # inside the start period
    assert h["FailingStreak"] == 0
    assert apply_result(h, result(1, start=106), cfg, started_at=100) == STARTING
    assert apply_result(h, result(1, start=107), cfg, started_at=100) == UNHEALTHY
    assert h["FailingStreak"] == 2
    assert apply_result(h, result(0, start=108), cfg, started_at=100) == HEALTHY
    assert h["FailingStreak"] == 0
    for i in range(6):
        apply_result(h, result(0, start=110 + i), cfg, started_at=100)
    assert len(h["Log"]) == 5 and h["Log"][-1]["ExitCode"] == 0
    assert set(h["Log"][0]) == {"Start", "End", "ExitCode", "Output"}


def test_output_bounds_and_timeouts() -> None:
    assert bounded_output(b"x" * 5000) == "x" * 4096 + "..."
    assert bounded_output(b"ok\n") == "ok\n"
    assert [timeout_text(t) for t in (30, 0.2, 1.5, 90, 3600, 0.0015)] == \
        ["30s", "200ms", "1.5s", "1m30s", "1h0m0s", "1.5ms"]
    rec = record({"Test": ["CMD", "x"], "Timeout": 200 * MS})
    cfg = HealthConfig.of(rec.config)
    assert cfg is not None

    def slow(_rec: ContainerRecord, argv: list[str], timeout: float) -> tuple[int, bytes]:
        raise ProbeTimeout(b"partial")

    r = run_probe(slow, rec, cfg, time.time)
    assert (r.exit_code, r.output) == (-1, "Health check exceeded timeout (200ms): partial")

    def broken(_rec: ContainerRecord, argv: list[str], timeout: float) -> tuple[int, bytes]:
        raise RuntimeError("container is not running")

    r = run_probe(broken, rec, cfg, time.time)
    assert (r.exit_code, r.output) == (-1, "container is not running")


def test_status_text_and_filter_value() -> None:
    rec = record({"Test": ["CMD", "true"]})
    assert health_filter_value(rec) == "none"  # never watched
    rec.state.health = new_health()
    assert status_text(rec).endswith(" (health: starting)") and status_text(rec).startswith("Up ")
    rec.state.health["Status"] = UNHEALTHY
    assert status_text(rec).endswith(" (unhealthy)")
    assert health_filter_value(rec) == UNHEALTHY
    assert health_filter_value(record(None)) == "none"
    assert rec.state.to_wire()["Health"]["Status"] == UNHEALTHY
    assert "Health" not in record(None).state.to_wire()


class FakeProber:
    def __init__(self, codes: list[int]) -> None:
        self.codes = codes
        self.calls: list[list[str]] = []
        self.lock = threading.Lock()

    def __call__(self, rec: ContainerRecord, argv: list[str], timeout: float) -> tuple[int, bytes]:
        with self.lock:
            self.calls.append(argv)
            code = self.codes.pop(0) if self.codes else 0
        return code, b"probe output\n"


def wait_for(cond: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.01)
    raise AssertionError("condition not met")


def test_monitor_goes_unhealthy_then_healthy_and_publishes_changes() -> None:
    events: list[str] = []
    prober = FakeProber([1, 1, 0])
    mon = HealthMonitor(prober, lambda rec, status: events.append(status))
    rec = record({"Test": ["CMD-SHELL", "check"], "Interval": 20 * MS, "Retries": 2})
    try:
        mon.watch(rec)
        assert rec.state.health is not None and rec.state.health["Status"] == STARTING
        wait_for(lambda: events == [UNHEALTHY, HEALTHY])
        assert prober.calls[0] == ["/bin/sh", "-c", "check"]
        assert rec.state.health["FailingStreak"] == 0
        rec.state.status = st.EXITED  # the monitor drops a container that stopped
        wait_for(lambda: not mon.watching(rec.id))
        calls = len(prober.calls)
        time.sleep(0.1)
        assert len(prober.calls) == calls
    finally:
        mon.close()


def test_unwatch_and_restart_start_over() -> None:
    events: list[str] = []
    prober = FakeProber([0] * 1000)
    mon = HealthMonitor(prober, lambda rec, status: events.append(status))
    rec = record({"Test": ["CMD", "true"], "Interval": 20 * MS})
    try:
        mon.watch(rec)
        wait_for(lambda: events == [HEALTHY])
        mon.unwatch(rec.id)
        time.sleep(0.06)
        calls = len(prober.calls)
        time.sleep(0.1)
        assert len(prober.calls) == calls
        mon.watch(rec)  # a start again: starting, then healthy again (a new event)
        wait_for(lambda: events == [HEALTHY, HEALTHY])
        none = record({"Test": ["NONE"]})
        mon.watch(none)
        assert none.state.health is None and not mon.watching(none.id)
    finally:
        mon.close()


def test_validate_like_dockerd() -> None:
    validate({})
    validate({"Healthcheck": {"Test": ["CMD", "true"], "Interval": 0, "Timeout": MS}})
    with pytest.raises(InvalidArgument, match=r"^Interval in Healthcheck cannot be less than 1ms$"):
        validate({"Healthcheck": {"Interval": 999_999}})
    with pytest.raises(InvalidArgument, match=r"^StartInterval in Healthcheck cannot be less than 1ms$"):
        validate({"Healthcheck": {"StartInterval": 5}})
    with pytest.raises(InvalidArgument, match=r"^Retries in Healthcheck cannot be negative$"):
        validate({"Healthcheck": {"Retries": -1}})
