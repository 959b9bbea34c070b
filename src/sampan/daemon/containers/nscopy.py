"""The copy helper: a fresh single-threaded process that enters a container's filesystem and
stats, tars or untars a path there, streaming through its stdin/stdout.

The daemon has threads, so it may neither setns into a mount namespace nor chroot; it starts
this module instead (`python -I -c ...`, see `copying.py`) with one JSON job argument:

- a running container: join its mount namespace and take its root (`/proc/<pid>/root`) as
  ours, so its binds, volumes and tmpfs mounts are there and every path, symlinks included,
  resolves inside the container, even if the container swaps a component meanwhile;
- a stopped container: a private mount namespace, the container's bind mounts (binds, hosts
  files) mounted onto its rootfs, then chroot into that rootfs.

Everything it will need is imported before it enters: afterwards the filesystem is the
container's, and `sys.path` is emptied so that nothing can ever be imported from it. Errors
go to stderr as one JSON line {"kind": errdefs class name, "message": ...}, exit status 1.
"""

from __future__ import annotations

import errno
import importlib.machinery as machinery
import json
import os
import posixpath
import stat
import sys
from typing import Any, BinaryIO

from sampan import errdefs
from sampan.daemon.containers import cptar, untar
from sampan.daemon.containers.inroot import InRoot
from sampan.linux import syscalls as sc
from sampan.linux.safepath import secure_join


def _enter_running(pid: int) -> None:
    ns_fd = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    root_fd = os.open(f"/proc/{pid}/root", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if os.fstat(ns_fd).st_ino == os.stat("/proc/self/ns/mnt").st_ino:
            # the container's process is gone and its pid taken by a host process
            raise errdefs.Conflict(f"container process {pid} is not in a container mount namespace")
        sc.Syscalls().setns(ns_fd, sc.CLONE_NEWNS)
        os.fchdir(root_fd)  # the container's root, even if it was not made by pivot_root
        os.chroot(".")
        os.chdir("/")
    finally:
        os.close(ns_fd)
        os.close(root_fd)


def _enter_stopped(rootfs: str, binds: list[list[Any]]) -> None:
    """Mount the container's binds on its rootfs in a mount namespace of our own, then chroot.
    Targets are opened with openat2(RESOLVE_IN_ROOT) and mounted through /proc/self/fd, so a
    symlink swapped into a target path (say, by a container sharing a volume) cannot redirect
    a mount; kernels without openat2 resolve them with secure_join."""
    calls = sc.Syscalls()
    calls.unshare(sc.CLONE_NEWNS)
    calls.mount(None, "/", None, sc.MS_REC | sc.MS_SLAVE)
    in_root = InRoot()
    root_fd = os.open(rootfs, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for source, destination, readonly, recursive in sorted(binds, key=lambda b: b[1].count("/")):
            if not os.path.exists(source):
                continue  # a bind source removed since: the container could not start either
            is_dir = os.path.isdir(source)
            flags = sc.MS_BIND | (sc.MS_REC if recursive else 0)
            if in_root.available:
                fd = in_root.make_target(root_fd, rootfs, destination, is_dir)
                try:
                    calls.mount(source, f"/proc/self/fd/{fd}", None, flags)
                    target = os.readlink(f"/proc/self/fd/{fd}")  # remounts need a real path
                finally:
                    os.close(fd)
            else:
                target = _make_target_by_path(rootfs, destination, is_dir)
                calls.mount(source, target, None, flags)
            calls.mount(None, target, None, sc.MS_REC | sc.MS_PRIVATE)
            if readonly:
                calls.mount(None, target, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY)
    finally:
        os.close(root_fd)
    os.chroot(rootfs)
    os.chdir("/")


def _make_target_by_path(rootfs: str, destination: str, is_dir: bool) -> str:
    target = secure_join(rootfs, destination)
    if is_dir:
        os.makedirs(target, 0o755, exist_ok=True)
    elif not os.path.lexists(target):
        os.makedirs(os.path.dirname(target), 0o755, exist_ok=True)
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o755))
    return target


def enter(job: dict[str, Any]) -> None:
    if job.get("copy_uid_gid") and job.get("user"):
        from sampan.daemon.containers import users  # noqa: F401 - needed inside, imported outside
    if job.get("pid"):
        _enter_running(int(job["pid"]))
    else:
        _enter_stopped(job["rootfs"], job.get("binds") or [])
    _no_more_imports()


def _no_more_imports() -> None:
    """Never import anything from here on: the filesystem is the container's, and a module found
    there (through sys.path or an editable-install finder's absolute paths) would run as root."""
    keep = (machinery.BuiltinImporter, machinery.FrozenImporter)
    sys.meta_path[:] = [finder for finder in sys.meta_path if finder in keep]
    sys.path[:] = []
    sys.path_hooks[:] = []
    sys.path_importer_cache.clear()


def _not_found(job: dict[str, Any]) -> errdefs.NotFound:
    return errdefs.NotFound(f"Could not find the file {job['path']} in container {job['ref']}")


def _extraction_point(job: dict[str, Any]) -> str:
    """The directory to unpack into, symlinks (the last one too) followed inside the root."""
    try:
        resolved = os.path.realpath(posixpath.join("/", job["path"]), strict=True)
        is_dir = stat.S_ISDIR(os.lstat(resolved).st_mode)
    except FileNotFoundError:
        raise _not_found(job) from None
    if not is_dir:
        raise errdefs.InvalidArgument("extraction point is not a directory")
    return resolved


def _check_writable(job: dict[str, Any], dest: str) -> None:
    """Docker's rule: a path in a volume must not be in a read-only one; elsewhere the rootfs
    must not be read-only. Mount destinations are resolved in the container like the path."""
    dest = os.path.realpath(dest)
    best: tuple[int, bool] | None = None
    for destination, readonly in job.get("volumes") or []:
        mount = os.path.realpath(destination)
        inside = dest == mount or dest.startswith(mount.rstrip("/") + "/")
        if inside and (best is None or len(mount) > best[0]):
            best = (len(mount), bool(readonly))
    if best is not None:
        if best[1]:
            raise errdefs.Forbidden("mounted volume is marked read-only")
        return
    if job.get("readonly_rootfs"):
        raise errdefs.Forbidden("container rootfs is marked read-only")


def _put(job: dict[str, Any], stdin: BinaryIO) -> None:
    dest = _extraction_point(job)
    _check_writable(job, dest)
    chown = None
    if job.get("copy_uid_gid") and job.get("user"):
        from sampan.daemon.containers.users import resolve_user  # already loaded by enter()

        user = resolve_user("/", job["user"])
        chown = (user.uid, user.gid)
    options = untar.UntarOptions(no_overwrite_dir_non_dir=bool(job.get("no_overwrite")), chown=chown)
    try:
        untar.untar(stdin, dest, options)
    except OSError as e:
        if e.errno == errno.EROFS:  # a read-only mount the HostConfig did not tell us about
            raise errdefs.Forbidden(f"cannot extract into {job['path']}: read-only file system") from None
        raise


def run(job: dict[str, Any], stdin: BinaryIO, stdout: BinaryIO) -> None:
    op = job["op"]
    if op not in ("stat", "get", "put", "export"):
        raise errdefs.InvalidArgument(f"unknown copy operation {op!r}")
    enter(job)
    if op == "put":
        _put(job, stdin)
    elif op == "export":
        cptar.export_tree(stdout)
    else:
        try:
            if op == "stat":
                stdout.write(json.dumps(cptar.path_stat(job["path"])).encode())
            else:
                cptar.write_tar(job["path"], stdout)
        except FileNotFoundError:
            raise _not_found(job) from None


def main() -> int:
    job = json.loads(sys.argv[1])
    try:
        run(job, sys.stdin.buffer, sys.stdout.buffer)
        sys.stdout.flush()
    except errdefs.SampanError as e:
        _report(type(e).__name__, str(e))
        return 1
    except BrokenPipeError:
        return 1  # the reader went away
    except OSError as e:
        _report("System", f"{e.strerror or e}{': ' + str(e.filename) if e.filename else ''}")
        return 1
    except Exception as e:  # everything must come back as a message
        _report("System", f"copy failed: {type(e).__name__}: {e}")
        return 1
    return 0


def _report(kind: str, message: str) -> None:
    try:
        sys.stderr.write(json.dumps({"kind": kind, "message": message}) + "\n")
        sys.stderr.flush()
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
