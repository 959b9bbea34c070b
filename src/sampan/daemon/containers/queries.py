"""The read-only side of the container service: inspect, list, sizes, top, stats, changes.

A mixin of `ContainerService` (the routes see one backend); it only reads records, layers
and cgroups, and publishes the `top` event.
"""

from __future__ import annotations

from typing import Any

from sampan import errdefs
from sampan.daemon.containers import layers, views
from sampan.daemon.containers import state as st
from sampan.daemon.containers.execs import ExecService
from sampan.daemon.containers.filters import PS_FILTERS
from sampan.daemon.containers.filters import check as check_filters
from sampan.daemon.containers.fsviews import ContainerFS
from sampan.daemon.containers.record import ContainerRecord
from sampan.daemon.containers.sizes import layers_below
from sampan.daemon.containers.store import ContainerStore
from sampan.daemon.events import EventBus, container_event


class ContainerQueries:
    """Needs the attributes below, set by ContainerService.__init__."""

    store: ContainerStore
    snapshots: layers.LayerStore
    fs: ContainerFS
    execs: ExecService
    events: EventBus
    images: Any

    def inspect(self, ref: str, size: bool = False) -> dict[str, Any]:
        rec = self.store.get(ref)
        out = self._with_sizes(lambda r, rw: views.inspect(r, rw, self.fs.graph_data(r)), rec, size)
        out["ExecIDs"] = self.execs.ids_for(rec.id) or None
        return out

    def list_containers(self, *, all: bool = False, limit: int = -1, size: bool = False,
                        filters: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
        checked = check_filters(filters, PS_FILTERS, self.store.get, self._image_id)
        recs = sorted(self.store.all(), key=lambda r: r.created_ns, reverse=True)
        if not all and limit <= 0 and "status" not in checked.filters:  # a status filter implies all, as dockerd
            recs = [r for r in recs if st.is_active(r.state.status)]
        recs = [r for r in recs if checked.match(r)]
        if limit > 0:
            recs = recs[:limit]
        return [self._with_sizes(views.summary, r, size) for r in recs]

    def _with_sizes(self, view: Any, rec: ContainerRecord, size: bool) -> dict[str, Any]:
        """SizeRw: the rw layer; SizeRootFs: every file the container sees (image layers too)."""
        if not size:
            return dict(view(rec, None))
        rw = self._size_rw(rec)
        out = dict(view(rec, rw))
        out["SizeRootFs"] = rw + layers_below(self.snapshots, rec.id)
        return out

    def _image_id(self, name: str) -> str | None:
        try:
            return str(self.images.resolve_image(name).id)
        except errdefs.NotFound:
            return None

    def _size_rw(self, rec: ContainerRecord) -> int:
        try:
            return int(self.snapshots.usage(rec.id))
        except Exception:
            return 0

    def top(self, ref: str, ps_args: str = "") -> dict[str, Any]:
        from sampan.daemon.containers.top import top

        rec = self.store.get(ref)
        if rec.state.status not in (st.RUNNING, st.PAUSED) or not rec.state.pid:
            raise errdefs.Conflict(f"Container {rec.id} is not running")
        result = top(rec.state.pid, ps_args)
        container_event(self.events, rec, "top")
        return result

    def stats(self, ref: str) -> dict[str, Any]:
        """One sample (zeros for a container that does not run), named like Docker's."""
        from sampan.daemon.containers import stats

        rec = self.store.get(ref)
        if rec.state.status in (st.RUNNING, st.PAUSED) and rec.state.pid:
            return stats.sample(rec.state.pid, "/" + rec.name, rec.id)
        return stats.empty_stats("/" + rec.name, rec.id)

    def changes(self, ref: str) -> list[dict[str, Any]]:
        return self.fs.changes(self.store.get(ref))

    def counts(self) -> dict[str, int]:
        recs = self.store.all()
        running = sum(1 for r in recs if r.state.status in (st.RUNNING, st.RESTARTING))
        paused = sum(1 for r in recs if r.state.status == st.PAUSED)
        return {"Containers": len(recs), "ContainersRunning": running, "ContainersPaused": paused,
                "ContainersStopped": len(recs) - running - paused}

    def image_users(self, image_id: str) -> list[tuple[str, bool]]:
        return [(r.id, st.is_active(r.state.status)) for r in self.store.all() if r.image_id == image_id]
