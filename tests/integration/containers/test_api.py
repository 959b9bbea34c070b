"""The container API directly: bad input answered with Docker's status and message and nothing
left behind; wait conditions; logs; docker-py's containers API; Init, networks, runc."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

from tests.integration.containers.conftest import mounts_under
from tests.support.daemon import DaemonProcess
from tests.support.registry import LocalRegistry

pytestmark = pytest.mark.root


def snapshot_keys(daemon: DaemonProcess) -> list[str]:
    import sqlite3

    db = sqlite3.connect(os.path.join(daemon.data_root, "snapshots", "metadata.db"))
    try:
        return [row[0] for row in db.execute("SELECT key FROM snapshots")]
    finally:
        db.close()


def nothing_left(daemon: DaemonProcess, before: list[str]) -> None:
    assert os.listdir(os.path.join(daemon.data_root, "containers")) == []
    assert sorted(snapshot_keys(daemon)) == sorted(before)
    assert not mounts_under(os.path.join(daemon.exec_root, "containers"))


def create(daemon: DaemonProcess, body: object, query: str = "") -> tuple[int, dict[str, object]]:
    status, data = daemon.json("POST", f"/containers/create{query}", body)
    return status, data or {}


def test_bad_input_leaves_nothing(daemon: DaemonProcess, busybox_ref: str) -> None:
    before = snapshot_keys(daemon)
    status, _, raw = daemon.request("POST", "/containers/create", b"{bad", {"Content-Type": "application/json"})
    assert status == 400
    expected = "invalid JSON: invalid character 'b' looking for beginning of object key string"
    assert json.loads(raw)["message"] == expected
    status, data = create(daemon, {"Image": busybox_ref, "Cmd": 5})
    assert status == 400 and "cannot unmarshal number" in str(data["message"])
    status, data = create(daemon, {"Image": busybox_ref, "HostConfig": {"Memory": "lots"}})
    assert status == 400 and "HostConfig.Memory" in str(data["message"])
    status, data = create(daemon, {"Image": "no-such-image:v1", "Cmd": ["true"]})
    assert (status, data["message"]) == (404, "No such image: no-such-image:v1")
    status, data = create(daemon, {"Image": busybox_ref, "HostConfig": {
        "Mounts": [{"Type": "bind", "Source": "/nonexistent/path", "Target": "/x"}]}})
    assert status == 400
    assert data["message"] == 'invalid mount config for type "bind": bind source path does not exist: /nonexistent/path'
    status, data = create(daemon, {"Image": busybox_ref}, "?name=bad%20name")
    assert status == 400 and "Invalid container name (bad name)" in str(data["message"])
    status, data = create(daemon, {"Image": busybox_ref, "Cmd": ["true"]}, "?name=taken")
    assert status == 201
    cid = str(data["Id"])
    status, data = create(daemon, {"Image": busybox_ref, "Cmd": ["true"]}, "?name=taken")
    assert status == 409 and f'by container "{cid}"' in str(data["message"])
    status, data = daemon.json("GET", "/containers/nope/json")
    assert (status, data["message"]) == (404, "No such container: nope")
    status, data = daemon.json("POST", f"/containers/{cid}/start")
    assert status == 204
    status, data = daemon.json("POST", f"/containers/{cid}/wait")
    assert status == 200 and data == {"StatusCode": 0, "Error": None}
    assert daemon.request("DELETE", f"/containers/{cid}")[0] == 204
    nothing_left(daemon, before)


def test_start_failure_is_reported_and_cleaned(daemon: DaemonProcess, busybox_ref: str) -> None:
    before = snapshot_keys(daemon)
    status, data = create(daemon, {"Image": busybox_ref, "Cmd": ["/no/such/program"]})
    assert status == 201
    cid = data["Id"]
    status, data = daemon.json("POST", f"/containers/{cid}/start")
    assert status >= 400 and "no/such/program" in str(data["message"])
    status, info = daemon.json("GET", f"/containers/{cid}/json")
    assert info["State"]["Status"] == "created" and info["State"]["Error"]
    assert not mounts_under(os.path.join(daemon.exec_root, "containers"))
    assert daemon.request("DELETE", f"/containers/{cid}")[0] == 204
    nothing_left(daemon, before)


def test_wait_conditions_and_logs(daemon: DaemonProcess, busybox_ref: str) -> None:
    status, data = create(daemon, {"Image": busybox_ref, "Cmd": ["sh", "-c", "echo a; echo b >&2; sleep 0.3; exit 4"]})
    cid = data["Id"]
    status, data = daemon.json("POST", f"/containers/{cid}/wait?condition=bogus")
    assert status == 400
    assert daemon.json("POST", f"/containers/{cid}/start")[0] == 204
    status, data = daemon.json("POST", f"/containers/{cid}/wait?condition=next-exit")
    assert data["StatusCode"] == 4
    status, _, raw = daemon.request("GET", f"/containers/{cid}/logs?stdout=1&stderr=1")
    assert raw == b"\x01\x00\x00\x00\x00\x00\x00\x02a\n\x02\x00\x00\x00\x00\x00\x00\x02b\n"
    status, _, raw = daemon.request("GET", f"/containers/{cid}/logs?stdout=1&tail=1&follow=1")
    assert raw == b"\x01\x00\x00\x00\x00\x00\x00\x02a\n"
    status, data = daemon.json("POST", f"/containers/{cid}/wait?condition=not-running")
    assert data["StatusCode"] == 4
    assert daemon.request("DELETE", f"/containers/{cid}")[0] == 204


def test_docker_py_run(daemon: DaemonProcess, busybox_ref: str) -> None:
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=daemon.docker_host, version="1.44")
    try:
        out = client.containers.run(busybox_ref, ["sh", "-c", "echo from docker-py"], remove=True)
        assert out == b"from docker-py\n"
        c = client.containers.run(busybox_ref, ["sleep", "30"], detach=True, name="pyc", init=True)
        c.reload()
        assert c.status == "running" and c.name == "pyc"
        c.stop(timeout=5)  # with an init as PID 1, SIGTERM ends sleep at once
        assert c.wait()["StatusCode"] == 143
        c.remove()
        with pytest.raises(docker.errors.ContainerError):
            client.containers.run(busybox_ref, ["sh", "-c", "exit 2"], remove=True)
    finally:
        client.close()


def test_network_modes(daemon: DaemonProcess, busybox_ref: str) -> None:
    r = daemon.docker("run", "--rm", busybox_ref, "cat", "/proc/net/dev")
    assert r.returncode == 0 and "lo:" in r.stdout and len(r.stdout.splitlines()) == 3  # loopback only
    r = daemon.docker("run", "--rm", "--network", "none", busybox_ref, "hostname")
    assert r.returncode == 0 and len(r.stdout.strip()) == 12
    r = daemon.docker("run", "--rm", "--network", "host", busybox_ref, "cat", "/proc/net/dev")
    with open("/proc/net/dev") as f:
        assert len(r.stdout.splitlines()) == len(f.read().splitlines())


@pytest.mark.skipif(shutil.which("runc") is None, reason="runc is not installed")
def test_runc_as_runtime(busybox_ref: str) -> None:
    from tests.integration.containers.conftest import cleanup_daemon, start_daemon

    proc = start_daemon("runc", extra_args=["--default-runtime", "runc"])
    try:
        assert proc.request("POST", f"/images/create?fromImage={busybox_ref}", timeout=120)[0] == 200
        t0 = time.monotonic()
        r = proc.docker("run", "--rm", busybox_ref, "sh", "-c", "echo via runc; exit 5")
        assert (r.returncode, r.stdout) == (5, "via runc\n"), r.stderr
        assert time.monotonic() - t0 < 10
        assert os.listdir(os.path.join(proc.exec_root, "runtime", "runc")) == []
    finally:
        cleanup_daemon(proc)


def test_info_counts_and_system_df(daemon: DaemonProcess, busybox_ref: str) -> None:
    status, data = create(daemon, {"Image": busybox_ref, "Cmd": ["true"]})
    cid = str(data["Id"])
    try:
        status, info = daemon.json("GET", "/info")
        assert info["Containers"] >= 1 and info["ContainersStopped"] >= 1
        assert info["DefaultRuntime"] == "sampan-runtime" and "sampan-runtime" in info["Runtimes"]
        status, df = daemon.json("GET", "/system/df")
        assert status == 200 and any(c["Id"] == cid and "SizeRw" in c for c in df["Containers"])
        assert any(i["Containers"] >= 1 for i in df["Images"])
        image_id = daemon.docker("inspect", "-f", "{{.Image}}", cid).stdout.strip()
        r = daemon.docker("rmi", image_id)  # by ID: the stopped container is a conflict
        assert r.returncode != 0 and "must be forced" in r.stderr, r.stderr
    finally:
        daemon.request("DELETE", f"/containers/{cid}")


def test_bind_through_escaping_symlink_stays_inside(registry: LocalRegistry, daemon: DaemonProcess) -> None:
    """An image symlink pointing out of the rootfs must not lead a bind mount onto the host."""
    import tempfile
    import uuid

    from tests.support.images import Entry, Pusher, build_image, busybox_entries, make_layer

    outside = f"/tmp/sct-outside-{uuid.uuid4().hex[:8]}"
    escape = Entry("escape", "symlink", target=f"/../../../..{outside}")
    layer = make_layer([*busybox_entries(("sh", "ls", "cat")), escape])
    ref = f"{registry.host}/containers/escape:latest"
    Pusher(registry.url).push_image("containers/escape", "latest", build_image([layer], env=["PATH=/bin"]))
    assert daemon.request("POST", f"/images/create?fromImage={ref}", timeout=120)[0] == 200
    src = tempfile.mkdtemp(prefix="sct-src-", dir="/tmp")
    try:
        with open(os.path.join(src, "f"), "w") as f:
            f.write("bound\n")
        r = daemon.docker("run", "--rm", "-v", f"{src}:/escape/sub", ref, "cat", "/escape/sub/f")
        assert not os.path.exists(outside), "the bind followed the symlink out of the rootfs"
        assert r.returncode == 0 and r.stdout == "bound\n", r.stderr
    finally:
        shutil.rmtree(src, ignore_errors=True)
        shutil.rmtree(outside, ignore_errors=True)
        daemon.docker("rmi", ref)


def test_join_another_containers_namespaces(daemon: DaemonProcess, busybox_ref: str) -> None:
    r = daemon.docker("run", "-d", "--name", "nshost", busybox_ref, "sleep", "30")
    assert r.returncode == 0, r.stderr
    try:
        pid = daemon.docker("inspect", "-f", "{{.State.Pid}}", "nshost").stdout.strip()
        want = os.readlink(f"/proc/{pid}/ns/net")
        r = daemon.docker("run", "--rm", "--network", "container:nshost", busybox_ref, "readlink", "/proc/self/ns/net")
        assert r.stdout.strip() == want, r.stderr
        r = daemon.docker("run", "--rm", "--pid", "host", busybox_ref, "readlink", "/proc/self/ns/pid")
        assert r.stdout.strip() == os.readlink("/proc/self/ns/pid")
    finally:
        daemon.docker("rm", "-f", "nshost")
    r = daemon.docker("run", "--rm", "--network", "container:nshost", busybox_ref, "true")
    assert r.returncode != 0 and "No such container: nshost" in r.stderr


def test_attach_with_logs_replays_history(daemon: DaemonProcess, busybox_ref: str) -> None:
    docker = pytest.importorskip("docker")
    client = docker.DockerClient(base_url=daemon.docker_host, version="1.44")
    try:
        c = client.containers.run(busybox_ref, ["sh", "-c", "echo early; sleep 0.5; echo late"], detach=True)
        time.sleep(0.3)
        out = b"".join(c.attach(stdout=True, stderr=True, stream=True, logs=True))
        assert out == b"early\nlate\n"
        c.remove(force=True)
    finally:
        client.close()
