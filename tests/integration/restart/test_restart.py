"""Restart policies of real containers: inits killed from the host, dockerd's back-off and counts,
manual stops, `--rm` with `--restart`, and what a daemon killed and started again does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

from sampan.daemon.containers.views import parse_time
from tests.integration.containers.conftest import cleanup_daemon, start_daemon
from tests.support.daemon import DaemonProcess

pytestmark = pytest.mark.root


def run(daemon: DaemonProcess, image: str, policy: str, retries: int = 0, cmd: list[str] | None = None,
        name: str = "") -> str:
    body = {"Image": image, "Cmd": cmd or ["sleep", "600"],
            "HostConfig": {"RestartPolicy": {"Name": policy, "MaximumRetryCount": retries}}}
    status, created = daemon.json("POST", "/containers/create" + (f"?name={name}" if name else ""), body)
    assert status == 201, created
    status, _, raw = daemon.request("POST", f"/containers/{created['Id']}/start")
    assert status == 204, raw
    return str(created["Id"])


def inspect(daemon: DaemonProcess, cid: str) -> dict[str, Any]:
    status, info = daemon.json("GET", f"/containers/{cid}/json")
    assert status == 200, info
    return dict(info)


def wait_for(what: Callable[[], bool], timeout: float = 10.0, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if what():
            return
        time.sleep(0.02)
    raise AssertionError(message or "condition not met in time")


def running_with_new_pid(daemon: DaemonProcess, cid: str, old_pid: int) -> bool:
    state = inspect(daemon, cid)["State"]
    return state["Status"] == "running" and state["Pid"] not in (0, old_pid)


def kill_init(daemon: DaemonProcess, cid: str) -> int:
    pid = int(inspect(daemon, cid)["State"]["Pid"])
    assert pid > 0
    os.kill(pid, signal.SIGKILL)
    return pid


def test_on_failure_stops_after_its_retries(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = run(daemon, busybox_ref, "on-failure", 2)
    try:
        for count in (1, 2):
            pid = kill_init(daemon, cid)
            wait_for(lambda: running_with_new_pid(daemon, cid, pid), message=f"no restart {count}")  # noqa: B023
            assert inspect(daemon, cid)["RestartCount"] == count
        kill_init(daemon, cid)
        wait_for(lambda: inspect(daemon, cid)["State"]["Status"] == "exited")
        time.sleep(0.5)
        info = inspect(daemon, cid)
        assert (info["State"]["Status"], info["State"]["ExitCode"], info["RestartCount"]) == ("exited", 137, 2)
        # a manual start resets the count, as dockerd's does
        assert daemon.request("POST", f"/containers/{cid}/start")[0] == 204
        assert inspect(daemon, cid)["RestartCount"] == 0
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1")


def test_on_failure_leaves_a_clean_exit(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = run(daemon, busybox_ref, "on-failure", cmd=["true"])
    try:
        wait_for(lambda: inspect(daemon, cid)["State"]["Status"] == "exited")
        time.sleep(0.3)
        info = inspect(daemon, cid)
        assert (info["State"]["Status"], info["RestartCount"]) == ("exited", 0)
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1")


def test_always_backs_off_and_a_stop_ends_it(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = run(daemon, busybox_ref, "always", cmd=["sh", "-c", "exit 3"], name="rs-loop")
    try:
        seen: list[str] = []

        def restarting_in_ps() -> bool:
            r = daemon.docker("ps", "--filter", "name=rs-loop", "--format", "{{.Status}}")
            seen.append(r.stdout.strip())
            return r.stdout.startswith("Restarting (3) ")
        wait_for(restarting_in_ps, timeout=15, message=f"never seen restarting: {seen[-5:]}")
        assert inspect(daemon, cid)["State"]["Restarting"] is True
        begun = time.monotonic()
        wait_for(lambda: inspect(daemon, cid)["RestartCount"] >= 4)
        assert time.monotonic() - begun >= 0.6  # the back-off doubles: 0.1, 0.2, 0.4, 0.8 s
        assert daemon.request("POST", f"/containers/{cid}/stop")[0] in (204, 304)
        info = inspect(daemon, cid)
        assert info["State"]["Status"] == "exited"
        count = info["RestartCount"]
        time.sleep(1.0)
        info = inspect(daemon, cid)
        assert (info["State"]["Status"], info["RestartCount"]) == ("exited", count)
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1")


def test_always_restarts_a_killed_init_but_not_a_stopped_container(daemon: DaemonProcess, busybox_ref: str) -> None:
    cid = run(daemon, busybox_ref, "always")
    try:
        pid = kill_init(daemon, cid)
        wait_for(lambda: running_with_new_pid(daemon, cid, pid))
        assert inspect(daemon, cid)["RestartCount"] == 1
        assert daemon.request("POST", f"/containers/{cid}/stop?t=0")[0] == 204
        time.sleep(0.5)
        assert inspect(daemon, cid)["State"]["Status"] == "exited"
        assert daemon.request("POST", f"/containers/{cid}/start")[0] == 204
        pid = kill_init(daemon, cid)  # the start enabled the policy again
        wait_for(lambda: running_with_new_pid(daemon, cid, pid))
    finally:
        daemon.request("DELETE", f"/containers/{cid}?force=1")


def test_rm_with_restart_is_refused(daemon: DaemonProcess, busybox_ref: str) -> None:
    import docker

    status, answer = daemon.json("POST", "/containers/create", {
        "Image": busybox_ref, "HostConfig": {"AutoRemove": True, "RestartPolicy": {"Name": "always"}}})
    assert (status, answer["message"]) == (400, "can't create 'AutoRemove' container with restart policy")
    client = docker.DockerClient(base_url=daemon.docker_host)
    try:
        with pytest.raises(docker.errors.APIError) as info:
            client.containers.run(busybox_ref, "true", auto_remove=True, restart_policy={"Name": "always"},
                                  detach=True)
        assert info.value.status_code == 400
        assert "can't create 'AutoRemove' container with restart policy" in str(info.value)
    finally:
        client.close()
    r = daemon.docker("run", "--rm", "--restart", "always", busybox_ref, "true")
    assert r.returncode == 125 and "--restart and --rm" in r.stderr, r
    env = dict(daemon.docker_env(), SAMPAN_NO_AUTOSTART="1")
    r = subprocess.run([sys.executable, "-m", "sampan.cli.main", "run", "--rm", "--restart", "always", busybox_ref,
                        "true"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 125 and "--restart and --rm" in r.stderr, r
    status, answer = daemon.json("POST", "/containers/create", {
        "Image": busybox_ref, "HostConfig": {"RestartPolicy": {"Name": "sometimes"}}})
    assert (status, answer["message"]) == (400, "invalid restart policy: unknown policy 'sometimes'; use one of "
                                                "'no', 'always', 'on-failure', or 'unless-stopped'")


def test_daemon_killed_and_started_again(busybox_ref: str) -> None:
    proc = start_daemon("rst")
    try:
        status, _, body = proc.request("POST", f"/images/create?fromImage={busybox_ref}", timeout=120)
        assert status == 200, body
        running = run(proc, busybox_ref, "always")
        killed_by_user = run(proc, busybox_ref, "always")
        unless = run(proc, busybox_ref, "unless-stopped")
        plain = run(proc, busybox_ref, "no")
        died_meanwhile = run(proc, busybox_ref, "unless-stopped")
        status, made = proc.json("POST", "/containers/create", {
            "Image": busybox_ref, "Cmd": ["sleep", "600"],
            "Healthcheck": {"Test": ["CMD", "true"], "Interval": 200_000_000}})
        checked = made["Id"]
        assert proc.request("POST", f"/containers/{checked}/start")[0] == 204
        wait_for(lambda: (inspect(proc, checked)["State"].get("Health") or {}).get("Status") == "healthy")
        for cid in (killed_by_user, unless):
            assert proc.request("POST", f"/containers/{cid}/kill")[0] == 204
            wait_for(lambda: inspect(proc, cid)["State"]["Status"] == "exited")  # noqa: B023
        pids = {cid: inspect(proc, cid)["State"]["Pid"] for cid in (running, plain, died_meanwhile)}
        proc.kill()  # SIGKILL: the shims and containers stay
        os.kill(pids[died_meanwhile], signal.SIGKILL)
        proc.start()
        restarted_at = time.time()
        for cid in (running, plain):  # left as they were (live restore)
            state = inspect(proc, cid)["State"]
            assert (state["Status"], state["Pid"]) == ("running", pids[cid])
        wait_for(lambda: inspect(proc, killed_by_user)["State"]["Status"] == "running",
                 message="`always` is started again by the daemon, even after a kill by the user")
        wait_for(lambda: running_with_new_pid(proc, died_meanwhile, pids[died_meanwhile]),
                 message="an init that died while the daemon was away is restarted")
        time.sleep(0.3)
        assert inspect(proc, unless)["State"]["Status"] == "exited"

        def probed_again() -> bool:  # the health monitor runs again for a container still running
            health = inspect(proc, checked)["State"]["Health"]
            return health["Status"] == "healthy" and parse_time(health["Log"][-1]["Start"]) > restarted_at
        wait_for(probed_again, message="no health check after the daemon restart")
    finally:
        cleanup_daemon(proc)
