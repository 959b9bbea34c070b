"""Running containers: start through a shim, a watcher per run, stop/kill, waits, attach.

Each container has a `Live` (in memory only): a lock serialising its state changes, the shim
client while it runs, the callbacks of /wait callers and of attaches made before start. The
watcher thread blocks in the shim's `wait` (answered once the init exited and its output was
drained), records the exit, deletes the shim and unmounts the rootfs.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Callable

from sampan import errdefs
from sampan.daemon.containers import layers
from sampan.daemon.containers import state as st
from sampan.daemon.containers.live import (
    AttachCallback,
    Live,
    PendingAttach,
    WaitCallback,
    now,
    start_exit_code,
    wait_gone,
)
from sampan.daemon.containers.record import ContainerRecord
from sampan.daemon.containers.settings import ContainerSettings
from sampan.daemon.events import EventBus, container_event, exit_events
from sampan.shim.client import ShimClient, read_exit
from sampan.shim.protocol import ExitStatus, parse_signal
from sampan.shim.wire import write_atomic

log = logging.getLogger(__name__)

WAIT_CONDITIONS = ("not-running", "next-exit", "removed")
_NS_FILES = {"network": "net", "pid": "pid", "ipc": "ipc", "uts": "uts"}
_MODE_KEYS = {"network": "NetworkMode", "pid": "PidMode", "ipc": "IpcMode", "uts": "UTSMode"}


class Lifecycle:
    """The part of the container service that talks to shims."""

    def __init__(self, settings: ContainerSettings, snapshots: layers.LayerStore,
                 lookup: Callable[[str], ContainerRecord],
                 on_exit: Callable[[ContainerRecord, Live], None]) -> None:
        self.settings = settings
        self.snapshots = snapshots
        self._lookup = lookup
        self._on_exit = on_exit  # AutoRemove, decided by the service
        self._lock = threading.Lock()
        self._live: dict[str, Live] = {}
        self.events: EventBus | None = None  # set by the service: start, die, kill, stop go here
        self.on_start: Callable[[ContainerRecord], None] | None = None  # health checks (set by the service)

    def live(self, cid: str) -> Live:
        with self._lock:
            return self._live.setdefault(cid, Live())

    def forget(self, cid: str) -> None:
        with self._lock:
            self._live.pop(cid, None)

    def state_dir(self, cid: str) -> str:
        """Half the ID: the shim's sockets live here and AF_UNIX paths stop at 107 bytes."""
        return os.path.join(self.settings.exec_root, "shims", cid[:32])

    def bundle(self, cid: str) -> str:
        return os.path.join(self.settings.exec_root, "containers", cid)

    # --- start ------------------------------------------------------------------------
    def start(self, rec: ContainerRecord) -> None:
        live = self.live(rec.id)
        with live.lock:
            status = rec.state.status
            if status in (st.RUNNING, st.PAUSED):
                raise errdefs.NotModified("Container already started")
            if status in (st.REMOVING, st.DEAD):
                raise errdefs.Conflict(f"cannot start a container that has been removed: {rec.id}"
                                       if status == st.REMOVING else f"container {rec.id} is marked for removal")
            st.check(status, st.RUNNING, rec.id)
            try:
                self._start_locked(rec, live)
            except BaseException as exc:
                self.fail_pending(live, exc)
                self._cleanup_after_failed_start(rec)
                rec.state.error = str(exc)
                rec.state.exit_code = start_exit_code(str(exc))
                rec.save()
                live.fire(("not-running", "next-exit"), rec.state.exit_code, rec.state.error)
                raise

    def _start_locked(self, rec: ContainerRecord, live: Live) -> None:
        from sampan.daemon.containers.spec import SpecInputs, generate_spec

        if rec.host_config.get("Init") and not self.settings.init_path:
            raise errdefs.System("cannot start a container with Init: no docker-init or tini binary on this host")
        bundle = self.bundle(rec.id)
        rootfs = os.path.join(bundle, "rootfs")
        layers.mount(self.snapshots, rec.id, rootfs)
        spec = generate_spec(SpecInputs(
            container_id=rec.id, config=rec.config, host_config=rec.host_config,
            image_config=rec.image_config, rootfs=rootfs, hosts_path=rec.hosts_path,
            hostname_path=rec.hostname_path, resolv_conf_path=rec.resolv_conf_path, shm_path=None,
            namespace_paths=self._namespace_paths(rec), cgroup_parent=self.settings.cgroup_parent,
            init_path=self.settings.init_path,
        ))
        write_atomic(os.path.join(bundle, "config.json"), json.dumps(spec, indent=1).encode(), 0o600)
        state_dir = self.state_dir(rec.id)
        if os.path.exists(state_dir):
            shutil.rmtree(state_dir, ignore_errors=True)
        os.makedirs(os.path.dirname(state_dir), mode=0o700, exist_ok=True)
        log_opts = dict((rec.host_config.get("LogConfig") or {}).get("Config") or {})
        name, path = self.settings.runtime_for(rec.runtime)
        shim = ShimClient.spawn(
            rec.id, bundle, state_dir, runtime=path, runtime_root=self.runtime_root(name),
            log_path=rec.log_path, log_opts=log_opts, tty=rec.tty, stdin=bool(rec.config.get("OpenStdin")),
            zygote=self.settings.zygote_path,
        )
        try:
            for p in live.pending:
                try:
                    p.callback(shim.attach(stdin=p.stdin, stdout=p.stdout, stderr=p.stderr,
                                           close_stdin=bool(rec.config.get("StdinOnce", True))), None)
                except Exception as exc:
                    p.callback(None, exc)
            live.pending.clear()
            pid = shim.start()
        except BaseException:
            try:
                shim.delete(force=True)
            except Exception:
                log.warning("cannot delete the shim of %s after a failed start", rec.id, exc_info=True)
            raise
        rec.state = type(rec.state)(status=st.RUNNING, pid=pid, started_at=now(),
                                    finished_at=rec.state.finished_at, health=rec.state.health)
        rec.manually_stopped = False
        rec.save()
        live.shim = shim
        live.exited.clear()
        container_event(self.events, rec, "start")
        self.watch(rec, live, shim)
        if self.on_start is not None:
            self.on_start(rec)

    def runtime_root(self, name: str) -> str:
        return os.path.join(self.settings.exec_root, "runtime", name)

    def _namespace_paths(self, rec: ContainerRecord) -> dict[str, str]:
        out = {}
        for ns, key in _MODE_KEYS.items():
            mode = str(rec.host_config.get(key) or "")
            if not mode.startswith("container:"):
                continue
            target = self._lookup(mode.split(":", 1)[1])
            if target.state.status != st.RUNNING or not target.state.pid:
                raise errdefs.Conflict(f"cannot join {ns} namespace of a non running container: {target.id}")
            out[ns] = f"/proc/{target.state.pid}/ns/{_NS_FILES[ns]}"
        return out

    def fail_pending(self, live: Live, exc: BaseException | None) -> None:
        """Attaches waiting for a start that will not come get nothing (their streams close)."""
        pending, live.pending = live.pending, []
        for p in pending:
            p.callback(None, exc)

    def _cleanup_after_failed_start(self, rec: ContainerRecord) -> None:
        try:
            layers.unmount(os.path.join(self.bundle(rec.id), "rootfs"))
        except Exception:
            log.warning("cannot unmount the rootfs of %s", rec.id, exc_info=True)
        shutil.rmtree(self.state_dir(rec.id), ignore_errors=True)

    # --- exit -------------------------------------------------------------------------
    def watch(self, rec: ContainerRecord, live: Live, shim: ShimClient) -> None:
        threading.Thread(target=self._watch, args=(rec, live, shim), name=f"wait-{rec.id[:12]}",
                         daemon=True).start()

    def _watch(self, rec: ContainerRecord, live: Live, shim: ShimClient) -> None:
        exit_status: ExitStatus | None = None
        error = ""
        try:
            exit_status = shim.wait(timeout=None)
        except Exception as exc:
            log.warning("lost the shim of %s while waiting: %s", rec.id, exc)
            exit_status = read_exit(self.state_dir(rec.id))
            if exit_status is None:
                error = f"shim lost: {exc}"
        self.finish(rec, live, exit_status, error)

    def finish(self, rec: ContainerRecord, live: Live, exit_status: ExitStatus | None, error: str = "") -> None:
        """Record the exit, release the shim and the mounts, wake waiters."""
        with live.lock:
            shim, live.shim = live.shim, None
            deleted = False
            if shim is not None:
                try:
                    shim_pid = shim.shim_pid
                except (OSError, ValueError):
                    shim_pid = 0
                try:
                    shim.delete(force=True)
                    deleted = True
                    wait_gone(shim_pid)  # it removes its state dir as it exits: let a restart reuse it
                except Exception as exc:
                    log.info("shim of %s already gone at delete: %s", rec.id, exc)
            if not deleted and os.path.exists(self.state_dir(rec.id)):
                self.runtime_delete(rec)
                shutil.rmtree(self.state_dir(rec.id), ignore_errors=True)
            self._cleanup_after_failed_start(rec)
            code = exit_status.exit_code if exit_status is not None else 255
            rec.state.status = st.EXITED
            rec.state.pid = 0
            rec.state.exit_code = code
            rec.state.error = error
            rec.state.oom_killed = bool(exit_status and exit_status.oom_killed)
            rec.state.finished_at = exit_status.exited_at if exit_status is not None else now()
            rec.save()
            exit_events(self.events, rec)
            live.fire(("not-running", "next-exit"), code, error)
            live.exited.set()
        self._on_exit(rec, live)

    def runtime_delete(self, rec: ContainerRecord) -> None:
        """Clear the runtime's state of a container whose shim is gone (best effort)."""
        name, path = self.settings.runtime_for(rec.runtime)
        subprocess.run([path, "--root", self.runtime_root(name), "delete", "--force", rec.id],
                       capture_output=True, check=False, timeout=30)

    # --- signals ------------------------------------------------------------------------
    def kill(self, rec: ContainerRecord, sig: int | str) -> None:
        number = parse_signal(sig)
        live = self.live(rec.id)
        if self._cancel_restart(rec, live):
            return
        shim = live.shim
        if shim is None or not st.is_active(rec.state.status):
            raise errdefs.Conflict(f"Container {rec.id} is not running")  # the service names the container
        self._mark_stopped_by_user(rec, live)
        container_event(self.events, rec, "kill", signal=str(number))
        try:
            shim.kill(number)
        except errdefs.Conflict:
            pass  # exited meanwhile
        if number == 9 and rec.state.status == st.PAUSED:  # a frozen process dies once thawed
            try:
                self.pause(rec, False)
            except errdefs.Conflict:
                pass

    def stop(self, rec: ContainerRecord, timeout: int | None, sig: str | None) -> None:
        live = self.live(rec.id)
        if self._cancel_restart(rec, live):
            container_event(self.events, rec, "stop")
            return
        if not st.is_active(rec.state.status) or live.shim is None:
            raise errdefs.NotModified(f"Container {rec.id} is not running")
        self._mark_stopped_by_user(rec, live)
        sig = sig or str(rec.config.get("StopSignal") or "SIGTERM")
        if timeout is None:
            configured = rec.config.get("StopTimeout")
            timeout = configured if isinstance(configured, int) else 10
        self.kill_and_wait(rec, live, sig, timeout)
        container_event(self.events, rec, "stop")

    @staticmethod
    def _mark_stopped_by_user(rec: ContainerRecord, live: Live) -> None:
        """Saved before the signal goes: a daemon killed right after must not restart it."""
        with live.lock:
            if not rec.manually_stopped:
                rec.manually_stopped = True
                rec.save()

    def _cancel_restart(self, rec: ContainerRecord, live: Live) -> bool:
        """A container waiting to be restarted just stays exited."""
        with live.lock:
            if rec.state.status != st.RESTARTING:
                return False
            rec.manually_stopped = True
            rec.state.status = st.EXITED
            rec.save()
            live.exited.set()
            return True

    def kill_and_wait(self, rec: ContainerRecord, live: Live, sig: int | str, timeout: float) -> None:
        self._mark_stopped_by_user(rec, live)
        if self._cancel_restart(rec, live):
            return
        shim = live.shim
        if shim is None:
            return
        container_event(self.events, rec, "kill", signal=str(parse_signal(sig)))
        try:
            shim.kill(parse_signal(sig))
        except (errdefs.Conflict, errdefs.Unavailable):
            pass
        if rec.state.status == st.PAUSED:  # a frozen process gets its signal once thawed
            try:
                self.pause(rec, False)
            except errdefs.Conflict:
                pass
        if timeout < 0:
            live.exited.wait()
            return
        if live.exited.wait(timeout):
            return
        log.info("container %s did not stop after %ss: killing it", rec.id[:12], timeout)
        container_event(self.events, rec, "kill", signal="9")
        try:
            shim.kill(9)
        except (errdefs.Conflict, errdefs.Unavailable):
            pass
        if not live.exited.wait(30):
            raise errdefs.System(f"container {rec.id} did not exit after SIGKILL")

    # --- waits and attach ---------------------------------------------------------------
    def wait(self, rec: ContainerRecord, condition: str, callback: WaitCallback) -> None:
        if condition not in WAIT_CONDITIONS:
            raise errdefs.InvalidArgument(f'invalid condition: "{condition}"')
        live = self.live(rec.id)
        with live.lock:
            if condition == "not-running" and not st.is_active(rec.state.status):
                code, error = rec.state.exit_code, rec.state.error
            else:
                live.waiters.append((condition, callback))
                return
        callback(code, error)

    def attach(self, rec: ContainerRecord, stdin: bool, stdout: bool, stderr: bool,
               callback: AttachCallback) -> None:
        """Deliver an attach socket now (running) or at start (created); None once it has run."""
        live = self.live(rec.id)
        with live.lock:
            if rec.state.status in (st.CREATED, st.EXITED) and live.shim is None:  # served at the next start
                live.pending.append(PendingAttach(stdin, stdout, stderr, callback))
                return
            shim = live.shim
        if shim is None:
            callback(None, None)
            return
        try:
            sock = shim.attach(stdin=stdin, stdout=stdout, stderr=stderr,
                               close_stdin=bool(rec.config.get("StdinOnce", True)))
        except errdefs.Conflict:
            callback(None, None)
            return
        except Exception as exc:
            callback(None, exc)
            return
        callback(sock, None)

    def pause(self, rec: ContainerRecord, pause: bool) -> None:
        live = self.live(rec.id)
        with live.lock:
            shim = live.shim
            if shim is None or not st.is_active(rec.state.status):
                raise errdefs.Conflict(f"Container {rec.id} is not running")
            if pause and rec.state.status == st.PAUSED:
                raise errdefs.Conflict(f"Container {rec.id} is already paused")
            if not pause and rec.state.status != st.PAUSED:
                raise errdefs.Conflict(f"Container {rec.id} is not paused")
            target = st.PAUSED if pause else st.RUNNING
            st.check(rec.state.status, target, rec.id)
            if pause:
                shim.pause()
            else:
                shim.resume()
            rec.state.status = target
            rec.save()

    def resize(self, rec: ContainerRecord, height: int, width: int) -> None:
        shim = self.live(rec.id).shim
        if shim is None:
            raise errdefs.Conflict(f"Container {rec.id} is not running")
        if rec.tty:  # without a terminal there is nothing to size (containerd answers success too)
            shim.resize(height, width)

    # --- after a daemon restart ---------------------------------------------------------
    def recover(self, rec: ContainerRecord) -> None:
        live = self.live(rec.id)
        if rec.state.status == st.RESTARTING:  # the daemon died during the back-off
            rec.state.status = st.EXITED
            rec.save()
            self._on_exit(rec, live)
            return
        if not st.is_active(rec.state.status):
            with live.lock:
                self._cleanup_after_failed_start(rec)
            return
        try:
            shim = ShimClient.connect(self.state_dir(rec.id))
            shim_state = shim.state()
        except Exception as exc:
            log.info("container %s: shim gone (%s); reading its exit record", rec.id[:12], exc)
            recorded = read_exit(self.state_dir(rec.id))
            self.finish(rec, live, recorded, "" if recorded else "the shim exited without recording an exit status")
            return
        if shim_state.status == "stopped":
            live.shim = shim
            self.finish(rec, live, shim_state.exit, "")
            return
        live.shim = shim
        live.exited.clear()
        if shim_state.status == "paused":
            rec.state.status = st.PAUSED
        log.info("container %s: reconnected to its shim (pid %d)", rec.id[:12], shim_state.pid)
        self.watch(rec, live, shim)
        if self.on_start is not None:
            self.on_start(rec)
