"""The container routes' query parameters and error answers, against a real sampand: what the
audit in docs/container-routes.md records (dockerd's statuses and wording)."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

import pytest

from tests.support.daemon import DOCKER_CLI, DaemonProcess

pytestmark = pytest.mark.root


def create(daemon: DaemonProcess, image: str, cmd: list[str], name: str = "", **extra: Any) -> str:
    status, data = daemon.json("POST", f"/containers/create{'?name=' + name if name else ''}",
                               {"Image": image, "Cmd": cmd, **extra})
    assert status == 201, data
    return str(data["Id"])


def run(daemon: DaemonProcess, image: str, cmd: list[str], name: str = "", **extra: Any) -> str:
    cid = create(daemon, image, cmd, name, **extra)
    assert daemon.request("POST", f"/containers/{cid}/start")[0] == 204
    return cid


def error(daemon: DaemonProcess, method: str, path: str, body: Any = None) -> tuple[int, str]:
    status, data = daemon.json(method, path, body)
    return status, (data or {}).get("message", "") if isinstance(data, dict) else ""


@pytest.fixture
def clean(daemon: DaemonProcess) -> Any:
    yield
    _, items = daemon.json("GET", "/containers/json?all=1")
    for item in items or []:
        daemon.request("DELETE", f"/containers/{item['Id']}?force=1", timeout=60)


def test_list_filters_and_sizes(daemon: DaemonProcess, busybox_ref: str, clean: None) -> None:
    assert error(daemon, "GET", '/containers/json?filters={"bogus":["1"]}') == (400, "invalid filter 'bogus'")
    assert error(daemon, "GET", '/containers/json?filters={"since":["ghost"]}') == (404, "No such container: ghost")
    assert error(daemon, "GET", '/containers/json?filters={"health":["sick"]}')[0] == 400
    old = run(daemon, busybox_ref, ["sh", "-c", "echo x > /big; exit 3"], name="old", Labels={"k": "v"})
    daemon.json("POST", f"/containers/{old}/wait")
    new = run(daemon, busybox_ref, ["sleep", "30"], name="new")

    def ids(query: str) -> list[str]:
        status, items = daemon.json("GET", "/containers/json" + query)
        assert status == 200, items
        return [i["Id"] for i in items]

    assert ids("") == [new]
    assert ids('?filters={"status":["exited"]}') == [old]  # a status filter implies all
    assert ids('?filters={"exited":["3"]}') == []  # exited does not
    assert ids('?all=1&filters={"exited":["3"]}') == [old]
    assert ids('?all=1&filters={"since":["old"]}') == [new]
    assert ids('?all=1&filters={"before":["new"],"label":["k=v"]}') == [old]
    assert ids('?all=1&filters={"name":["^/ne"]}') == [new]
    assert ids('?all=1&filters={"network":["bridge"],"is-task":["false"]}') == [new, old]
    assert ids("?limit=1") == [new]
    assert error(daemon, "GET", "/containers/json?limit=x") == (500, 'strconv.Atoi: parsing "x": invalid syntax')
    assert error(daemon, "POST", f"/containers/{new}/stop?t=1s") == (500, 'strconv.Atoi: parsing "1s": invalid syntax')
    query = json.dumps({"id": [old[:12]]}, separators=(",", ":"))
    _, items = daemon.json("GET", "/containers/json?all=1&size=1&filters=" + query)
    assert items[0]["SizeRw"] > 0 and items[0]["SizeRootFs"] > items[0]["SizeRw"]
    _, info = daemon.json("GET", f"/containers/{old}/json?size=1")
    assert info["SizeRootFs"] > info["SizeRw"] > 0 and info["Platform"] == "linux"
    assert "SizeRw" not in daemon.json("GET", f"/containers/{old}/json")[1]


def test_signals_stop_kill_restart(daemon: DaemonProcess, busybox_ref: str, clean: None) -> None:
    cid = run(daemon, busybox_ref, ["sleep", "30"], name="sig")
    assert error(daemon, "POST", f"/containers/{cid}/kill?signal=FOO") == (
        400, f"Cannot kill container: {cid}: Invalid signal: FOO")
    assert error(daemon, "POST", "/containers/ghost/kill?signal=FOO") == (
        400, "Cannot kill container: ghost: Invalid signal: FOO")  # the signal is checked first
    assert error(daemon, "POST", "/containers/ghost/kill") == (
        404, "Cannot kill container: ghost: No such container: ghost")
    assert error(daemon, "POST", f"/containers/{cid}/stop?signal=NOPE") == (
        500, f"cannot stop container: {cid}: Invalid signal: NOPE")
    assert error(daemon, "POST", f"/containers/{cid}/restart?signal=NOPE")[0] == 500
    assert daemon.request("POST", "/containers/sig/kill?signal=0x")[0] == 400
    assert daemon.request("POST", "/containers/sig/kill?signal=RTMIN%2B3")[0] == 204  # Docker's RT names
    assert daemon.request("POST", "/containers/sig/kill?signal=9")[0] == 204  # a number (PID 1 ignores TERM)
    daemon.json("POST", "/containers/sig/wait")
    assert error(daemon, "POST", "/containers/sig/kill") == (
        409, f"Cannot kill container: sig: Container {cid} is not running")
    assert daemon.request("POST", "/containers/sig/stop?signal=NOPE")[0] == 304  # not running: nothing parsed
    start = time.monotonic()
    assert daemon.request("POST", "/containers/sig/restart?t=0&signal=SIGUSR1")[0] == 204
    assert daemon.request("POST", "/containers/sig/stop?t=1&signal=usr2")[0] == 204  # any case, no SIG
    assert time.monotonic() - start < 10
    assert daemon.json("GET", "/containers/sig/json")[1]["State"]["ExitCode"] in (137, 140)


def test_wait_remove_resize_rename_pause(daemon: DaemonProcess, busybox_ref: str, clean: None) -> None:
    assert error(daemon, "POST", "/containers/ghost/wait?condition=bogus") == (400, 'invalid condition: "bogus"')
    cid = run(daemon, busybox_ref, ["sleep", "30"], name="box")
    other = create(daemon, busybox_ref, ["true"], name="other")
    assert error(daemon, "POST", f"/containers/{cid}/resize?w=80") == (400, 'strconv.Atoi: parsing "": invalid syntax')
    assert daemon.request("POST", f"/containers/{cid}/resize?h=24&w=80")[0] == 200
    assert error(daemon, "POST", f"/containers/{other}/resize?h=24&w=80") == (409, f"Container {other} is not running")
    assert error(daemon, "POST", "/containers/box/rename?name=box") == (
        400, "Renaming a container with the same name as its current name")
    status, message = error(daemon, "POST", "/containers/box/rename?name=other")
    assert status == 409 and message.startswith('Error when allocating new name: Conflict. The container name "/other"')
    assert error(daemon, "POST", "/containers/box/rename?name=-x")[0] == 400
    assert error(daemon, "POST", "/containers/create?name=a%20b", {"Image": busybox_ref}) == (
        400, "Invalid container name (a b), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    assert error(daemon, "POST", f"/containers/{other}/pause") == (409, f"Container {other} is not running")
    assert error(daemon, "POST", f"/containers/{cid}/unpause") == (500, f"Container {cid} is not paused")
    assert daemon.request("POST", f"/containers/{cid}/pause")[0] == 204
    assert error(daemon, "POST", f"/containers/{cid}/pause") == (409, f"Container {cid} is already paused")
    assert daemon.request("POST", f"/containers/{cid}/unpause")[0] == 204
    assert error(daemon, "DELETE", "/containers/box?link=1") == (
        500, "Conflict, cannot remove the default link name of the container")
    assert error(daemon, "DELETE", "/containers/ghost?link=1")[0] == 404
    assert error(daemon, "DELETE", "/containers/box")[0] == 409
    assert daemon.request("DELETE", "/containers/box?force=1&v=1")[0] == 204


def test_create_platform_logs_prune(daemon: DaemonProcess, busybox_ref: str, clean: None) -> None:
    status, message = error(daemon, "POST", "/containers/create?platform=linux/s390x", {"Image": busybox_ref})
    assert status == 404 and message == (f"image with reference {busybox_ref} was found but does not match the "
                                         "specified platform: wanted linux/s390x, actual: linux/amd64")
    assert error(daemon, "POST", "/containers/create?platform=a/b/c/d", {"Image": busybox_ref})[0] == 400
    cid = create(daemon, busybox_ref, ["sh", "-c", "echo out; echo err >&2"])
    assert daemon.request("POST", "/containers/create?platform=linux/amd64",
                          b'{"Image": "%s"}' % busybox_ref.encode(), {"Content-Type": "application/json"})[0] == 201
    assert daemon.request("POST", f"/containers/{cid}/start")[0] == 204
    daemon.json("POST", f"/containers/{cid}/wait")
    assert error(daemon, "GET", f"/containers/{cid}/logs") == (
        400, "Bad parameters: you must choose at least one stream")
    status, _, body = daemon.request("GET", f"/containers/{cid}/logs?stdout=1&stderr=0&tail=1&timestamps=1")
    assert status == 200 and body[8:].split(b" ", 1)[1] == b"out\n" and body[0] == 1
    assert error(daemon, "POST", '/containers/prune?filters={"status":["exited"]}') == (400, "invalid filter 'status'")
    status, report = daemon.json("POST", '/containers/prune?filters={"until":["1h"]}')
    assert status == 200 and report["ContainersDeleted"] is None  # all are younger than an hour
    status, report = daemon.json("POST", '/containers/prune?filters={"label!":["nope"]}')
    assert status == 200 and cid in report["ContainersDeleted"]


@pytest.mark.skipif(not os.path.exists(DOCKER_CLI), reason="the docker CLI is not installed")
def test_docker_cli_sees_dockers_messages(daemon: DaemonProcess, busybox_ref: str, clean: None) -> None:
    run(daemon, busybox_ref, ["true"], name="done")
    daemon.json("POST", "/containers/done/wait")
    r = daemon.docker("kill", "done")
    assert r.returncode == 1 and "Cannot kill container: done: Container" in r.stderr and "is not running" in r.stderr
    r = daemon.docker("ps", "-a", "--filter", "exited=0", "--format", "{{.Names}}")
    assert r.returncode == 0 and r.stdout.split() == ["done"]
    r = daemon.docker("ps", "--filter", "until=1h")
    assert r.returncode == 1 and "invalid filter 'until'" in r.stderr


def test_unsupported_host_config(daemon: DaemonProcess, busybox_ref: str, clean: None) -> None:
    body: dict[str, Any] = {"Image": busybox_ref, "HostConfig": {"IOMaximumBandwidth": 1}}
    assert error(daemon, "POST", "/containers/create", body)[0] == 400
    body["HostConfig"] = {"CpuCount": 2}
    status, data = daemon.json("POST", "/containers/create", body)
    assert status == 201 and data["Warnings"] == ["linux does not support CPU count. Count discarded."]
    body["HostConfig"] = {"DeviceRequests": [{"Count": -1, "Capabilities": [["gpu"]]}]}
    cid = daemon.json("POST", "/containers/create", body)[1]["Id"]
    assert error(daemon, "POST", f"/containers/{cid}/start") == (
        400, 'could not select device driver "" with capabilities: [[gpu]]')


def test_stop_with_a_realtime_stop_signal(daemon: DaemonProcess, busybox_ref: str, clean: None) -> None:
    rtmin3 = str(int(signal.SIGRTMIN) + 3)
    cid = run(daemon, busybox_ref, ["sh", "-c", f"trap 'exit 7' {rtmin3}; while :; do sleep 0.1; done"],
              StopSignal="SIGRTMIN+3")
    start = time.monotonic()
    assert daemon.request("POST", f"/containers/{cid}/stop?t=10")[0] == 204
    assert time.monotonic() - start < 5
    assert daemon.json("GET", f"/containers/{cid}/json")[1]["State"]["ExitCode"] == 7
    assert error(daemon, "POST", "/containers/create", {"Image": busybox_ref, "StopSignal": "SIGNOPE"}) == (
        400, "Invalid signal: SIGNOPE")
