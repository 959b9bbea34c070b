"""The container service behind the container routes: create, start, stop, remove, list, ...

Methods are synchronous (the HTTP edge runs them in worker threads) except `wait` and
`attach`, which take callbacks so that a waiting client holds no thread.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import time
from typing import Any, BinaryIO, Protocol

from sampan import errdefs
from sampan.api.containers import CreateResponse, PruneReport
from sampan.daemon.containers import files, health, layers, merge, names, restart, signals, unsupported, views
from sampan.daemon.containers import state as st
from sampan.daemon.containers.execs import ExecService
from sampan.daemon.containers.filters import PRUNE_FILTERS
from sampan.daemon.containers.filters import check as check_filters
from sampan.daemon.containers.fsviews import ContainerFS
from sampan.daemon.containers.health import HealthMonitor, exec_prober
from sampan.daemon.containers.lifecycle import WAIT_CONDITIONS, Lifecycle
from sampan.daemon.containers.live import AttachCallback, Live, WaitCallback, now
from sampan.daemon.containers.logs import LogCursor, LogOptions, parse_since, parse_tail
from sampan.daemon.containers.platform_match import check_platform
from sampan.daemon.containers.queries import ContainerQueries
from sampan.daemon.containers.record import ContainerRecord, State
from sampan.daemon.containers.settings import ContainerSettings
from sampan.daemon.containers.store import ContainerStore
from sampan.daemon.events import CONTAINER, EventBus, container_event, prune_event
from sampan.shim.protocol import parse_signal

log = logging.getLogger(__name__)


class Images(Protocol):
    """What the container service needs of the image service."""

    @property
    def snapshots(self) -> layers.LayerStore: ...

    def resolve_image(self, name: str) -> Any: ...


class ContainerService(ContainerQueries):
    def __init__(self, settings: ContainerSettings, images: Images, events: EventBus | None = None) -> None:
        self.settings = settings
        self.events = events if events is not None else EventBus()
        self.images = images
        self.snapshots = images.snapshots
        self.store = ContainerStore(os.path.join(settings.data_root, "containers"))
        self.lifecycle = Lifecycle(settings, self.snapshots, self.store.get, self._exited)
        self.lifecycle.events = self.events
        self.fs = ContainerFS(self.snapshots, self.lifecycle)
        self.execs = ExecService(self)
        self.health = HealthMonitor(exec_prober(self.execs),
                                    lambda rec, status: container_event(self.events, rec, f"health_status: {status}"))
        self.lifecycle.on_start = self.health.watch
        self.restarts = restart.RestartScheduler(self.lifecycle, self.store.get)

    @classmethod
    def open(cls, settings: ContainerSettings, images: Images, events: EventBus | None = None) -> ContainerService:
        """Load the records and find running containers' shims again."""
        svc = cls(settings, images, events)
        records = svc.store.load()
        for cid in layers.orphans(svc.snapshots, {r.id for r in records}):
            log.info("removing the layers of container %s, created without a record", cid[:12])
            layers.remove(svc.snapshots, cid)
        for rec in records:
            rec.mount_point = os.path.join(svc.lifecycle.bundle(rec.id), "rootfs")
            try:
                if rec.state.status == st.REMOVING:
                    svc._remove_files(rec, svc.lifecycle.live(rec.id))
                    continue
                svc.lifecycle.recover(rec)
            except Exception:
                log.exception("cannot recover container %s", rec.id)
        svc.restarts.start_at_boot(records, svc.start)
        return svc

    # --- create -------------------------------------------------------------------------
    def create(self, name: str, body: dict[str, Any], platform: str = "") -> CreateResponse:
        from sampan.daemon.containers.spec import apply_host_defaults, validate_config, validate_host_config

        if not isinstance(body, dict):
            raise errdefs.InvalidArgument("Config cannot be empty in order to create a container")
        config = {k: v for k, v in body.items() if k not in ("HostConfig", "NetworkingConfig")}
        host_config = dict(body.get("HostConfig") or {})
        image_name = str(config.get("Image") or "")
        if not image_name:
            raise errdefs.InvalidArgument("No image specified")
        if name:
            name = names.validate(name)
        self.settings.runtime_for(str(host_config.get("Runtime") or ""))
        validate_host_config(host_config)
        warnings = unsupported.check_create(host_config)
        signals.check_stop_signal(config)
        validate_config(config, host_config)
        health.validate(config)
        host_config = apply_host_defaults(host_config)
        image = self.images.resolve_image(image_name)
        check_platform(platform, image_name, image.config.raw)
        image_config = dict(image.config.raw.get("config") or {})
        merged = merge.merge_config(config, image_config)
        path, args = merge.command(merged)
        cid = _new_id()
        if name:
            self.store.reserve(name, cid)
        else:
            name = self._reserve_generated(cid)
        directory = os.path.join(self.store.root, cid)
        try:
            host_config.setdefault("NetworkMode", "default")
            host_config["Runtime"] = self.settings.runtime_for(str(host_config.get("Runtime") or ""))[0]
            host_config.setdefault("LogConfig", {"Type": "json-file", "Config": {}})
            os.makedirs(directory, mode=0o710)
            layers.create(self.snapshots, cid, image.chain_id)
            merged["Hostname"] = files.write_files(directory, container_id=cid, config=merged,
                                                   host_config=host_config)
            merged.setdefault("Domainname", "")
            ns = time.time_ns()
            rec = ContainerRecord(
                id=cid, name=name, created=views.rfc3339(ns), created_ns=ns, image_id=image.id,
                image_name=image_name, path=path, args=args, config=merged, host_config=host_config,
                image_config=image_config, driver=_driver_name(self.snapshots), platform="linux",
                runtime=self.settings.runtime_for(str(host_config.get("Runtime") or ""))[0],
                dir=directory, mount_point=os.path.join(self.lifecycle.bundle(cid), "rootfs"),
            )
            rec.save()
            self.store.add(rec)
            container_event(self.events, rec, "create")
        except BaseException:
            self.store.release(name, cid)
            layers.remove(self.snapshots, cid)
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return CreateResponse(cid, warnings)

    def _reserve_generated(self, cid: str) -> str:
        for _ in range(10):
            name = names.generate(self.store.name_taken)
            try:
                self.store.reserve(name, cid)
                return name
            except errdefs.Conflict:
                continue
        raise errdefs.System("cannot reserve a generated container name")

    # --- lifecycle ----------------------------------------------------------------------
    def start(self, ref: str) -> None:
        rec = self.store.get(ref)
        unsupported.check_start(rec.host_config)
        self.restarts.reset(rec)
        try:
            self.lifecycle.start(rec)
        except (errdefs.NotModified, errdefs.Conflict):
            raise
        except Exception:
            if rec.host_config.get("AutoRemove"):  # as dockerd: `run --rm` of a failed start leaves nothing
                live = self.lifecycle.live(rec.id)
                with live.lock:
                    if rec.state.status == st.CREATED:
                        self._remove_locked(rec, live)
            raise

    def stop(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        rec = self.store.get(ref)
        if signal and st.is_active(rec.state.status):  # dockerd parses it only for a running container
            signals.check_for_stop(signal, f"cannot stop container: {ref}: ")
        self.lifecycle.stop(rec, timeout, signals.stop_signal(signal, rec.config))

    def kill(self, ref: str, signal: str = "SIGKILL") -> None:
        """As dockerd: the signal is checked first, and every error names the container as asked."""
        signal = signals.normalize(signal or "SIGKILL")
        try:
            parse_signal(signal)
            self.lifecycle.kill(self.store.get(ref), signal)
        except errdefs.SampanError as exc:
            raise type(exc)(f"Cannot kill container: {ref}: {exc}") from None

    def restart(self, ref: str, timeout: int | None = None, signal: str | None = None) -> None:
        rec = self.store.get(ref)
        if signal and st.is_active(rec.state.status):
            signals.check_for_stop(signal, f"Cannot restart container {ref}: ")
        try:
            self.lifecycle.stop(rec, timeout, signals.stop_signal(signal, rec.config))
        except errdefs.NotModified:
            pass
        self.restarts.reset(rec)
        self.lifecycle.start(rec)
        container_event(self.events, rec, "restart")

    def wait(self, ref: str, condition: str, callback: WaitCallback) -> None:
        condition = condition or "not-running"
        if condition not in WAIT_CONDITIONS:  # checked before the container is looked up, as dockerd
            raise errdefs.InvalidArgument(f'invalid condition: "{condition}"')
        self.lifecycle.wait(self.store.get(ref), condition, callback)

    def attach(self, ref: str, *, stdin: bool, stdout: bool, stderr: bool, callback: AttachCallback) -> bool:
        """Start attaching; returns whether the container has a tty (raw stream)."""
        rec = self.store.get(ref)
        self.lifecycle.attach(rec, stdin, stdout, stderr, callback)
        container_event(self.events, rec, "attach")
        return rec.tty

    def rename(self, ref: str, new_name: str) -> None:
        if not new_name:
            raise errdefs.InvalidArgument("Neither old nor new names may be empty")
        rec = self.store.get(ref)
        name = names.validate(new_name)
        if name == rec.name:
            raise errdefs.InvalidArgument("Renaming a container with the same name as its current name")
        live = self.lifecycle.live(rec.id)
        with live.lock:
            try:
                self.store.reserve(name, rec.id)
            except errdefs.Conflict as exc:
                raise errdefs.Conflict(f"Error when allocating new name: {exc}") from None
            old, rec.name = rec.name, name
            try:
                rec.save()
            except BaseException:
                rec.name = old
                self.store.release(name, rec.id)
                raise
            self.store.release(old, rec.id)
        container_event(self.events, rec, "rename", oldName="/" + old)

    def update(self, ref: str, body: dict[str, Any]) -> Any:
        """POST /containers/{id}/update: resources and restart policy (see update.py)."""
        from sampan.daemon.containers import update

        rec = self.store.get(ref)
        name, path = self.settings.runtime_for(rec.runtime)
        with self.lifecycle.live(rec.id).lock:
            result = update.update_container(rec, body, path, self.lifecycle.runtime_root(name))
        container_event(self.events, rec, "update")
        return result

    def export(self, ref: str, out: BinaryIO) -> None:
        rec = self.store.get(ref)
        self.fs.export(rec, out)
        container_event(self.events, rec, "export")

    def archive_stat(self, ref: str, path: str) -> dict[str, Any]:
        return self.fs.archive_stat(self.store.get(ref), path, ref)

    def archive_get(self, ref: str, path: str, out: BinaryIO) -> None:
        rec = self.store.get(ref)
        self.fs.archive_get(rec, path, out, ref)
        container_event(self.events, rec, "archive-path")

    def archive_put(self, ref: str, path: str, stream: BinaryIO, *, no_overwrite_dir_non_dir: bool = False,
                    copy_uid_gid: bool = False) -> None:
        rec = self.store.get(ref)
        self.fs.archive_put(rec, path, stream, ref, no_overwrite_dir_non_dir=no_overwrite_dir_non_dir,
                            copy_uid_gid=copy_uid_gid)
        container_event(self.events, rec, "extract-to-dir")

    def pause(self, ref: str) -> None:
        rec = self.store.get(ref)
        if rec.state.status == st.RESTARTING:
            raise errdefs.Conflict(f"Container {rec.id} is restarting, wait until the container is running")
        self.lifecycle.pause(rec, True)
        container_event(self.events, rec, "pause")

    def unpause(self, ref: str) -> None:
        rec = self.store.get(ref)
        if rec.state.status != st.PAUSED:  # a plain error (500) in dockerd, running or not
            raise errdefs.System(f"Container {rec.id} is not paused")
        self.lifecycle.pause(rec, False)
        container_event(self.events, rec, "unpause")

    def resize(self, ref: str, height: int, width: int) -> None:
        rec = self.store.get(ref)
        self.lifecycle.resize(rec, height, width)
        container_event(self.events, rec, "resize", height=str(height), width=str(width))

    def open_logs(self, ref: str, *, stdout: bool, stderr: bool, since: str, until: str, timestamps: bool,
                  tail: str) -> LogCursor:
        rec = self.store.get(ref)
        opts = LogOptions(stdout=stdout, stderr=stderr, since=parse_since(since), until=parse_since(until),
                          timestamps=timestamps, tail=parse_tail(tail), tty=rec.tty)
        return LogCursor(rec.log_path, opts, lambda: st.is_active(rec.state.status))

    # --- remove -------------------------------------------------------------------------
    def remove(self, ref: str, *, force: bool = False, volumes: bool = False) -> None:
        rec = self.store.get(ref)
        live = self.lifecycle.live(rec.id)
        if st.is_active(rec.state.status):
            if not force:
                raise errdefs.Conflict(f"You cannot remove a running container {rec.id}. Stop the container "
                                       "before attempting removal or force remove")
            self.lifecycle.kill_and_wait(rec, live, 9, 30)
        with live.lock:
            if rec.state.status == st.REMOVING:
                raise errdefs.Conflict(f"removal of container {rec.id} is already in progress")
            try:
                self.store.get(rec.id)
            except errdefs.NotFound:
                return  # AutoRemove got there first
            if st.is_active(rec.state.status):
                raise errdefs.Conflict(f"container {rec.id} started again during removal")
            self._remove_locked(rec, live)

    def _remove_locked(self, rec: ContainerRecord, live: Live) -> None:
        previous = rec.state.status
        rec.state.status = st.REMOVING
        rec.save()
        try:
            self._remove_files(rec, live)
        except BaseException:
            rec.state.status = previous
            rec.save()
            raise

    def _remove_files(self, rec: ContainerRecord, live: Live) -> None:
        layers.unmount(rec.mount_point)
        layers.remove(self.snapshots, rec.id)
        shutil.rmtree(self.lifecycle.bundle(rec.id), ignore_errors=True)
        shutil.rmtree(self.lifecycle.state_dir(rec.id), ignore_errors=True)
        shutil.rmtree(rec.dir, ignore_errors=True)
        self.store.drop(rec)
        container_event(self.events, rec, "destroy")
        self.lifecycle.fail_pending(live, None)
        live.fire(("not-running", "next-exit", "removed"), rec.state.exit_code, rec.state.error)
        self.lifecycle.forget(rec.id)

    def _exited(self, rec: ContainerRecord, live: Live) -> None:
        self.health.unwatch(rec.id)
        if self.restarts.after_exit(rec, live):
            return
        if not rec.host_config.get("AutoRemove"):
            return
        with live.lock:
            if rec.state.status != st.EXITED:
                return
            try:
                self.store.get(rec.id)
            except errdefs.NotFound:
                return
            try:
                self._remove_locked(rec, live)
            except Exception:
                log.exception("auto-remove of %s failed", rec.id)

    def prune(self, filters: dict[str, list[str]] | None = None) -> PruneReport:
        checked = check_filters(filters, PRUNE_FILTERS, self.store.get, self._image_id)
        deleted, reclaimed = [], 0
        for rec in self.store.all():
            if rec.state.status not in (st.EXITED, st.CREATED, st.DEAD):
                continue
            if not checked.match(rec):
                continue
            size = self._size_rw(rec)
            try:
                self.remove(rec.id)
            except errdefs.SampanError as exc:
                log.warning("prune: cannot remove %s: %s", rec.id, exc)
                continue
            deleted.append(rec.id)
            reclaimed += size
        prune_event(self.events, CONTAINER, reclaimed)
        return PruneReport(deleted, reclaimed)

    def close(self) -> None:
        """Leave the shims running (live restore); only the daemon's threads go."""
        self.health.close()


def _new_id() -> str:
    while True:
        cid = secrets.token_hex(32)
        if not cid[:12].isdigit():
            return cid


def _driver_name(snapshots: object) -> str:
    name = str(getattr(snapshots, "driver_name", "") or "")
    return {"overlay": "overlay2", "native": "vfs"}.get(name, name or "overlay2")



__all__ = ["ContainerService", "State", "now"]
