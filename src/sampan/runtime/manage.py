"""Commands on existing containers: state, list, kill, delete, ps, pause, resume."""

from __future__ import annotations

import _signal as signal  # the signal module imports enum: ~4 ms of every start
import os
import time

from sampan.errdefs import Conflict, DataLoss, InvalidArgument
from sampan.runtime.state import Container, list_ids

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:  # annotations only: typing costs start-up time on every command
    from typing import Any


def manager_of(c: Container) -> Any:
    from sampan.runtime.cgroups import new_manager

    return new_manager(c.state.cgroups_path, c.id)


def parse_signal(text: str) -> int:
    """runc accepts "KILL", "SIGKILL", "kill" and "9"."""
    if text.isdigit():
        num = int(text)
        if num <= 0 or num >= signal.NSIG:
            raise InvalidArgument(f'unknown signal "{text}"')
        return num
    name = text.upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    value = getattr(signal, name, None) if name.isupper() and not name.startswith("SIG_") else None
    if not isinstance(value, int):
        raise InvalidArgument(f'unknown signal "{text}"')
    return value


def state_json(c: Container) -> str:
    from sampan.runtime.jsonc import dumps_indented

    return dumps_indented(c.oci_state())


def list_containers(root: str) -> list[dict[str, Any]]:
    out = []
    for cid in list_ids(root):
        c = Container(root, cid)
        try:
            doc = c.oci_state()
        except Exception:
            continue
        doc["owner"] = _owner(c.dir)
        out.append(doc)
    return out


def _owner(path: str) -> str:
    """The user owning the state dir, as runc's list shows it."""
    import pwd

    try:
        uid = os.stat(path).st_uid
        return pwd.getpwuid(uid).pw_name
    except (OSError, KeyError):
        return "#" + str(os.stat(path).st_uid) if os.path.exists(path) else ""


def format_table(rows: list[dict[str, Any]]) -> str:
    """Go's tabwriter as runc uses it: minwidth 12, padding 3, last column unpadded."""
    table = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
    for r in rows:
        table.append([r["id"], str(r["pid"]), r["status"], r["bundle"], r["created"], r["owner"]])
    widths = [max(12, max(len(row[i]) for row in table) + 3) for i in range(5)]
    lines = []
    for row in table:
        lines.append("".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:5])) + row[5])
    return "\n".join(lines) + "\n"


def kill(c: Container, sig: int, all_procs: bool = False) -> None:
    status = c.status()
    if status == "stopped" or status == "creating":
        raise Conflict("container not running")
    if all_procs:
        mgr = manager_of(c)
        for pid in mgr.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        if status == "paused" and sig == signal.SIGKILL:
            mgr.thaw()
        return
    try:
        os.kill(c.state.pid, sig)
    except ProcessLookupError:
        raise Conflict("container not running")


def wait_gone(c: Container, timeout: float = 10.0) -> None:
    pid = c.state.pid
    deadline = time.monotonic() + timeout
    while c.alive() and time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.005)


def delete(c: Container, force: bool = False) -> None:
    if not c.has_state():
        c.remove()
        return
    try:
        status = c.status()
    except DataLoss:
        if not force:
            raise
        c.remove()  # a state we cannot read names no process or cgroup we could clean up
        return
    if status in ("running", "paused") and not force:
        raise Conflict(f"cannot delete container {c.id} that is not stopped: {status}")
    st = c.state
    if status != "stopped":
        try:
            os.kill(st.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if status == "paused":
            manager_of(c).thaw()
        wait_gone(c)
    if not remove_empty_cgroups(st.cgroup_paths):
        mgr = manager_of(c)
        _kill_leftovers(mgr)
        mgr.destroy()
    if (st.spec.get("hooks") or {}).get("poststop"):
        from sampan.runtime.config_state import config_of
        from sampan.runtime.hooks import hook_state, run_hooks_warn

        cfg = config_of(c)
        if cfg is not None:
            run_hooks_warn("poststop", cfg.hooks_of("poststop"),
                           hook_state(c.id, "stopped", 0, st.bundle, st.annotations))
    c.remove()


def remove_empty_cgroups(paths: dict[str, str]) -> bool:
    """The fast path of delete: rmdir the cgroup dirs create recorded, if they hold no process
    and no child cgroup. False sends the caller to the cgroup manager (kill, retry, recurse)."""
    dirs = sorted(set(paths.values()))
    if not dirs:
        return False
    for d in dirs:
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                if f.read().strip():
                    return False
            if any(e.is_dir() for e in os.scandir(d)):
                return False
        except FileNotFoundError:
            continue
        except OSError:
            return False
    for d in dirs:
        try:
            os.rmdir(d)
        except FileNotFoundError:
            continue
        except OSError:
            return False
    return True


def _kill_leftovers(mgr: Any) -> None:
    """Processes still in the cgroup (no pid namespace, daemons) die with the container."""
    try:
        pids = mgr.pids()
    except Exception:
        return
    if not pids:
        return
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if not mgr.pids():
                return
        except Exception:
            return
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.005)


def pause(c: Container) -> None:
    status = c.status()
    if status != "running":
        raise Conflict("container not running")
    manager_of(c).freeze()


def resume(c: Container) -> None:
    status = c.status()
    if status != "paused":
        raise Conflict("container not paused")
    manager_of(c).thaw()


def ps(c: Container, fmt: str, ps_args: list[str]) -> str:
    status = c.status()
    if status in ("stopped", "creating"):
        raise Conflict("container not running")
    pids = manager_of(c).pids()
    if fmt == "json":
        from sampan.runtime import jsonc

        return jsonc.dumps(pids) + "\n"
    if fmt != "table":
        raise InvalidArgument(f"invalid format option {fmt!r}")
    import subprocess

    out = subprocess.run(["ps", *(ps_args or ["-ef"])], capture_output=True, check=False)
    if out.returncode != 0:
        raise InvalidArgument(f"ps failed: {out.stderr.decode(errors='replace').strip()}")
    lines = out.stdout.decode().splitlines()
    if not lines:
        return ""
    try:
        col = lines[0].split().index("PID")
    except ValueError:
        raise InvalidArgument("couldn't find PID field in ps output")
    keep = [lines[0]]
    wanted = {str(p) for p in pids}
    for line in lines[1:]:
        fields = line.split()
        if len(fields) > col and fields[col] in wanted:
            keep.append(line)
    return "\n".join(keep) + "\n"
