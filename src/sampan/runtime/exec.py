"""`exec`: run another process inside a running container.

A child moves itself into the container's cgroup, opens the init's namespace files, joins them
(user first, mount last) and forks the process so it lands in the pid namespace (and is born in
the cgroup). That process finishes the setup (console, limits, user, capabilities, seccomp),
waits for "go", and execs; the parent learns success from the sync channel closing on execve
(CLOEXEC) or gets the error message.
"""

from __future__ import annotations

import os

from sampan.errdefs import Conflict, InvalidArgument, System
from sampan.linux import syscalls as s
from sampan.runtime import jsonc
from sampan.runtime.cgroupfs import MigrationPrimer
from sampan.runtime.config import NAMESPACES, NS_PROC_NAME, Config, Process, User
from sampan.runtime.config_linux import parse_process
from sampan.runtime.init import describe, join_cgroups
from sampan.runtime.record import Record
from sampan.runtime.state import Container
from sampan.runtime.sync import Channel

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    import socket
    from typing import NoReturn

_ORDER = ("user", "ipc", "uts", "network", "cgroup", "pid", "time", "mount")


class ExecOptions(Record):
    process_file: str | None = None
    args: tuple[str, ...] = ()
    tty: bool = False
    console_socket: str | None = None
    detach: bool = False
    pid_file: str | None = None
    env: tuple[str, ...] = ()
    cwd: str | None = None
    user: str | None = None
    additional_gids: tuple[int, ...] = ()
    caps: tuple[str, ...] = ()
    no_new_privs: bool = False
    preserve_fds: int = 0
    ignore_paused: bool = False


def build_process(cfg: Config, opts: ExecOptions) -> Process:
    """The process to exec: --process FILE, or the container's process overlaid with flags."""
    if opts.process_file:
        try:
            with open(opts.process_file, "rb") as f:
                doc = jsonc.loads(f.read())
        except (OSError, ValueError) as e:
            raise InvalidArgument(f"process file {opts.process_file}: {e}")
        return parse_process(doc, "process")
    if not opts.args:
        raise InvalidArgument("exec: args must not be empty")
    base = cfg.process or Process(args=opts.args)
    env = [*base.env, *opts.env]
    user = base.user
    if opts.user:
        uid, _, gid = opts.user.partition(":")
        if not uid.isdigit() or (gid and not gid.isdigit()):
            raise InvalidArgument(f"invalid user {opts.user!r}: expected uid[:gid]")
        user = User(int(uid), int(gid) if gid else 0, user.umask, user.additional_gids)
    if opts.additional_gids:
        user = user._replace(additional_gids=opts.additional_gids)
    caps = base.capabilities
    if opts.caps and caps is not None:
        from sampan.runtime.config import check_capabilities

        extra = check_capabilities(opts.caps, "--cap")
        caps = caps._replace(bounding=(*caps.bounding, *extra), effective=(*caps.effective, *extra),
                       permitted=(*caps.permitted, *extra), ambient=(*caps.ambient, *extra))
    return base._replace(args=opts.args, env=tuple(env), cwd=opts.cwd or base.cwd, user=user,
                   terminal=opts.tty, capabilities=caps,
                   no_new_privileges=base.no_new_privileges or opts.no_new_privs)


def exec_process(c: Container, cfg: Config, opts: ExecOptions, primer: MigrationPrimer | None = None) -> int:
    """primer: started by the caller as early as it could (see cgroupfs.MigrationPrimer)."""
    if primer is None:
        primer = MigrationPrimer()
    try:
        return _exec(c, cfg, opts, primer)
    finally:
        primer.wait()


def _exec(c: Container, cfg: Config, opts: ExecOptions, primer: MigrationPrimer) -> int:
    from sampan.runtime.cgroups import new_manager
    from sampan.runtime.state import write_pid_file
    from sampan.runtime.waitexit import wait_exit

    status = c.status()
    if status == "stopped" or status == "creating":
        raise Conflict("cannot exec in a stopped container")
    if status == "paused" and not opts.ignore_paused:
        raise Conflict("cannot exec in a paused container")
    proc = build_process(cfg, opts)
    if proc.terminal and not opts.console_socket and opts.detach:
        raise InvalidArgument("cannot allocate tty if runc will detach without setting console socket")
    init_pid = c.state.pid
    parent, child_end = Channel.pair()
    s.Syscalls().prctl(s.PR_SET_CHILD_SUBREAPER, 1)
    console_sock = peer = None
    if opts.console_socket:
        from sampan.runtime.console import connect

        console_sock = connect(opts.console_socket)
    elif proc.terminal:  # foreground with a tty: we hold the master and proxy it, like runc
        from sampan.runtime.ttyproxy import socket_pair

        console_sock, peer = socket_pair()
    paths = new_manager(c.state.cgroups_path, c.id).paths()
    _preload(cfg, proc)  # free while the primer waits in the kernel; the child finds it loaded
    from sampan.runtime.seccomp_cache import program_for

    program = program_for(cfg.linux.seccomp, os.path.dirname(c.dir))  # the container's, kept since create
    primer.wait()  # no fork while its thread runs
    pid = os.fork()
    if pid == 0:
        parent.close()
        _child(child_end, cfg, proc, init_pid, console_sock, opts.preserve_fds, paths, program)
    child_end.close()
    if console_sock is not None:
        console_sock.close()
    proc_pid = 0
    master = -1
    try:
        proc_pid = int(parent.expect("pid", "joining the container")["pid"])  # born in the cgroup
        os.waitpid(pid, 0)
        pid = 0
        if peer is not None:
            from sampan.runtime.console import recv_master

            master = recv_master(peer)
            peer.close()
        try:
            parent.send("go")
        except BrokenPipeError:
            pass  # the process failed before waiting for us: its error message is in the pipe
        msg = parent.recv()
        if msg is not None and msg.get("type") == "error":
            raise System(msg.get("message", "exec failed"))
        if opts.pid_file:
            write_pid_file(opts.pid_file, proc_pid)
    except BaseException:
        from sampan.runtime.create import _reap

        _reap(pid, proc_pid)
        raise
    finally:
        parent.close()
    if opts.detach:
        return 0
    if master >= 0:
        from sampan.runtime.ttyproxy import proxy

        proxy(master)
        os.close(master)
    return wait_exit(proc_pid)


def _preload(cfg: Config, proc: Process) -> None:
    """After setns(mnt) our modules are out of sight: the child needs everything loaded."""
    import sampan.runtime.process

    if proc.terminal:
        import sampan.runtime.console
    if cfg.linux.seccomp is not None:
        import sampan.linux.seccomp  # noqa: F401  (the parent compiles the program: seccomp_cache)


def _child(chan: Channel, cfg: Config, proc: Process, init_pid: int, console_sock: socket.socket | None,
           preserve_fds: int, cgroup_paths: dict[str, str], program: tuple[bytes, int] | None = None) -> NoReturn:
    try:
        join_cgroups(cgroup_paths)  # first: the process we fork is born in the container's cgroup
        _preload(cfg, proc)  # a no-op after the parent's
        sc = s.Syscalls()
        fds: list[tuple[str, int]] = []
        own = {n: os.readlink(f"/proc/self/ns/{NS_PROC_NAME[n]}") for n in _ORDER if n != "time"}
        for kind in _ORDER:
            if cfg.linux.namespace(kind) is None:
                continue
            path = f"/proc/{init_pid}/ns/{NS_PROC_NAME[kind]}"
            if own.get(kind) == os.readlink(path):
                continue  # already there (setns into our own user ns fails)
            fds.append((kind, os.open(path, os.O_RDONLY | os.O_CLOEXEC)))
        for kind, fd in fds:
            sc.setns(fd, NAMESPACES[kind])
            os.close(fd)
        pid = os.fork()
        if pid == 0:
            _grandchild(chan, sc, cfg, proc, console_sock, preserve_fds, program)
        chan.send("pid", pid=pid)
        os._exit(0)
    except BaseException as e:
        _report(chan, e)


def _grandchild(chan: Channel, sc: s.Syscalls, cfg: Config, proc: Process, console_sock: socket.socket | None,
                preserve_fds: int, program: tuple[bytes, int] | None = None) -> NoReturn:
    from sampan.runtime.process import ProcessSetup

    try:
        setup = ProcessSetup(sc, proc, seccomp=cfg.linux.seccomp, personality=cfg.linux.personality,
                             compiled=program)
        if proc.terminal and console_sock is not None:
            from sampan.runtime import console  # preloaded by _child

            os.setsid()
            master, number = console.open_pty("/dev/ptmx")
            if proc.console_size:
                console.set_size(master, *proc.console_size)
            console.send_master(console_sock, master)
            os.close(master)
            console.become_controlling(f"/dev/pts/{number}")
        setup.early()
        setup.resolve()
        setup.drop_privileges()
        chan.expect("go", "waiting to be placed in the container's cgroup")
        setup.exec(preserve_fds)
    except BaseException as e:
        _report(chan, e)
    os._exit(1)


def _report(chan: Channel, e: BaseException) -> NoReturn:
    try:
        chan.send("error", message=f"exec failed: unable to start container process: {describe(e)}")
    finally:
        os._exit(1)
