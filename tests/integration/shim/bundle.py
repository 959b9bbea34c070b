"""A busybox OCI bundle in a temp dir, with config.json from `runc spec` and the args edited."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

RUNC = "/usr/sbin/runc"
BUSYBOX = "/bin/busybox"
APPLETS = ("sh", "echo", "cat", "sleep", "stty", "true", "ls", "env", "yes", "head", "printf", "seq", "dd")


def make_bundle(path: str, args: list[str], *, terminal: bool = False) -> str:
    """Build PATH/rootfs from /bin/busybox and PATH/config.json running `args`."""
    rootfs = os.path.join(path, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    for d in ("proc", "sys", "dev", "tmp", "etc"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    shutil.copy2(BUSYBOX, os.path.join(rootfs, "bin", "busybox"))
    for applet in APPLETS:
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    subprocess.run([RUNC, "spec", "--bundle", path], check=True)
    config_path = os.path.join(path, "config.json")
    with open(config_path) as f:
        config = json.load(f)
    config["process"]["args"] = args
    config["process"]["terminal"] = terminal
    config["root"]["readonly"] = False
    with open(config_path, "w") as f:
        json.dump(config, f)
    return path
