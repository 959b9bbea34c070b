"""The container side of `create`: runs in forked children, never returns.

stage1 (child of the runtime): enter or make the user namespace and wait while the parent
writes uid/gid maps and puts us in the cgroup; join namespaces given by path; unshare the
others; fork stage2 (the first process of a new pid namespace) and report its pid.
stage2 (container init): build the rootfs, let the parent run its hooks, pivot, finish the
process setup, report "ready", then block on the exec fifo until `start` opens it, and execve.
Every failure before "ready" is sent to the parent as a message, so the parent prints it and
removes every trace.
"""

from __future__ import annotations

import os
import sys

from sampan.linux import syscalls as s
from sampan.runtime.config import NAMESPACES, Config
from sampan.runtime.record import Record
from sampan.runtime.state import FIFO_NAME
from sampan.runtime.sync import Channel

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any, NoReturn

_JOIN_ORDER = ("ipc", "uts", "network", "pid", "cgroup", "time", "mount")


class InitContext(Record):
    cfg: Config
    chan: Channel
    state_dir_fd: int  # O_PATH dir fd from the parent: the fifo is opened relative to it after
    # pivot_root (no /proc needed), and a user namespace's root need not reach --root
    console: Any = None  # a socket connected to --console-socket
    no_pivot: bool = False
    preserve_fds: int = 0
    cgroup_paths: dict[str, str] = {}
    keyring: str = ""  # session keyring name to join ("" with --no-new-keyring)
    seccomp_program: Any = None  # (BPF program, flags) compiled by the parent, or None


def describe(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return f"{e.strerror}: {e.filename}" if e.filename and str(e.filename) not in e.strerror else e.strerror
    return str(e) or type(e).__name__


def _fail(chan: Channel, e: BaseException) -> NoReturn:
    try:
        chan.send("error", message=f"unable to start container process: {describe(e)}")
    finally:
        os._exit(1)


def stage1(ctx: InitContext) -> NoReturn:
    try:
        join_cgroups(ctx.cgroup_paths)
        preload(ctx.cfg)  # a no-op after create's own preload
        sc = s.Syscalls()
        lx = ctx.cfg.linux
        fds: dict[str, int] = {}
        for ns in lx.namespaces:
            if ns.path:
                try:
                    fds[ns.type] = os.open(ns.path, os.O_RDONLY | os.O_CLOEXEC)
                except OSError as e:
                    raise OSError(e.errno, f"open {ns.type} namespace {ns.path}: {e.strerror}")
        new = new_namespaces(ctx.cfg)
        if "user" in fds:
            sc.setns(fds.pop("user"), s.CLONE_NEWUSER)
        if new & s.CLONE_NEWUSER:
            sc.unshare(s.CLONE_NEWUSER)
        ctx.chan.send("userns", new=bool(new & s.CLONE_NEWUSER))
        if needs_go(new):
            ctx.chan.expect("go", "waiting for the runtime")
        if new & s.CLONE_NEWUSER or lx.namespace("user"):
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
        for kind in _JOIN_ORDER:
            if kind in fds:
                sc.setns(fds[kind], NAMESPACES[kind])
                os.close(fds[kind])
        if new & ~s.CLONE_NEWUSER:
            sc.unshare(new & ~s.CLONE_NEWUSER)
        pid = os.fork()
        if pid == 0:
            stage2(ctx, sc)
        ctx.chan.send("pid", pid=pid)
        os._exit(0)
    except BaseException as e:
        _fail(ctx.chan, e)


def join_cgroups(paths: dict[str, str]) -> None:
    """Move ourselves into the container's cgroup, first thing (before any namespace change), so
    the init we fork is born there. Moving oneself is cheaper than being moved while running on
    another CPU, and the parent need not wait for it (create's primer has made the lock fast)."""
    from sampan.runtime.cgroups.fsutil import write

    for path in sorted(set(paths.values())):
        write(os.path.join(path, "cgroup.procs"), 0)


def new_namespaces(cfg: Config) -> int:
    flags = 0
    for ns in cfg.linux.namespaces:
        if not ns.path:
            flags |= NAMESPACES[ns.type]
    return flags


def needs_go(new: int) -> bool:
    """Wait for the parent before going on when it must act first: uid/gid maps for a new user
    namespace. (A cgroup namespace is rooted where we are: join_cgroups ran first.)"""
    return bool(new & s.CLONE_NEWUSER)


def preload(cfg: Config) -> None:
    """Import all that stage2 needs now, before a user namespace or pivot_root may hide the
    interpreter's files from us. (create calls it too, before forking, while it waits for the
    cgroup lock anyway.)"""
    import ctypes  # noqa: F401  (syscalls.Syscalls loads it on first use)

    import sampan.runtime.cgroupfs
    import sampan.runtime.hooks
    import sampan.runtime.process
    import sampan.runtime.rootfs

    if cfg.process is not None and cfg.process.terminal:
        import sampan.runtime.console
    if cfg.hooks_of("createContainer") or cfg.hooks_of("startContainer"):
        import subprocess  # noqa: F401
    if cfg.linux.seccomp is not None:
        import sampan.linux.seccomp  # noqa: F401  (the parent compiles the program: seccomp_cache)


def stage2(ctx: InitContext, sc: s.Syscalls) -> NoReturn:
    from sampan.runtime.hooks import run_hooks
    from sampan.runtime.process import ProcessSetup
    from sampan.runtime.rootfs import RootfsBuilder

    cfg = ctx.cfg
    proc = cfg.process
    assert proc is not None
    setup = ProcessSetup(sc, proc, seccomp=cfg.linux.seccomp, personality=cfg.linux.personality,
                         set_groups=not _setgroups_denied(), compiled=ctx.seccomp_program)
    state: dict[str, Any] = {}
    try:
        os.setsid()
        _die_on_signals()
        if ctx.keyring:
            try:
                sc.join_session_keyring(ctx.keyring)
            except OSError as e:
                if e.errno != 38:  # ENOSYS: no keyrings in this kernel, as runc tolerates
                    raise
        builder = RootfsBuilder(sc, cfg, ctx.cgroup_paths)
        builder.prepare()
        pts = None
        if proc.terminal:
            pts = _console(ctx, builder)
        ctx.chan.send("mounted")
        state = ctx.chan.expect("resume", "waiting for prestart hooks")["state"]
        run_hooks("createContainer", cfg.hooks_of("createContainer"), state)
        builder.pivot(ctx.no_pivot)
        builder.finalize()
        if cfg.hostname:
            sc.sethostname(cfg.hostname)
        if cfg.domainname:
            sc.setdomainname(cfg.domainname)
        for key, value in cfg.linux.sysctl.items():
            sc.write_file("/proc/sys/" + key.replace(".", "/"), value)
        for path in cfg.linux.readonly_paths:
            builder.readonly_path(path)
        for path in cfg.linux.masked_paths:
            builder.mask_path(path)
        setup.early()
        setup.resolve()
        if pts is not None:
            from sampan.runtime.console import become_controlling  # preloaded: no file access

            become_controlling(f"/dev/pts/{pts}")
        setup.drop_privileges()
        ctx.chan.send("ready")
        ctx.chan.close()
    except BaseException as e:
        _fail(ctx.chan, e)
    try:
        fd = os.open(FIFO_NAME, os.O_WRONLY | os.O_CLOEXEC, dir_fd=ctx.state_dir_fd)
        os.write(fd, b"0")
        os.close(ctx.state_dir_fd)
        state["status"] = "running"
        run_hooks("startContainer", cfg.hooks_of("startContainer"), state)
        setup.exec(ctx.preserve_fds)
    except BaseException as e:
        sys.stderr.write(f"unable to start container process: {describe(e)}\n")
        sys.stderr.flush()
    os._exit(1)


def _console(ctx: InitContext, builder: Any) -> int:
    from sampan.linux.syscalls import MS_BIND
    from sampan.runtime import console

    proc = ctx.cfg.process
    assert proc is not None
    if ctx.console is None:
        raise OSError(22, "a terminal was requested but no --console-socket was given")
    master, number = console.open_pty(builder.target("/dev/ptmx"))
    try:
        if proc.console_size:
            console.set_size(master, *proc.console_size)
        dev_console = builder.target("/dev/console")
        if not os.path.lexists(dev_console):
            os.close(os.open(dev_console, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
        builder.sc.mount(builder.target(f"/dev/pts/{number}"), dev_console, "bind", MS_BIND)
        console.send_master(ctx.console, master)
    finally:
        os.close(master)
    return number


def _die_on_signals() -> None:
    """As pid 1 of its namespace the init gets only signals it handles (SIGKILL aside): handle
    the usual ones by exiting, so `kill` of a created container works as with runc. execve
    puts them back to their defaults for the container's process."""
    import _signal as signal  # the signal module imports enum (start-up time)

    def die(signum: int, _frame: object) -> None:
        os._exit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, die)


def _setgroups_denied() -> bool:
    try:
        with open("/proc/self/setgroups") as f:
            return f.read().strip() == "deny"
    except OSError:
        return False
