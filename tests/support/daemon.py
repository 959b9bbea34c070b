"""Run a real `sampand` for tests, on temp roots, and talk HTTP to it over its unix socket."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

# the machine's docker CLI (a fresh CI machine has docker 28 in /usr/local/bin; Debian's docker.io
# puts an older one in /usr/bin)
DOCKER_CLI = shutil.which("docker") or "/usr/local/bin/docker"


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a unix socket (the Host header is a placeholder, as docker's is)."""

    def __init__(self, path: str, timeout: float = 30.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


def unix_request(path: str, method: str, target: str, body: bytes | None = None,
                 headers: Mapping[str, str] | None = None,
                 timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    conn = UnixHTTPConnection(path, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=dict(headers or {}))
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


class DaemonProcess:
    """A `sampand` child process with its own socket, data root, exec root, pidfile and config."""

    def __init__(self, tmpdir: str, *, extra_args: Sequence[str] = (),
                 env: Mapping[str, str] | None = None, config: Mapping[str, Any] | None = None,
                 socket_path: str = "") -> None:
        self.tmpdir = tmpdir
        self.socket = socket_path or os.path.join(tmpdir, "sampand.sock")
        self.data_root = os.path.join(tmpdir, "data")
        self.exec_root = os.path.join(tmpdir, "exec")
        self.pidfile = os.path.join(tmpdir, "sampand.pid")
        self.config_file = os.path.join(tmpdir, "daemon.json")
        self.log_path = os.path.join(tmpdir, "sampand.log")
        self.extra_args = tuple(extra_args)
        self.env = dict(env) if env is not None else None
        self.config = dict(config) if config is not None else None
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pid(self) -> int:
        assert self.proc is not None, "daemon not started"
        return self.proc.pid

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "sampan.daemon.main", "--host", self.docker_host,
                "--data-root", self.data_root, "--exec-root", self.exec_root,
                "--pidfile", self.pidfile, "--config-file", self.config_file, *self.extra_args]

    def spawn(self) -> subprocess.Popen[bytes]:
        """Start the process without waiting for it to answer."""
        os.makedirs(self.tmpdir, exist_ok=True)
        if self.config is not None or not os.path.exists(self.config_file):
            with open(self.config_file, "w") as f:
                json.dump(self.config or {}, f)
        env = dict(os.environ if self.env is None else self.env)
        src = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "src")
        env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, env=env)
        return self.proc

    def start(self, timeout: float = 15.0) -> DaemonProcess:
        proc = self.spawn()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"sampand exited with {proc.returncode} during start:\n{self.log()}")
            try:
                status, _, _ = unix_request(self.socket, "GET", "/_ping", timeout=2.0)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"sampand did not answer /_ping within {timeout}s:\n{self.log()}")

    def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if unix_request(self.socket, "GET", "/_ping", timeout=2.0)[0] == 200:
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"sampand not ready:\n{self.log()}")

    def signal(self, signum: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signum)

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, wait, SIGKILL after `timeout`; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: Mapping[str, str] | None = None,
                timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
        return unix_request(self.socket, method, path, body, headers, timeout)

    def json(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        status, _, raw = self.request(method, path, data, headers)
        return status, json.loads(raw) if raw.strip() else None

    def docker_env(self) -> dict[str, str]:
        """Environment for the docker CLI or docker-py to talk to this daemon (and no other)."""
        env = dict(os.environ)
        env.update(DOCKER_HOST=self.docker_host, DOCKER_CONFIG=os.path.join(self.tmpdir, "docker-config"))
        env.pop("DOCKER_CONTEXT", None)
        return env

    def docker(self, *args: str, cli: str = DOCKER_CLI, timeout: float = 120.0,
               input: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the unmodified docker CLI against this daemon."""
        return subprocess.run([cli, *args], env=self.docker_env(), capture_output=True, text=True,
                              timeout=timeout, input=input)

    def log(self) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def __enter__(self) -> DaemonProcess:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
