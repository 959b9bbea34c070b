"""The quick start: a local registry holding a hello image, a sampand on temporary roots,
then `sampan pull`, `sampan images`, `sampan run --rm` of the hello container, and a
container left running that `sampan exec` enters before it is removed.

Run as root from the repository root: `python -m tests.support.quickstart [--keep]`.
Everything it starts is stopped and removed at the end unless --keep is given.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from sampan.shim.client import stop_zygote
from tests.support.daemon import DaemonProcess
from tests.support.images import Pusher, hello_image
from tests.support.registry import LocalRegistry, free_port

REPO = "sampan/hello"


def sampan(host: str, *args: str) -> int:
    """Run the sampan CLI against our daemon, echoing the command like a person would type it."""
    print(f"$ sampan {' '.join(args)}", flush=True)
    return subprocess.call([sys.executable, "-m", "sampan.cli.main", "-H", host, *args])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", action="store_true", help="leave registry and daemon running")
    parser.add_argument("--port", type=int, default=0, help="registry port (default: 5000 if free)")
    args = parser.parse_args()

    port = args.port or (5000 if _port_free(5000) else free_port())
    work = tempfile.mkdtemp(prefix="sampan-quickstart-")
    registry = LocalRegistry(root=os.path.join(work, "registry"), port=port)
    os.makedirs(registry.root)
    registry.start()
    daemon = DaemonProcess(os.path.join(work, "daemon"))
    try:
        image = hello_image()
        Pusher(registry.url).push_image(REPO, "latest", image)
        print(f"registry at {registry.url} serves {registry.host}/{REPO}:latest")
        daemon.start()
        print(f"sampand listening on {daemon.docker_host}")
        ref = f"{registry.host}/{REPO}:latest"
        rc = sampan(daemon.docker_host, "pull", ref)
        rc = rc or sampan(daemon.docker_host, "images")
        rc = rc or sampan(daemon.docker_host, "run", "--rm", ref)
        rc = rc or sampan(daemon.docker_host, "run", "-d", "--name", "quick", ref, "sleep", "60")
        rc = rc or sampan(daemon.docker_host, "exec", "quick", "echo", "Hello from exec!")
        rc = rc or sampan(daemon.docker_host, "ps")
        rc = rc or sampan(daemon.docker_host, "rm", "-f", "quick")
        if args.keep:
            print(f"left running: registry pid {registry.proc.pid if registry.proc else '?'}, "
                  f"sampand at {daemon.docker_host}; data in {work}")
            return rc
        return rc
    finally:
        if not args.keep:
            daemon.stop()
            stop_zygote(os.path.join(daemon.exec_root, "shim-zygote.sock"))
            registry.stop()
            shutil.rmtree(work, ignore_errors=True)


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


if __name__ == "__main__":
    sys.exit(main())
