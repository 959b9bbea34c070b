"""The `sampan` CLI against a real sampand and the local registry: the image lifecycle end to end."""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.support.daemon import DaemonProcess
from tests.support.images import Entry, Image, Pusher, build_image, busybox_entries, make_layer
from tests.support.registry import LocalRegistry
from tests.unit.cli.terminal import screen

pytestmark = pytest.mark.root
SCRIPT = os.path.join(os.path.dirname(sys.executable), "sampan")


@pytest.fixture(scope="module")
def image(registry: LocalRegistry) -> Image:
    base = make_layer(busybox_entries())
    top = make_layer([Entry("etc", "dir"), Entry("etc/motd", data=b"cli test\n")])
    img = build_image([base, top], labels={"purpose": "cli"})
    Pusher(registry.url).push_image("cli/app", "v1", img)
    return img


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(str(tmp_path_factory.mktemp("cli-daemon")))
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def sampan(daemon: DaemonProcess, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    argv = [SCRIPT] if os.path.exists(SCRIPT) else [sys.executable, "-m", "sampan.cli.main"]
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_API_VERSION")}
    return subprocess.run([*argv, "-H", daemon.docker_host, *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_image_lifecycle(daemon: DaemonProcess, registry: LocalRegistry, image: Image) -> None:
    ref = f"{registry.host}/cli/app:v1"
    short_id = image.image_id[7:19]

    pulled = sampan(daemon, "pull", ref)
    assert pulled.returncode == 0, pulled.stderr
    lines = pulled.stdout.splitlines()
    assert lines[0] == "v1: Pulling from cli/app"
    assert any(line.endswith(": Pull complete") for line in lines)
    assert f"Digest: {image.digest}" in lines
    assert lines[-2] == f"Status: Downloaded newer image for {ref}"
    assert lines[-1] == ref
    again = sampan(daemon, "pull", "-q", ref)
    assert (again.returncode, again.stdout) == (0, ref + "\n")

    table = sampan(daemon, "images").stdout.splitlines()
    assert table[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    row = next(line.split() for line in table[1:] if line.startswith(f"{registry.host}/cli/app "))
    assert row[1:3] == ["v1", short_id]
    assert short_id in sampan(daemon, "images", "-q").stdout.split()
    fmt = sampan(daemon, "images", "--format", "{{.Repository}} {{.Tag}} {{.ID}}", f"{registry.host}/cli/app")
    assert fmt.stdout == f"{registry.host}/cli/app v1 {short_id}\n"

    inspected = json.loads(sampan(daemon, "image", "inspect", ref).stdout)
    assert inspected[0]["Id"] == image.image_id
    assert inspected[0]["RootFS"]["Layers"] == image.diff_ids
    label = sampan(daemon, "inspect", "-f", '{{index .Config.Labels "purpose"}}', ref)
    assert label.stdout == "cli\n"

    history = sampan(daemon, "history", ref).stdout.splitlines()
    assert history[0].split()[:2] == ["IMAGE", "CREATED"] and len(history) >= 3

    assert sampan(daemon, "tag", ref, "cli-local:t1").returncode == 0
    tags = sampan(daemon, "image", "inspect", "-f", "{{json .RepoTags}}", "cli-local:t1").stdout
    assert "cli-local:t1" in json.loads(tags)

    removed = sampan(daemon, "rmi", "cli-local:t1")
    assert (removed.returncode, removed.stdout) == (0, "Untagged: cli-local:t1\n")
    missing = sampan(daemon, "rmi", "cli-local:t1")
    assert missing.returncode == 1 and "No such image: cli-local:t1" in missing.stderr

    gone = sampan(daemon, "rmi", ref)
    assert gone.returncode == 0 and f"Deleted: {image.image_id}" in gone.stdout
    assert sampan(daemon, "image", "inspect", ref).returncode == 1
    pruned = sampan(daemon, "image", "prune", "-f")
    assert pruned.returncode == 0 and pruned.stdout.endswith("Total reclaimed space: 0B\n")


def test_missing_image_and_system_commands(daemon: DaemonProcess, registry: LocalRegistry) -> None:
    missing = sampan(daemon, "pull", f"{registry.host}/cli/nothing-here:v1")
    # dockerd answers 404 before streaming ("Error response from daemon: ..."); an error inside
    # the stream is printed bare. Either way: the registry's words on stderr and exit 1.
    assert missing.returncode == 1 and "manifest unknown" in missing.stderr
    version = sampan(daemon, "version", "--format", "{{.Server.APIVersion}}")
    assert (version.returncode, version.stdout) == (0, "1.44\n")
    info = sampan(daemon, "info")
    assert info.returncode == 0 and " Images: " in info.stdout


def test_pull_on_a_terminal(daemon: DaemonProcess, registry: LocalRegistry) -> None:
    """On a tty each layer line is rewritten in place; the final screen is docker's."""
    img = build_image([make_layer([Entry("tty.txt", data=b"tty\n")])])
    Pusher(registry.url).push_image("cli/tty", "v1", img)
    ref = f"{registry.host}/cli/tty:v1"
    argv = [SCRIPT] if os.path.exists(SCRIPT) else [sys.executable, "-m", "sampan.cli.main"]
    pid, fd = pty.fork()
    if pid == 0:  # child: exec at once
        os.execv(argv[0], [*argv, "-H", daemon.docker_host, "pull", ref])
    raw = b""
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        raw += data
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    text = raw.decode()
    assert "\x1b[2K" in text
    lines = [line for line in screen(text.replace("\r\n", "\n")) if line]
    layer = json.loads(img.manifest)["layers"][0]["digest"][7:19]
    assert lines == ["v1: Pulling from cli/tty", f"{layer}: Pull complete", f"Digest: {img.digest}",
                     f"Status: Downloaded newer image for {ref}", ref]


def test_tcp_host(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`-H tcp://127.0.0.1:PORT` reaches a sampand listening on loopback TCP."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tcp = f"tcp://127.0.0.1:{port}"
    proc = DaemonProcess(str(tmp_path_factory.mktemp("cli-tcp")), extra_args=["--host", tcp])
    proc.start()
    try:
        argv = [SCRIPT] if os.path.exists(SCRIPT) else [sys.executable, "-m", "sampan.cli.main"]
        r = subprocess.run([*argv, "-H", tcp, "version", "-f", "{{.Server.APIVersion}}"], capture_output=True,
                           text=True, timeout=60)
        assert (r.returncode, r.stdout) == (0, "1.44\n"), r.stderr
    finally:
        proc.stop()
