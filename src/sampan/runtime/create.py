"""The runtime side of create, start and run.

create: validate everything, make the state dir, exec fifo and cgroup, fork the init stages
(init.py) and drive them over the sync channel: uid/gid maps and cgroup placement while the
child waits, prestart/createRuntime hooks after its mounts, then record state.json. Any
failure kills the children and removes the cgroup and the state dir before raising.
(start is in start.py, run in run.py.)
"""

from __future__ import annotations

import _signal as signal  # the signal module imports enum: ~4 ms of every start
import os
import time

from sampan.errdefs import InvalidArgument, System
from sampan.linux import syscalls as s
from sampan.runtime.cgroupfs import MigrationPrimer
from sampan.runtime.config import Config, load_bundle
from sampan.runtime.record import Record
from sampan.runtime.state import Container, ContainerState, proc_start_time, rfc3339_now, write_pid_file

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any



class CreateOptions(Record):
    bundle: str = "."
    pid_file: str | None = None
    console_socket: str | None = None
    no_pivot: bool = False
    no_new_keyring: bool = False
    preserve_fds: int = 0
    detach: bool = True
    console: Any = None  # a connected socket to send the pty master on, instead of console_socket


def validate_for_create(cfg: Config, opts: CreateOptions) -> None:
    if cfg.process is None:
        raise InvalidArgument("invalid config.json: process: required for create")
    if cfg.linux.namespace("mount") is None:
        raise InvalidArgument("invalid config.json: linux.namespaces: a mount namespace is required")
    if cfg.process.terminal and not opts.console_socket and opts.console is None and opts.detach:
        raise InvalidArgument("cannot allocate tty if runc will detach without setting console socket")
    if opts.console_socket and not cfg.process.terminal:
        raise InvalidArgument("cannot use console socket if runc will not detach or allocate tty")
    if cfg.linux.resources:
        from sampan.runtime.cgroups import validate_resources

        validate_resources(cfg.linux.resources)
    if cfg.linux.seccomp is not None:
        try:
            from sampan.runtime.seccomp import validate
        except ImportError:
            raise InvalidArgument("seccomp is configured but this build has no seccomp support")
        validate(cfg.linux.seccomp)


def create(root: str, cid: str, opts: CreateOptions, cfg: Config | None = None,
           primer: MigrationPrimer | None = None) -> Container:
    """Create container `cid` from opts.bundle (cfg: that bundle's config, if already loaded;
    primer: started by the caller as early as it could, see cgroupfs.MigrationPrimer)."""
    if primer is None:
        primer = MigrationPrimer()
    try:
        return _create(root, cid, opts, cfg, primer)
    finally:
        primer.wait()


def _create(root: str, cid: str, opts: CreateOptions, cfg: Config | None, primer: MigrationPrimer) -> Container:
    bundle = os.path.abspath(opts.bundle)
    if cfg is None:
        cfg = load_bundle(bundle)
    validate_for_create(cfg, opts)
    from sampan.runtime.cgroups import new_manager
    from sampan.runtime.seccomp_cache import program_for

    c = Container.create_dir(root, cid)
    mgr = None
    child = init_pid = 0
    try:
        os.mkfifo(c.fifo, 0o622)
        os.chmod(c.fifo, 0o622)
        mgr = new_manager(cfg.linux.cgroups_path, cid)
        _preload(cfg)
        program = program_for(cfg.linux.seccomp, root)  # before the fork, where --root is reachable
        primer.wait()  # its move holds the cgroup mutex: our mkdirs would wait anyway; no fork before
        mgr.create()
        child, init_pid = _spawn(c, cfg, opts, mgr, bundle, program)
        st = ContainerState(
            id=cid, pid=init_pid, bundle=bundle, rootfs=cfg.root_path, created=rfc3339_now(),
            start_time=proc_start_time(init_pid) or 0, annotations=cfg.annotations,
            cgroups_path=cfg.linux.cgroups_path, spec=cfg.raw, owner="", cgroup_paths=mgr.paths(),
        )
        if st.start_time == 0:
            raise System("container init exited during create")
        c.save(st)
        if opts.pid_file:
            write_pid_file(opts.pid_file, init_pid)
    except BaseException:
        _undo(c, mgr, child, init_pid)
        raise
    return c


def _preload(cfg: Config) -> None:
    """Import what _spawn and the init stages need now: while the primer waits in the kernel
    this costs nothing, and the forked stages find it all loaded."""
    from sampan.runtime import hooks, init, sync  # noqa: F401

    init.preload(cfg)


def _spawn(c: Container, cfg: Config, opts: CreateOptions, mgr: Any, bundle: str,
           seccomp_program: tuple[bytes, int] | None = None) -> tuple[int, int]:
    from sampan.runtime.hooks import hook_state, run_hooks
    from sampan.runtime.init import InitContext, needs_go, new_namespaces, stage1
    from sampan.runtime.sync import Channel

    parent, child_end = Channel.pair()
    console_sock = opts.console
    if opts.console_socket:
        from sampan.runtime.console import connect

        console_sock = connect(opts.console_socket)
    dir_fd = os.open(c.dir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    ctx = InitContext(cfg, child_end, dir_fd, console_sock, opts.no_pivot, opts.preserve_fds, mgr.paths(),
                      "" if opts.no_new_keyring else f"_ses.{c.id}", seccomp_program)
    if not opts.detach:  # run waits for the init, a grandchild: it must come back to us
        s.Syscalls().prctl(s.PR_SET_CHILD_SUBREAPER, 1)
    pid = os.fork()
    if pid == 0:
        parent.close()
        stage1(ctx)
    child_end.close()
    os.close(dir_fd)
    if console_sock is not None:
        console_sock.close()
    init_pid = 0
    try:
        new = new_namespaces(cfg)
        msg = parent.expect("userns", "creating namespaces")  # it has moved itself into the cgroup
        if msg.get("new"):
            write_id_maps(pid, cfg)
        if needs_go(new):
            parent.tell("go", "creating namespaces")
        init_pid = int(parent.expect("pid", "creating the container init")["pid"])
        if cfg.linux.resources:
            mgr.set(cfg.linux.resources)
        os.waitpid(pid, 0)
        pid = 0
        parent.expect("mounted", "setting up the rootfs")
        state = hook_state(c.id, "creating", init_pid, bundle, cfg.annotations)
        run_hooks("prestart", cfg.hooks_of("prestart"), state)
        run_hooks("createRuntime", cfg.hooks_of("createRuntime"), state)
        parent.tell("resume", "setting up the rootfs", state=state)
        parent.expect("ready", "finishing the container process setup")
    except BaseException:
        _reap(pid, init_pid)
        raise
    finally:
        parent.close()
    return 0, init_pid


def write_id_maps(pid: int, cfg: Config) -> None:
    sc = s.Syscalls()
    for name, maps in (("uid_map", cfg.linux.uid_mappings), ("gid_map", cfg.linux.gid_mappings)):
        text = "".join(f"{m.container_id} {m.host_id} {m.size}\n" for m in maps)
        try:
            sc.write_file(f"/proc/{pid}/{name}", text)
        except OSError as e:
            raise System(f"write {name} for the user namespace: {e.strerror or e}")


def _reap(child: int, init_pid: int) -> None:
    for pid in (init_pid, child):
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for pid in (child, init_pid):
        if pid:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:  # not ours (no subreaper): wait until it is gone or a zombie
                for _ in range(1000):
                    if proc_start_time(pid) is None:
                        break
                    time.sleep(0.001)


def _undo(c: Container, mgr: Any, child: int, init_pid: int) -> None:
    _reap(child, init_pid)
    if mgr is not None:
        try:
            mgr.destroy()
        except Exception:
            pass
    c.remove()

