"""A fake Engine API daemon with containers: create, attach (hijacked), start, wait, logs, ...

Both `sampan` and the real `docker` CLI can be pointed at it, so tests compare what each
sends and prints. Containers run "programs" chosen by their Cmd (see `PROGRAMS`) in a
thread: output goes to attached streams (stdcopy frames unless Tty) and to a log.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import socketserver
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sampan.api.stdcopy import frame

NOT_FOUND_CMD = "missing-cmd"
NO_PERM_CMD = "noperm-cmd"


@dataclass
class Container:
    id: str
    name: str
    body: dict[str, Any]
    created: float = field(default_factory=lambda: time.time() - 7200)  # ages far from a boundary
    running: bool = False
    exit_code: int = 0
    started: threading.Event = field(default_factory=threading.Event)
    exited: threading.Event = field(default_factory=threading.Event)
    removed: threading.Event = field(default_factory=threading.Event)
    attached: list[socket.socket] = field(default_factory=list)
    streams: dict[socket.socket, set[int]] = field(default_factory=dict)
    stdin: list[bytes | None] = field(default_factory=list)
    stdin_ready: threading.Condition = field(default_factory=threading.Condition)
    log: list[tuple[int, bytes]] = field(default_factory=list)

    @property
    def tty(self) -> bool:
        return bool(self.body.get("Tty"))

    def emit(self, stream: int, data: bytes) -> None:
        self.log.append((stream, data))
        wire = data if self.tty else frame(stream, data)
        for sock in list(self.attached):
            if stream not in self.streams.get(sock, {1, 2}):
                continue
            try:
                sock.sendall(wire)
            except OSError:
                self.attached.remove(sock)

    def read_stdin(self) -> bytes | None:
        with self.stdin_ready:
            while not self.stdin:
                self.stdin_ready.wait()
            return self.stdin.pop(0)

    def feed_stdin(self, data: bytes | None) -> None:
        with self.stdin_ready:
            self.stdin.append(data)
            self.stdin_ready.notify_all()


def _echo(c: Container, args: list[str]) -> int:
    c.emit(1, (" ".join(args) + "\n").encode())
    return 0


def _err(c: Container, args: list[str]) -> int:
    c.emit(2, (" ".join(args) + "\n").encode())
    return 0


def _exit(c: Container, args: list[str]) -> int:
    return int(args[0])


def _cat(c: Container, args: list[str]) -> int:
    while (data := c.read_stdin()) is not None:
        c.emit(1, data)
    return 0


def _sleep(c: Container, args: list[str]) -> int:
    c.exited.wait(float(args[0]))
    return 137 if c.exit_code == 137 else 0


PROGRAMS: dict[str, Callable[[Container, list[str]], int]] = {
    "echo": _echo, "err": _err, "exit": _exit, "cat": _cat, "sleep": _sleep, "true": lambda c, a: 0,
}


class FakeEngine:
    def __init__(self, *, images: tuple[str, ...] = ("busybox:latest",)) -> None:
        self.dir = tempfile.mkdtemp(prefix="sampan-engine-")
        self.path = os.path.join(self.dir, "engine.sock")
        self.images = set(images)
        self.containers: dict[str, Container] = {}
        self.requests: list[tuple[str, str, dict[str, list[str]], bytes]] = []
        self.pulls: list[str] = []
        self.detaches = 0
        self._server: socketserver.ThreadingUnixStreamServer | None = None

    @property
    def docker_host(self) -> str:
        return f"unix://{self.path}"

    def find(self, method: str, suffix: str) -> list[tuple[str, dict[str, list[str]], bytes]]:
        return [(p, q, b) for m, p, q, b in self.requests if m == method and p.endswith(suffix)]

    def lookup(self, ref: str) -> Container | None:
        for c in self.containers.values():
            if ref in (c.id, c.name) or (len(ref) >= 3 and c.id.startswith(ref)):
                return c
        return None

    # -- HTTP plumbing ---------------------------------------------------------------------

    def start(self) -> FakeEngine:
        engine = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    while engine._one(self.rfile, self.connection):
                        pass
                except OSError:  # the client hung up, as clients may
                    pass

        self._server = socketserver.ThreadingUnixStreamServer(self.path, Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        for c in self.containers.values():
            c.exit_code = c.exit_code or 0
            c.feed_stdin(None)
            c.exited.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> FakeEngine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _one(self, rfile: Any, sock: socket.socket) -> bool:
        line = rfile.readline()
        if not line:
            return False
        method, target, _ = line.decode().split(" ", 2)
        headers = {}
        while (h := rfile.readline()) not in (b"\r\n", b"\n", b""):
            k, _, v = h.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        body = rfile.read(int(headers.get("content-length") or 0))
        url = urlsplit(target)
        path = url.path
        if path.startswith("/v1."):
            path = "/" + path.split("/", 2)[2]
        query = parse_qs(url.query)
        self.requests.append((method, path, query, body))
        return self.dispatch(method, unquote(path), query, body, rfile, sock)

    @staticmethod
    def send(sock: socket.socket, status: int, obj: Any = None, *, raw: bytes | None = None,
             headers: dict[str, str] | None = None) -> bool:
        data = raw if raw is not None else (b"" if obj is None else json.dumps(obj).encode() + b"\n")
        head = [f"HTTP/1.1 {status} X", "Api-Version: 1.44", "OSType: linux", "Server: FakeEngine",
                f"Content-Length: {len(data)}", "Content-Type: application/json"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + (data if status != 204 else b""))
        return True

    def error(self, sock: socket.socket, status: int, message: str) -> bool:
        return self.send(sock, status, {"message": message})

    # -- routes ----------------------------------------------------------------------------

    def dispatch(self, method: str, path: str, query: dict[str, list[str]], body: bytes, rfile: Any,
                 sock: socket.socket) -> bool:
        parts = path.strip("/").split("/")
        if path == "/_ping":
            return self.send(sock, 200, raw=b"OK" if method == "GET" else b"")
        if path == "/images/create":
            return self._pull(query, sock)
        if path == "/containers/create":
            return self._create(query, body, sock)
        if path == "/containers/json":
            rows = [self.summary(c, size=bool(query.get("size"))) for c in self.containers.values()]
            return self.send(sock, 200, rows)
        if path == "/containers/prune":
            gone = [c.id for c in list(self.containers.values()) if not c.running]
            for cid in gone:
                del self.containers[cid]
            return self.send(sock, 200, {"ContainersDeleted": gone or None, "SpaceReclaimed": 0})
        if parts[0] != "containers" or len(parts) < 2:
            return self.error(sock, 404, "page not found")
        c = self.lookup(parts[1])
        if c is None:
            return self.error(sock, 404, f"No such container: {parts[1]}")
        action = parts[2] if len(parts) > 2 else ""
        if method == "DELETE":
            if c.running and not query.get("force"):
                return self.error(sock, 409, f"cannot remove container \"{c.name}\": container is running: "
                                             "stop the container before removing or force remove")
            self._finish(c, 137) if c.running else None
            del self.containers[c.id]
            c.removed.set()
            return self.send(sock, 204)
        handler = getattr(self, "_" + action, None)
        if handler is None:
            return self.error(sock, 404, "page not found")
        return bool(handler(c, query, sock))

    def _pull(self, query: dict[str, list[str]], sock: socket.socket) -> bool:
        image, tag = query["fromImage"][0], (query.get("tag") or ["latest"])[0]
        short = image.removeprefix("docker.io/library/")
        self.pulls.append(f"{short}:{tag}")
        if short == "nosuch":
            return self.error(sock, 404, f"pull access denied for {short}, repository does not exist or may "
                                         "require 'docker login'")
        self.images.add(f"{short}:{tag}")
        lines = [{"status": f"Pulling from library/{short}", "id": tag},
                 {"status": f"Digest: sha256:{'d1' * 32}"},
                 {"status": f"Status: Downloaded newer image for {short}:{tag}"}]
        raw = b"".join(json.dumps(x).encode() + b"\r\n" for x in lines)
        return self.send(sock, 200, raw=raw)

    def _create(self, query: dict[str, list[str]], body: bytes, sock: socket.socket) -> bool:
        config = json.loads(body)
        image = config["Image"]
        if ":" not in image.rsplit("/", 1)[-1]:
            image += ":latest"
        if image not in self.images:
            return self.error(sock, 404, f"No such image: {image}")
        name = (query.get("name") or [""])[0] or f"fake_{len(self.containers)}"
        if any(c.name == name for c in self.containers.values()):
            return self.error(sock, 409, f'Conflict. The container name "/{name}" is already in use')
        cid = os.urandom(32).hex()
        self.containers[cid] = Container(cid, name, config)
        return self.send(sock, 201, {"Id": cid, "Warnings": []})

    def _attach(self, c: Container, query: dict[str, list[str]], sock: socket.socket) -> bool:
        sock.sendall(b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                     b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
        c.attached.append(sock)
        c.streams[sock] = {n for n, key in ((1, "stdout"), (2, "stderr"))
                           if query.get(key, ["0"])[0] in ("1", "true")}
        keys = b"\x10\x11"
        if query.get("stdin", ["0"])[0] in ("1", "true"):
            while True:
                data = sock.recv(65536)
                if not data:
                    if c.body.get("StdinOnce") and not c.tty:  # dockerd's CloseStdin rule
                        c.feed_stdin(None)
                    break
                head, found, _ = data.partition(keys)
                if head:
                    c.feed_stdin(head)
                if found:  # detached: the container keeps its stdin open
                    self.detaches += 1
                    if sock in c.attached:
                        c.attached.remove(sock)
                    sock.shutdown(socket.SHUT_RDWR)
                    return False
        c.exited.wait()
        if sock in c.attached:
            c.attached.remove(sock)
        return False

    def _start(self, c: Container, query: dict[str, list[str]], sock: socket.socket) -> bool:
        if c.running:
            return self.send(sock, 304)
        cmd = list(c.body.get("Cmd") or ["true"])
        if cmd[0] in (NOT_FOUND_CMD, NO_PERM_CMD) and c.body.get("HostConfig", {}).get("AutoRemove"):
            self.containers.pop(c.id, None)  # as dockerd: a failed start removes an AutoRemove container
            c.removed.set()
        if cmd[0] == NOT_FOUND_CMD:
            return self.error(sock, 400, "failed to create task for container: failed to create shim task: OCI "
                                         f"runtime create failed: exec: \"{cmd[0]}\": executable file not found "
                                         "in $PATH: unknown")
        if cmd[0] == NO_PERM_CMD:
            return self.error(sock, 400, "failed to create task for container: OCI runtime create failed: "
                                         f"exec: \"{cmd[0]}\": permission denied: unknown")
        c.running = True
        c.exited.clear()
        program = PROGRAMS.get(cmd[0], _echo)

        def run() -> None:
            time.sleep(0.05)  # let attached clients settle, as a real start takes time
            code = program(c, cmd[1:])
            self._finish(c, code)

        threading.Thread(target=run, daemon=True).start()
        c.started.set()
        return self.send(sock, 204)

    def _finish(self, c: Container, code: int) -> None:
        if not c.running:
            return
        c.running = False
        c.exit_code = code
        c.exited.set()
        for s in list(c.attached):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if c.body.get("HostConfig", {}).get("AutoRemove"):
            self.containers.pop(c.id, None)
            c.removed.set()

    def _wait(self, c: Container, query: dict[str, list[str]], sock: socket.socket) -> bool:
        condition = (query.get("condition") or ["not-running"])[0]
        sock.sendall(b"HTTP/1.1 200 OK\r\nApi-Version: 1.44\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        if condition == "removed":
            c.removed.wait()
        elif condition == "next-exit" or c.running:
            if condition == "next-exit":
                c.started.wait()
            c.exited.wait()
        data = json.dumps({"StatusCode": c.exit_code, "Error": None}).encode() + b"\n"
        sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n")
        return True

    def _kill(self, c: Container, query: dict[str, list[str]], sock: socket.socket) -> bool:
        if not c.running:
            return self.error(sock, 409, f"Cannot kill container: {c.name}: Container {c.id} is not running")
        signal = (query.get("signal") or ["SIGKILL"])[0]
        self._finish(c, 130 if signal in ("SIGINT", "INT") else 137)
        return self.send(sock, 204)

    def _stop(self, c: Container, query: dict[str, list[str]], sock: socket.socket) -> bool:
        if not c.running:
            return self.send(sock, 304)
        self._finish(c, 137)
        return self.send(sock, 204)

    def _restart(self, c: Container, query: dict[str, list[str]], sock: socket.socket) -> bool:
        self._finish(c, 137)
        c.started.clear()
        return self._start(c, query, sock)

    def _resize(self, c: Container, query: dict[str, list[str]], sock: socket.socket) -> bool:
        return self.send(sock, 200, raw=b"")

    def _json(self, c: Container, query: dict[str, list[str]], sock: socket.socket) -> bool:
        return self.send(sock, 200, {
            "Id": c.id, "Name": "/" + c.name, "Image": "sha256:" + "a4" * 32,
            "State": {"Status": "running" if c.running else "exited", "Running": c.running,
                      "Paused": False, "ExitCode": c.exit_code},
            "Config": {k: v for k, v in c.body.items() if k not in ("HostConfig", "NetworkingConfig")},
            "HostConfig": c.body.get("HostConfig", {}),
        })

    def _logs(self, c: Container, query: dict[str, list[str]], sock: socket.socket) -> bool:
        want = {1: query.get("stdout", ["0"])[0] in ("1", "true"), 2: query.get("stderr", ["0"])[0] in ("1", "true")}
        items = [(s, d) for s, d in c.log if want.get(s)]
        tail = (query.get("tail") or ["all"])[0]
        if tail != "all":
            items = items[len(items) - int(tail):] if int(tail) else []
        stamp = b"2024-01-02T03:04:05.000000000Z " if query.get("timestamps", ["0"])[0] in ("1", "true") else b""
        raw = b"".join((stamp + d) if c.tty else frame(s, stamp + d) for s, d in items)
        return self.send(sock, 200, raw=raw)

    def summary(self, c: Container, *, size: bool = False) -> dict[str, Any]:
        cmd = " ".join((c.body.get("Entrypoint") or []) + (c.body.get("Cmd") or []))
        status = "Up Less than a second" if c.running else f"Exited ({c.exit_code}) Less than a second ago"
        return {"Id": c.id, "Names": ["/" + c.name], "Image": c.body["Image"], "ImageID": "sha256:" + "a4" * 32,
                "Command": cmd, "Created": int(c.created), "Ports": [], "Labels": c.body.get("Labels") or {},
                "State": "running" if c.running else "exited", "Status": status, "Mounts": [],
                "NetworkSettings": {"Networks": {"bridge": {}}}, **self.ports(c),
                **({"SizeRw": 12345, "SizeRootFs": 4_300_000} if size else {})}

    @staticmethod
    def ports(c: Container) -> dict[str, Any]:
        out = []
        for key, bindings in (c.body.get("HostConfig", {}).get("PortBindings") or {}).items():
            private, _, kind = key.partition("/")
            for b in bindings:
                out.append({"IP": b.get("HostIp") or "0.0.0.0", "PrivatePort": int(private),
                            "PublicPort": int(b["HostPort"]), "Type": kind} if b.get("HostPort") else
                           {"PrivatePort": int(private), "Type": kind})
        return {"Ports": out}
