"""`docker cp` and `docker export` from the daemon's side: each operation runs in a copy helper
process (`nscopy`) that enters the container's filesystem, streaming through pipes.

The daemon is multithreaded, so it never enters a mount namespace or chroots itself; the
helper starts single-threaded and does. Resolving every path in the helper, with the
container's root as its root, is what keeps a symlink in the container (even one swapped in
while a copy runs) from leading a copy out to the host.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, BinaryIO

from sampan import errdefs

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Bind:
    """A bind mount a stopped container would have, made again in the helper's namespace."""

    source: str
    destination: str
    readonly: bool = False
    recursive: bool = True


@dataclass(frozen=True)
class FSView:
    """Which filesystem the helper enters: a running container's (pid) or a mounted rootfs."""

    pid: int = 0
    rootfs: str = ""
    binds: tuple[Bind, ...] = ()
    volumes: tuple[tuple[str, bool], ...] = field(default=())  # (destination, read-only)
    readonly_rootfs: bool = False
    user: str = ""  # Config.User, for copyUIDGID


def helper_argv(job: dict[str, Any]) -> list[str]:
    """This interpreter, isolated (-I: no cwd or PYTHON* variables on the path) and without site
    (-S: the helper needs only the standard library), running nscopy from the package the
    daemon itself was loaded from."""
    import sampan

    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(sampan.__file__)))
    boot = (f"import sys; sys.path.insert(0, {package_parent!r}); "
            "from sampan.daemon.containers.nscopy import main; sys.exit(main())")
    return [sys.executable, "-I", "-S", "-c", boot, json.dumps(job)]


def _job(view: FSView, op: str, ref: str, path: str, **extra: Any) -> dict[str, Any]:
    job: dict[str, Any] = {"op": op, "ref": ref, "path": path, "pid": view.pid, "rootfs": view.rootfs,
                           "binds": [list(asdict(b).values()) for b in view.binds],
                           "volumes": [list(v) for v in view.volumes], "readonly_rootfs": view.readonly_rootfs,
                           "user": view.user}
    job.update(extra)
    return job


def _error(stderr: bytes, code: int) -> errdefs.SampanError:
    """The helper's JSON error line as the errdefs kind it names."""
    for line in reversed(stderr.decode(errors="replace").splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict) and "message" in data:
            kind = getattr(errdefs, str(data.get("kind")), errdefs.System)
            if not (isinstance(kind, type) and issubclass(kind, errdefs.SampanError)):
                kind = errdefs.System
            return kind(str(data["message"]))
    text = stderr.decode(errors="replace").strip().splitlines()
    return errdefs.System(f"copy helper exited with status {code}: {text[-1] if text else 'no message'}")


def _spawn(job: dict[str, Any], *, stdin: bool) -> subprocess.Popen[bytes]:
    return subprocess.Popen(helper_argv(job), stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/", close_fds=True)


def _finish(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stderr is not None
    err = proc.stderr.read()
    code = proc.wait()
    if code != 0:
        raise _error(err, code)


def _stream_out(proc: subprocess.Popen[bytes], out: BinaryIO) -> None:
    """Copy the helper's stdout to `out`; a reader that goes away stops the helper."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    try:
        while chunk := os.read(fd, _CHUNK):
            out.write(chunk)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        proc.stdout.close()
    _finish(proc)


def path_stat(view: FSView, ref: str, path: str) -> dict[str, Any]:
    """Docker's ContainerPathStat of `path` (HEAD /archive)."""
    proc = _spawn(_job(view, "stat", ref, path), stdin=False)
    assert proc.stdout is not None
    data = proc.stdout.read()
    proc.stdout.close()
    _finish(proc)
    return json.loads(data)


def write_tar(view: FSView, ref: str, path: str, out: BinaryIO) -> None:
    """A tar of `path` to `out` (GET /archive)."""
    _stream_out(_spawn(_job(view, "get", ref, path), stdin=False), out)


def export(view: FSView, ref: str, out: BinaryIO) -> None:
    """The whole filesystem of the view as a tar (GET /export)."""
    _stream_out(_spawn(_job(view, "export", ref, "/"), stdin=False), out)


def extract_tar(view: FSView, ref: str, path: str, stream: BinaryIO, *, no_overwrite_dir_non_dir: bool = False,
                copy_uid_gid: bool = False) -> None:
    """Unpack the tar `stream` into the directory `path` (PUT /archive)."""
    proc = _spawn(_job(view, "put", ref, path, no_overwrite=no_overwrite_dir_non_dir, copy_uid_gid=copy_uid_gid),
                  stdin=True)
    feeder = threading.Thread(target=_feed, args=(stream, proc), name="cp-feed", daemon=True)
    feeder.start()
    try:
        assert proc.stdout is not None
        proc.stdout.read()
        proc.stdout.close()
        _finish(proc)
    finally:
        feeder.join()


def _feed(stream: BinaryIO, proc: subprocess.Popen[bytes]) -> None:
    """Write the upload to the helper's stdin; it may stop reading early (an error)."""
    assert proc.stdin is not None
    try:
        while chunk := stream.read(_CHUNK):
            proc.stdin.write(chunk)
    except (BrokenPipeError, ValueError):
        pass
    except OSError as e:
        log.debug("feeding the copy helper failed: %s", e)
    finally:
        try:
            proc.stdin.close()
        except OSError:
            pass
