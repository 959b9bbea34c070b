"""An image holding a static C program compiled by the test: pulled through sampand, its
layers (as inspect's GraphDriver reports them) mount into a root where the program runs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.daemon import DaemonProcess
from tests.support.images import Entry, Pusher, build_image, busybox_entries, make_layer
from tests.support.registry import LocalRegistry

pytestmark = pytest.mark.root

HELLO_C = r"""
#include <stdio.h>
int main(void) { puts("hello from a static C program"); return 7; }
"""


@pytest.fixture
def static_hello(tmp_path: Path) -> bytes:
    gcc = shutil.which("gcc")
    assert gcc, "gcc is installed by scripts/install.sh"
    src = tmp_path / "hello.c"
    src.write_text(HELLO_C)
    out = tmp_path / "hello"
    subprocess.run([gcc, "-static", "-Os", "-o", str(out), str(src)], check=True)
    return out.read_bytes()


def test_pulled_layers_make_a_runnable_root(tmp_path: Path, registry: LocalRegistry, static_hello: bytes) -> None:
    image = build_image(
        [make_layer(busybox_entries()), make_layer([Entry("hello", data=static_hello, mode=0o755)], "zstd")],
        cmd=["/hello"],
    )
    Pusher(registry.url).push_image("e2e/static", "latest", image)
    ref = f"{registry.host}/e2e/static:latest"
    with DaemonProcess(str(tmp_path / "daemon")) as daemon:
        status, _, _ = daemon.request("POST", f"/images/create?fromImage={registry.host}/e2e/static&tag=latest")
        assert status == 200
        status, _, body = daemon.request("GET", f"/images/{ref}/json")
        assert status == 200
        info = json.loads(body)
        assert info["Id"] == image.image_id and info["Config"]["Cmd"] == ["/hello"]
        data = info["GraphDriver"]["Data"]
        root = tmp_path / "root"
        root.mkdir()
        lower = f"{data['UpperDir']}:{data['LowerDir']}"
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o", f"ro,lowerdir={lower}", str(root)], check=True)
        try:
            run = subprocess.run(["chroot", str(root), "/hello"], capture_output=True, text=True)
            assert (run.returncode, run.stdout) == (7, "hello from a static C program\n")
            shell = subprocess.run(["chroot", str(root), "/bin/sh", "-c", "echo $((6*7))"],
                                   capture_output=True, text=True)
            assert shell.stdout == "42\n"
        finally:
            subprocess.run(["umount", str(root)], check=True)
