"""Turn the current (init or exec) process into the configured container process, then execve.

Shared by container init and `exec`. The order follows what the kernel permits: limits and
OOM score while privileged, no_new_privs, seccomp early only when it needs CAP_SYS_ADMIN
(otherwise last), bounding set before the uid change, keep caps across setresuid, then the
final capability sets and ambient ones.
"""

from __future__ import annotations

import _signal as signal  # the signal module imports enum: ~4 ms of every start
import os
import resource

from sampan.errdefs import InvalidArgument, System
from sampan.linux import caps
from sampan.linux import syscalls as s
from sampan.runtime.config import Process

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def env_dict(env: tuple[str, ...] | list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in env:
        k, _, v = item.partition("=")
        out[k] = v
    return out


def find_executable(name: str, env: dict[str, str], cwd: str) -> str:
    """Resolve args[0] like exec.LookPath in the container's view (runc's wording on failure)."""
    if "/" in name:
        path = name if name.startswith("/") else os.path.join(cwd, name)
        if not os.path.exists(path):
            raise InvalidArgument(f'exec: "{name}": stat {name}: no such file or directory')
        if os.path.isdir(path) or not os.access(path, os.X_OK):
            raise InvalidArgument(f'exec: "{name}": permission denied')
        return path
    for d in (env.get("PATH") or DEFAULT_PATH).split(":"):
        cand = os.path.join(d or ".", name)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    raise InvalidArgument(f'exec: "{name}": executable file not found in $PATH')


def home_of(uid: int) -> str:
    try:
        with open("/etc/passwd") as f:
            for line in f:
                parts = line.rstrip("\n").split(":")
                if len(parts) >= 6 and parts[2] == str(uid):
                    return parts[5] or "/"
    except OSError:
        pass
    return "/"


class ProcessSetup:
    def __init__(self, sc: s.Syscalls, proc: Process, *, seccomp: dict | None = None,
                 personality: int | None = None, set_groups: bool = True,
                 compiled: tuple[bytes, int] | None = None) -> None:
        """`compiled`: the program for `seccomp`, made by the parent (seccomp_cache)."""
        self.sc = sc
        self.proc = proc
        self.seccomp = seccomp
        self.personality = personality
        self.set_groups = set_groups
        self._prog: bytes | None = None
        self._flags = 0
        self._compiled = compiled if seccomp is not None else None
        self.env = env_dict(proc.env)
        self.path = ""
        if self._compiled is not None:
            import sampan.linux.seccomp  # noqa: F401  (install_filter runs after pivot_root/setns)
        elif seccomp is not None:
            preload_seccomp()  # later steps run after pivot_root/setns: our modules are out of sight

    def early(self) -> None:
        """Privileged settings: rlimits, OOM score, personality, seccomp program compilation."""
        for rl in self.proc.rlimits:
            try:
                resource.setrlimit(rl.resource, (rl.soft, rl.hard))
            except (OSError, ValueError) as e:
                raise System(f"error setting rlimit type {rl.resource} ({rl.name}): {e}")
        if self.proc.oom_score_adj is not None:
            try:
                self.sc.write_file("/proc/self/oom_score_adj", str(self.proc.oom_score_adj))
            except OSError as e:
                raise System(f"set oom_score_adj to {self.proc.oom_score_adj}: {e.strerror or e}")
        if self.personality is not None:
            self.sc.personality(self.personality)
        if self._compiled is not None:
            self._prog, self._flags = self._compiled
        elif self.seccomp is not None:
            self._prog, self._flags = compile_seccomp(self.seccomp)

    def resolve(self) -> str:
        if "HOME" not in self.env:
            self.env["HOME"] = home_of(self.proc.user.uid)
        self.path = find_executable(self.proc.args[0], self.env, self.proc.cwd)
        return self.path

    def drop_privileges(self) -> None:
        if self.proc.no_new_privileges:
            self.sc.prctl(s.PR_SET_NO_NEW_PRIVS, 1)
        elif self._prog is not None:
            install_seccomp(self._prog, self._flags)
            self._prog = None
        c = self.proc.capabilities
        top = caps.last_cap()
        if c is not None:
            caps.drop_bounding(self.sc, caps.mask(c.bounding), top)
            self.sc.prctl(s.PR_SET_KEEPCAPS, 1)
        self.set_user()
        if c is not None:
            self.sc.prctl(s.PR_SET_KEEPCAPS, 0)
        self.chdir()
        if c is not None:
            caps.set_caps(self.sc, caps.mask(c.effective), caps.mask(c.permitted), caps.mask(c.inheritable))
            caps.set_ambient(self.sc, caps.mask(c.ambient), top)
        if self.proc.user.umask is not None:
            os.umask(self.proc.user.umask)
        else:
            os.umask(0o022)

    def set_user(self) -> None:
        u = self.proc.user
        try:
            if self.set_groups:
                os.setgroups(list(u.additional_gids))
            os.setresgid(u.gid, u.gid, u.gid)
            os.setresuid(u.uid, u.uid, u.uid)
        except OSError as e:
            raise System(f"set user {u.uid}:{u.gid}: {e.strerror or e}")

    def chdir(self) -> None:
        try:
            os.chdir(self.proc.cwd)
        except OSError as e:
            raise System(f"chdir to cwd ({self.proc.cwd!r}) set in config.json failed: {e.strerror or e}")

    def exec(self, preserve_fds: int = 0) -> None:
        """Last step: late seccomp, close inherited fds, execve. Does not return."""
        reset_signals()
        if self._prog is not None:
            install_seccomp(self._prog, self._flags)
        mark_cloexec(3 + preserve_fds)
        os.execve(self.path, list(self.proc.args), self.env)


def reset_signals() -> None:
    """Python ignores SIGPIPE and SIGXFSZ at start-up, and ignored signals survive execve: the
    container's process must get them at their defaults, as under runc."""
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)


def mark_cloexec(first: int) -> None:
    """Every fd >= first is closed by execve (runc closes what the caller leaked)."""
    try:
        fds = [int(n) for n in os.listdir("/proc/self/fd")]
    except OSError:
        fds = []
    for fd in fds:
        if fd >= first:
            try:
                os.set_inheritable(fd, False)
            except OSError:
                pass


def preload_seccomp() -> None:
    try:
        import sampan.linux.seccomp
        import sampan.runtime.seccomp  # noqa: F401
    except ImportError:
        pass


def compile_seccomp(profile: dict) -> tuple[bytes, int]:
    """(BPF program, seccomp(2) flags) for an OCI linux.seccomp object."""
    try:
        from sampan.linux.seccomp import flags_value
        from sampan.runtime.seccomp import compile_filter
    except ImportError:
        raise System("seccomp is configured but this build has no seccomp support (sampan.runtime.seccomp)")
    return compile_filter(profile), flags_value(profile.get("flags") or [])


def install_seccomp(prog: bytes, flags: int) -> None:
    try:
        from sampan.linux.seccomp import install_filter
    except ImportError:
        raise System("seccomp is configured but this build cannot install filters (sampan.linux.seccomp)")
    install_filter(prog, flags=flags)
