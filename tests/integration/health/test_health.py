"""Health checks of real containers: probes run in the container through its shim, State.Health in
inspect, the status in ps, the `health` filter and the health_status events."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

import pytest

from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.root
MS = 1_000_000


def run(daemon: DaemonProcess, image: str, healthcheck: dict[str, Any] | None, name: str = "",
        cmd: list[str] | None = None) -> str:
    body: dict[str, Any] = {"Image": image, "Cmd": cmd or ["sleep", "600"]}
    if healthcheck is not None:
        body["Healthcheck"] = healthcheck
    status, created = daemon.json("POST", "/containers/create" + (f"?name={name}" if name else ""), body)
    assert status == 201, created
    status, _, raw = daemon.request("POST", f"/containers/{created['Id']}/start")
    assert status == 204, raw
    return str(created["Id"])


def health(daemon: DaemonProcess, cid: str) -> dict[str, Any]:
    _, info = daemon.json("GET", f"/containers/{cid}/json")
    return dict(info["State"].get("Health") or {})


def wait_status(daemon: DaemonProcess, cid: str, want: str, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        h = health(daemon, cid)
        if h.get("Status") == want:
            return h
        time.sleep(0.05)
    raise AssertionError(f"{cid[:12]} never became {want}: {health(daemon, cid)}")


def ps_ids(daemon: DaemonProcess, value: str) -> list[str]:
    status, items = daemon.json("GET", "/containers/json?filters=" + quote(json.dumps({"health": [value]})))
    assert status == 200, items
    return [i["Id"] for i in items]


def test_healthy_unhealthy_and_none(daemon: DaemonProcess, busybox_ref: str) -> None:
    good = run(daemon, busybox_ref, {"Test": ["CMD", "true"], "Interval": 200 * MS}, name="hc-good")
    bad = run(daemon, busybox_ref, {"Test": ["CMD-SHELL", "echo failing; exit 3"], "Interval": 200 * MS,
                                    "Retries": 2}, name="hc-bad")
    plain = run(daemon, busybox_ref, None, name="hc-none")
    off = run(daemon, busybox_ref, {"Test": ["NONE"]}, name="hc-off")
    try:
        assert health(daemon, good)["Status"] in ("starting", "healthy")
        h = wait_status(daemon, good, "healthy")
        assert h["FailingStreak"] == 0 and h["Log"][-1]["ExitCode"] == 0
        h = wait_status(daemon, bad, "unhealthy")
        assert h["FailingStreak"] >= 2
        assert h["Log"][-1]["ExitCode"] == 3 and h["Log"][-1]["Output"] == "failing\n"
        assert health(daemon, plain) == {} and health(daemon, off) == {}
        assert good in ps_ids(daemon, "healthy") and bad not in ps_ids(daemon, "healthy")
        assert bad in ps_ids(daemon, "unhealthy")
        assert {plain, off} <= set(ps_ids(daemon, "none")) and good not in ps_ids(daemon, "none")
        status, answer = daemon.json("GET", "/containers/json?filters=" + quote(json.dumps({"health": ["sick"]})))
        assert status == 400 and answer["message"] == "Unrecognised filter value for health: sick"
        r = daemon.docker("ps", "--format", "{{.Names}} {{.Status}}")
        lines = dict(line.split(" ", 1) for line in r.stdout.splitlines())
        assert lines["hc-good"].startswith("Up ") and lines["hc-good"].endswith(" (healthy)"), lines
        assert lines["hc-bad"].endswith(" (unhealthy)") and "(" not in lines["hc-none"], lines
        r = daemon.docker("ps", "--filter", "health=unhealthy", "--format", "{{.Names}}")
        assert r.stdout.split() == ["hc-bad"], r
    finally:
        for cid in (good, bad, plain, off):
            daemon.request("DELETE", f"/containers/{cid}?force=1")


def test_timeout_start_period_and_stop(daemon: DaemonProcess, busybox_ref: str) -> None:
    slow = run(daemon, busybox_ref, {"Test": ["CMD", "sleep", "5"], "Interval": 100 * MS, "Timeout": 300 * MS,
                                     "Retries": 1})
    patient = run(daemon, busybox_ref, {"Test": ["CMD", "false"], "Interval": 100 * MS, "Retries": 1,
                                        "StartPeriod": 60_000 * MS, "StartInterval": 100 * MS})
    try:
        h = wait_status(daemon, slow, "unhealthy")
        assert h["Log"][-1]["ExitCode"] == -1
        assert h["Log"][-1]["Output"] == "Health check exceeded timeout (300ms)"
        time.sleep(0.5)
        h = health(daemon, patient)
        assert h["Status"] == "starting" and h["FailingStreak"] == 0 and h["Log"], h  # failures do not count yet
        daemon.request("POST", f"/containers/{patient}/stop?t=1")
        before = health(daemon, patient)
        time.sleep(0.4)
        assert health(daemon, patient)["Log"] == before["Log"]  # the monitor stopped with the container
    finally:
        for cid in (slow, patient):
            daemon.request("DELETE", f"/containers/{cid}?force=1")


def test_health_status_events(daemon: DaemonProcess, busybox_ref: str) -> None:
    since = int(time.time()) - 1
    cid = run(daemon, busybox_ref, {"Test": ["CMD-SHELL", "test -e /tmp/ok"], "Interval": 150 * MS, "Retries": 1})
    try:
        wait_status(daemon, cid, "unhealthy")
        status, made = daemon.json("POST", f"/containers/{cid}/exec", {"Cmd": ["sh", "-c", ": > /tmp/ok"]})
        assert status == 201, made
        daemon.json("POST", f"/exec/{made['Id']}/start", {"Detach": True})
        wait_status(daemon, cid, "healthy")
        query = f"since={since}&until={int(time.time()) + 1}&filters=" + quote(json.dumps({"container": [cid]}))
        try:
            status, _, raw = daemon.request("GET", "/events?" + query, timeout=10)
        except TimeoutError:
            pytest.skip("/events does not answer a bounded query")
        actions = [json.loads(ln)["Action"] for ln in raw.splitlines() if ln.strip()]
        health_actions = [a for a in actions if a.startswith("health_status")]
        assert health_actions == ["health_status: unhealthy", "health_status: healthy"], actions
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1")


def test_cli_health_flags_and_ps(daemon: DaemonProcess, busybox_ref: str) -> None:
    r = daemon.docker("run", "-d", "--name", "hc-cli", "--health-cmd", "true", "--health-interval", "200ms",
                      busybox_ref, "sleep", "600")
    assert r.returncode == 0, r
    cid = r.stdout.strip()
    try:
        wait_status(daemon, cid, "healthy")
        r = daemon.docker("inspect", "--format", "{{.State.Health.Status}}", "hc-cli")
        assert r.stdout.strip() == "healthy", r
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1")


def test_create_refuses_bad_durations(daemon: DaemonProcess, busybox_ref: str) -> None:
    status, answer = daemon.json("POST", "/containers/create", {
        "Image": busybox_ref, "Healthcheck": {"Test": ["CMD", "true"], "Interval": 500_000}})
    assert (status, answer["message"]) == (400, "Interval in Healthcheck cannot be less than 1ms")


@pytest.fixture(scope="module")
def healthy_image(daemon: DaemonProcess, registry: Any) -> str:
    """An image whose config carries a HEALTHCHECK (as `docker build` writes it), pulled."""
    from tests.integration.containers.conftest import BUSYBOX_APPLETS
    from tests.support.images import Pusher, build_image, busybox_entries, make_layer

    conf = {"Env": ["PATH=/bin"], "Cmd": ["sleep", "600"],
            "Healthcheck": {"Test": ["CMD-SHELL", "test -e /bin/sh"], "Interval": 200 * MS, "Retries": 2}}
    image = build_image([make_layer(busybox_entries(BUSYBOX_APPLETS))], extra_config={"config": conf})
    Pusher(registry.url).push_image("health/image-check", "v1", image)
    ref = f"{registry.host}/health/image-check:v1"
    status, _, body = daemon.request("POST", f"/images/create?fromImage={ref}", timeout=120)
    assert status == 200 and b"error" not in body, body
    return ref


def test_image_healthcheck_is_used_overridden_and_disabled(daemon: DaemonProcess, healthy_image: str) -> None:
    from_image = run(daemon, healthy_image, None)
    assert wait_status(daemon, from_image, "healthy")["Log"][-1]["ExitCode"] == 0
    overridden = run(daemon, healthy_image, {"Test": ["CMD", "false"], "Interval": 200 * MS, "Retries": 1})
    wait_status(daemon, overridden, "unhealthy")
    disabled = run(daemon, healthy_image, {"Test": ["NONE"]})  # what `--no-healthcheck` sends
    time.sleep(0.5)
    assert health(daemon, disabled) == {}
    assert disabled in ps_ids(daemon, "none") and from_image in ps_ids(daemon, "healthy")
    for cid in (from_image, overridden, disabled):
        daemon.request("DELETE", f"/containers/{cid}?force=1")
