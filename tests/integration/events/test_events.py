"""Events from a real sampand, seen through the docker CLI, docker-py, raw HTTP and `sampan events`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from tests.support.daemon import DaemonProcess, UnixHTTPConnection

pytestmark = pytest.mark.root


def stamp() -> str:
    ns = time.time_ns()
    return f"{ns // 10**9}.{ns % 10**9:09d}"


def past_events(daemon: DaemonProcess, since: str, *args: str) -> list[dict[str, Any]]:
    """`docker events --since S --until now` as JSON objects (the command ends by itself)."""
    time.sleep(0.01)
    r = daemon.docker("events", "--since", since, "--until", stamp(), "--format", "{{json .}}", *args,
                      timeout=30)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def sampan(daemon: DaemonProcess, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(daemon.docker_env(), SAMPAN_NO_AUTOSTART="1", TZ="UTC")
    return subprocess.run([sys.executable, "-m", "sampan.cli.main", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


def test_container_lifecycle_in_order_with_attributes(daemon: DaemonProcess, busybox_ref: str) -> None:
    since = stamp()
    r = daemon.docker("run", "--name", "ev-life", "--label", "team=blue", busybox_ref, "sh", "-c", "exit 3")
    assert r.returncode == 3, r.stderr
    assert daemon.docker("rm", "ev-life").returncode == 0
    evs = past_events(daemon, since, "--filter", "container=ev-life")
    actions = [e["Action"] for e in evs]
    assert [a for a in actions if a in ("create", "start", "die", "destroy")] == ["create", "start", "die", "destroy"]
    assert "attach" in actions and actions.index("attach") < actions.index("start")
    cid = evs[0]["Actor"]["ID"]
    for e in evs:
        assert e["Type"] == "container" and e["Actor"]["ID"] == cid == e["id"] and e["from"] == busybox_ref
        attrs = e["Actor"]["Attributes"]
        assert (attrs["name"], attrs["image"], attrs["team"]) == ("ev-life", busybox_ref, "blue")
    die = evs[actions.index("die")]["Actor"]["Attributes"]
    assert die["exitCode"] == "3" and die["execDuration"].isdigit()


def test_stop_kill_rename_pause_and_prune(daemon: DaemonProcess, busybox_ref: str) -> None:
    since = stamp()
    assert daemon.docker("run", "-d", "--init", "--name", "ev-ops", busybox_ref, "sleep", "60").returncode == 0
    assert daemon.docker("pause", "ev-ops").returncode == 0
    assert daemon.docker("unpause", "ev-ops").returncode == 0
    assert daemon.docker("rename", "ev-ops", "ev-ops2").returncode == 0
    assert daemon.docker("top", "ev-ops2").returncode == 0
    assert daemon.docker("stop", "-t", "5", "ev-ops2").returncode == 0
    assert daemon.docker("container", "prune", "-f", "--filter", "label=nothing-has-this").returncode == 0
    evs = past_events(daemon, since, "--filter", "type=container")
    seen = [(e["Action"], e["Actor"]["Attributes"].get("name")) for e in evs]
    ops = [a for a, name in seen if name in ("ev-ops", "ev-ops2")]
    assert ops == ["create", "start", "pause", "unpause", "rename", "top", "kill", "die", "stop"], ops
    rename = next(e for e in evs if e["Action"] == "rename")["Actor"]["Attributes"]
    assert (rename["oldName"], rename["name"]) == ("/ev-ops", "ev-ops2")
    kill = next(e for e in evs if e["Action"] == "kill")["Actor"]["Attributes"]
    assert kill["signal"] == "15"
    prune = [e for e in evs if e["Action"] == "prune"]
    assert prune and prune[-1]["Actor"]["ID"] == "" and prune[-1]["Actor"]["Attributes"]["reclaimed"] == "0"
    assert daemon.docker("rm", "ev-ops2").returncode == 0


def test_filters_event_label_and_name(daemon: DaemonProcess, busybox_ref: str) -> None:
    since = stamp()
    for name, team in (("ev-f1", "red"), ("ev-f2", "green")):
        r = daemon.docker("run", "--rm", "--name", name, "--label", f"team={team}", busybox_ref, "true")
        assert r.returncode == 0, r.stderr
    dies = past_events(daemon, since, "--filter", "event=die")
    assert {e["Actor"]["Attributes"]["name"] for e in dies} >= {"ev-f1", "ev-f2"}
    assert all(e["Action"] == "die" for e in dies)
    red = past_events(daemon, since, "--filter", "label=team=red")
    assert red and {e["Actor"]["Attributes"]["name"] for e in red} == {"ev-f1"}
    f2 = past_events(daemon, since, "--filter", "container=ev-f2", "--filter", "event=start")
    assert [(e["Action"], e["Actor"]["Attributes"]["name"]) for e in f2] == [("start", "ev-f2")]
    assert past_events(daemon, since, "--filter", "type=image") == []


def test_image_pull_tag_untag_delete(daemon: DaemonProcess, labelled_ref: str) -> None:
    since = stamp()
    assert daemon.docker("pull", "-q", labelled_ref).returncode == 0
    assert daemon.docker("tag", labelled_ref, "ev-tagged:v2").returncode == 0
    assert daemon.docker("rmi", "ev-tagged:v2").returncode == 0
    r = daemon.docker("rmi", labelled_ref)
    assert r.returncode == 0, r.stderr
    evs = past_events(daemon, since, "--filter", "type=image")
    assert [e["Action"] for e in evs] == ["pull", "tag", "untag", "untag", "delete"]
    pull, tag, untag, _, delete = evs
    assert pull["Actor"]["ID"] == labelled_ref and pull["id"] == labelled_ref
    assert pull["Actor"]["Attributes"] == {"name": labelled_ref.rsplit(":", 1)[0], "org.test": "events"}
    image_id = tag["Actor"]["ID"]
    assert image_id.startswith("sha256:")
    assert tag["Actor"]["Attributes"] == {"name": "ev-tagged:v2", "org.test": "events"}
    assert untag["Actor"]["ID"] == image_id and untag["Actor"]["Attributes"]["name"] == image_id
    assert delete["Actor"] == {"ID": image_id, "Attributes": {"name": image_id}}
    by_image = past_events(daemon, since, "--filter", "image=ev-tagged")
    assert [e["Action"] for e in by_image] == ["tag"]


def test_docker_py_streams_to_two_clients_at_once(daemon: DaemonProcess, busybox_ref: str) -> None:
    docker = pytest.importorskip("docker")
    clients = [docker.DockerClient(base_url=daemon.docker_host, version="1.44") for _ in range(2)]
    streams = [c.api.events(decode=True, filters={"type": "container", "event": "start"}) for c in clients]
    try:
        c = clients[0].containers.run(busybox_ref, ["true"], detach=True, name="ev-py")
        got: list[dict[str, Any]] = []

        def read(stream: Any) -> None:
            got.append(next(stream))

        readers = [threading.Thread(target=read, args=(s,), daemon=True) for s in streams]
        for t in readers:
            t.start()
        for t in readers:
            t.join(20)
        assert len(got) == 2
        for ev in got:
            assert (ev["Action"], ev["Actor"]["ID"], ev["Actor"]["Attributes"]["name"]) == ("start", c.id, "ev-py")
        c.wait()
        c.remove()
    finally:
        for s in streams:
            s.close()
        for cl in clients:
            cl.close()


def test_sampan_events_past_and_live(daemon: DaemonProcess, busybox_ref: str) -> None:
    since = stamp()
    assert daemon.docker("run", "--rm", "--name", "ev-cli", busybox_ref, "true").returncode == 0
    time.sleep(0.01)
    r = sampan(daemon, "events", "--since", since, "--until", stamp(), "-f", "container=ev-cli")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [line.split()[2] for line in lines if line.split()[2] != "attach"] == \
        ["create", "start", "die", "destroy"]
    assert lines[0].split()[0].endswith("Z") and lines[0].split()[1] == "container"
    assert lines[0].endswith(f"(image={busybox_ref}, name=ev-cli)")
    r = sampan(daemon, "system", "events", "--since", since, "--until", stamp(), "--format", "json",
               "-f", "container=ev-cli", "-f", "event=die")
    (die,) = [json.loads(line) for line in r.stdout.splitlines()]
    assert die["Actor"]["Attributes"]["exitCode"] == "0"

    env = dict(daemon.docker_env(), SAMPAN_NO_AUTOSTART="1")
    live = subprocess.Popen([sys.executable, "-m", "sampan.cli.main", "events", "-f", "event=create",
                             "--format", "{{.Action}} {{.Actor.Attributes.name}}"],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        time.sleep(1.0)  # the CLI's interpreter starts and subscribes
        assert daemon.docker("create", "--name", "ev-live", busybox_ref, "true").returncode == 0
        assert live.stdout is not None
        assert live.stdout.readline() == "create ev-live\n"
    finally:
        live.terminate()
        live.wait(10)
        daemon.docker("rm", "ev-live")


def open_raw_stream(daemon: DaemonProcess, query: str = "") -> UnixHTTPConnection:
    conn = UnixHTTPConnection(daemon.socket, timeout=10)
    conn.request("GET", "/v1.44/events" + query)
    return conn


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_disconnected_clients_are_let_go(daemon: DaemonProcess, busybox_ref: str) -> None:
    baseline = fd_count(daemon.pid)
    conns = [open_raw_stream(daemon) for _ in range(20)]
    responses = [c.getresponse() for c in conns]
    assert all(r.status == 200 for r in responses)
    assert fd_count(daemon.pid) >= baseline + 20
    for c in conns:
        c.close()
    deadline = time.monotonic() + 10
    while fd_count(daemon.pid) > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    assert fd_count(daemon.pid) <= baseline  # the daemon closed its ends: each stream unsubscribed
    r = daemon.docker("run", "--rm", busybox_ref, "true")  # and it keeps working
    assert r.returncode == 0, r.stderr


def test_until_ends_the_stream(daemon: DaemonProcess) -> None:
    t0 = time.monotonic()
    r = daemon.docker("events", "--since", "1s", "--until", "1s", timeout=20)  # both in the past
    assert r.returncode == 0 and time.monotonic() - t0 < 10
    ns = time.time_ns() + 800_000_000
    conn = open_raw_stream(daemon, f"?until={ns // 10**9}.{ns % 10**9:09d}")
    try:
        resp = conn.getresponse()
        assert resp.status == 200
        resp.read()  # returns when the daemon ends the stream
        assert time.time_ns() >= ns
    finally:
        conn.close()
    status, _, body = daemon.request("GET", "/events?since=20&until=10")
    assert status == 400 and b"cannot be after" in body


def test_oom_kill_is_an_oom_event_before_die(daemon: DaemonProcess, busybox_ref: str) -> None:
    since = stamp()
    r = daemon.docker("run", "--name", "ev-oom", "-m", "16m", "--memory-swap", "16m", busybox_ref,
                      "sh", "-c", "a=xxxxxxxxxxxxxxxx; while :; do a=$a$a; done", timeout=60)
    try:
        assert r.returncode == 137, (r.returncode, r.stderr)
        evs = past_events(daemon, since, "--filter", "container=ev-oom")
        actions = [e["Action"] for e in evs]
        assert "oom" in actions and actions.index("oom") == actions.index("die") - 1, actions
        assert evs[actions.index("die")]["Actor"]["Attributes"]["exitCode"] == "137"
    finally:
        daemon.docker("rm", "-f", "ev-oom")


def test_export_copy_and_resize_events(daemon: DaemonProcess, busybox_ref: str, tmp_path: Any) -> None:
    since = stamp()
    assert daemon.docker("run", "-d", "-t", "--init", "--name", "ev-fs", busybox_ref, "sleep", "60").returncode == 0
    try:
        assert daemon.docker("export", "-o", str(tmp_path / "fs.tar"), "ev-fs").returncode == 0
        assert daemon.docker("cp", "ev-fs:/etc/hostname", str(tmp_path / "hostname")).returncode == 0
        assert daemon.docker("cp", str(tmp_path / "hostname"), "ev-fs:/tmp/").returncode == 0
        assert daemon.request("POST", "/containers/ev-fs/resize?h=24&w=80")[0] == 200
        evs = past_events(daemon, since, "--filter", "container=ev-fs")
        actions = [e["Action"] for e in evs]
        for action in ("export", "archive-path", "extract-to-dir", "resize"):
            assert action in actions, actions
        resize = evs[actions.index("resize")]["Actor"]["Attributes"]
        assert (resize["height"], resize["width"]) == ("24", "80")
    finally:
        daemon.docker("rm", "-f", "ev-fs")
