"""Run Debian's docker-registry on 127.0.0.1 for tests, quick start and benchmarks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field

REGISTRY_BIN = shutil.which("docker-registry") or "/usr/bin/docker-registry"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalRegistry:
    """A docker-registry process with its own storage directory.

    auth_yaml, when given, is the `auth:` section of the registry config (htpasswd or token).
    """

    root: str = ""
    port: int = 0
    auth_yaml: str = ""
    proc: subprocess.Popen[bytes] | None = None
    _own_root: bool = field(default=False, repr=False)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def start(self) -> LocalRegistry:
        if not self.root:
            self.root = tempfile.mkdtemp(prefix="sampan-registry-")
            self._own_root = True
        self.port = self.port or free_port()
        config = os.path.join(self.root, "config.yml")
        with open(config, "w") as f:
            f.write(
                "version: 0.1\n"
                "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
                "storage:\n"
                f"  filesystem:\n    rootdirectory: {self.root}/data\n"
                "  delete:\n    enabled: true\n"
                "http:\n"
                f"  addr: 127.0.0.1:{self.port}\n"
                + self.auth_yaml
            )
        log = open(os.path.join(self.root, "registry.log"), "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [REGISTRY_BIN, "serve", config], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {self.log()}")
            try:
                urllib.request.urlopen(f"{self.url}/v2/", timeout=1)
                return self
            except urllib.error.HTTPError:
                return self  # 401 means it is up and asks for auth
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not start: {self.log()}")

    def log(self) -> str:
        try:
            with open(os.path.join(self.root, "registry.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> LocalRegistry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
