"""The image service the daemon calls: pull, list, inspect, history, tag, delete, prune.

It ties together the content store (blobs), the snapshotter (layers by chain ID) and the
metadata store (images, tags, digests). Methods are synchronous and thread-safe; the HTTP
edge runs them in worker threads.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sampan.api.images import (
    DeleteItem,
    HistoryItem,
    ImageDiskUsage,
    ImageInspect,
    ImageSummary,
    PruneReport,
)
from sampan.api.progress import JSONMessage
from sampan.daemon.events import IMAGE, EventBus, image_attributes, prune_event
from sampan.daemon.image_events import ImageIndex, publish_deletions
from sampan.daemon.images import filters as flt
from sampan.daemon.images import views
from sampan.daemon.images.deletion import ContainerUsers, Deleter
from sampan.daemon.images.deps import ApplyLayer, Content, RegistryFactory, Snapshotter
from sampan.daemon.images.flight import Flights
from sampan.daemon.images.leases import Leases
from sampan.daemon.images.names import familiar, resolve
from sampan.daemon.images.progress import PullProgress
from sampan.daemon.images.pull import Puller
from sampan.errdefs import InvalidArgument, NotFound
from sampan.oci import reference
from sampan.oci.image import ImageConfig, Platform
from sampan.store.metadata import ImageRow, MetadataStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageRecord:
    """What the container service needs of an image."""

    id: str
    config: ImageConfig
    chain_id: str | None  # top layer's chain ID (None for an image without layers)
    diff_ids: tuple[str, ...]
    repo_tags: tuple[str, ...]


class ImageService:
    """Pull, list, inspect, tag, delete and prune images. Thread-safe."""

    def __init__(
        self, *, content: Content, snapshots: Snapshotter, meta: MetadataStore,
        registry_factory: RegistryFactory, apply_layer: ApplyLayer, max_concurrent_downloads: int = 3,
        events: EventBus | None = None,
    ) -> None:
        self.content, self.snapshots, self.meta = content, snapshots, meta
        self.events = events if events is not None else EventBus()
        self._registry_factory = registry_factory
        self._pool = ThreadPoolExecutor(max(1, max_concurrent_downloads), thread_name_prefix="pull")
        self._leases = Leases()
        self._puller = Puller(
            content=content, snapshots=snapshots, meta=meta, flights=Flights(), pool=self._pool,
            apply_layer=apply_layer, leases=self._leases, max_downloads=max(1, max_concurrent_downloads),
        )
        self._deleter = Deleter(content=content, snapshots=snapshots, meta=meta, leases=self._leases)

    @classmethod
    def open(
        cls,
        data_root: str,
        *,
        insecure_registries: Sequence[str] = (),
        storage_driver: str = "auto",
        max_concurrent_downloads: int = 3,
        events: EventBus | None = None,
    ) -> ImageService:
        """Open (creating as needed) the stores under `data_root` and repair what a crash left."""
        from sampan.archive import apply_layer
        from sampan.distribution import RegistryClient
        from sampan.snapshot import new_snapshotter
        from sampan.store.content import ContentStore

        os.makedirs(data_root, mode=0o711, exist_ok=True)
        content = ContentStore(os.path.join(data_root, "content"))
        snapshots = new_snapshotter(os.path.join(data_root, "snapshots"), storage_driver)
        meta = MetadataStore(os.path.join(data_root, "metadata.db"))
        insecure = tuple(insecure_registries)

        def registry_factory(auth: Any) -> Any:
            return RegistryClient(insecure_registries=insecure, auth=auth)

        svc = cls(content=content, snapshots=snapshots, meta=meta, registry_factory=registry_factory,
                  apply_layer=apply_layer, max_concurrent_downloads=max_concurrent_downloads, events=events)
        svc.recover()
        return svc

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.meta.close()
        close = getattr(self.snapshots, "close", None)
        if callable(close):
            close()

    def recover(self) -> None:
        """Drop half-extracted snapshots and any record whose layers are gone (crash leftovers)."""
        for info in list(self.snapshots.walk()):
            if info.kind != "committed" and info.name.startswith("extract-"):
                log.info("removing unfinished layer extraction %s", info.name)
                try:
                    self.snapshots.remove(info.name)
                except Exception:
                    log.warning("cannot remove snapshot %s", info.name, exc_info=True)
        self._drop_unrecorded_layers()
        missing = {row.chain_id for row in self.meta.layers() if not self.snapshots.exists(row.chain_id)}
        for img in self.meta.images():
            if not self.content.has(img.id):
                log.warning("image %s lost its config; removing its record", img.id)
                self.meta.delete_image(img.id)
            elif missing.intersection(img.chain_ids):
                log.warning("image %s lost layers %s; removing its record", img.id,
                            sorted(missing.intersection(img.chain_ids)))
                self.meta.delete_image(img.id)
        while missing:
            leaves = [r.chain_id for r in self.meta.unreferenced_layers() if r.chain_id in missing]
            if not leaves:
                break
            for chain in leaves:
                self.meta.delete_layer(chain)
                missing.discard(chain)

    def _drop_unrecorded_layers(self) -> None:
        """Committed layer snapshots without a row (killed between commit and record) go."""
        recorded = {row.chain_id for row in self.meta.layers()}
        tried: set[str] = set()
        while True:
            infos = list(self.snapshots.walk())
            parents = {i.parent for i in infos if i.parent}
            stray = [i.name for i in infos if i.kind == "committed" and i.name.startswith("sha256:")
                     and i.name not in recorded and i.name not in parents and i.name not in tried]
            if not stray:
                return
            for name in stray:
                tried.add(name)
                log.info("removing unrecorded layer snapshot %s", name)
                try:
                    self.snapshots.remove(name)
                except Exception:  # never refuse to start over a leftover
                    log.warning("cannot remove layer snapshot %s", name, exc_info=True)

    # -- pull ------------------------------------------------------------------------------

    def pull(self, ref: str, *, platform: str | None, auth: Any,
             progress: Callable[[JSONMessage], None]) -> None:
        named = reference.parse(ref)
        if named.digest and named.tag:
            named = named.with_digest(named.digest)
        plat = Platform.parse(platform) if platform else None
        out = PullProgress(progress)
        registry = self._registry_factory(auth)
        try:
            result = self._puller.pull(registry, named, plat, out)
        finally:
            close = getattr(registry, "close", None)
            if callable(close):
                close()
        out.status(f"Digest: {result.digest}")
        verb = "Downloaded newer image for" if result.changed else "Image is up to date for"
        out.status(f"Status: {verb} {named.familiar()}")
        self.events.publish(IMAGE, "pull", named.familiar(), image_attributes(self._labels(result.image_id),
                                                                               named.familiar_name))

    def _labels(self, image_id: str) -> dict[str, str]:
        row = self.meta.get_image(image_id)
        return dict(row.labels) if row is not None else {}

    # -- queries ---------------------------------------------------------------------------

    def _refs(self, image_id: str) -> tuple[list[str], list[str]]:
        return self.meta.refs_of(image_id)

    def _row(self, name: str) -> ImageRow:
        row = self.meta.get_image(resolve(self.meta, name))
        if row is None:  # deleted between resolution and read
            raise NotFound(f"No such image: {name}")
        return row

    def _config(self, image_id: str) -> ImageConfig:
        return ImageConfig.from_bytes(self.content.read_bytes(image_id))

    def list_images(self, *, all: bool = False, filters: dict[str, list[str]] | None = None,
                    digests: bool = False) -> list[ImageSummary]:
        f = flt.validate(filters, flt.LIST_KEYS)
        dangling = flt.get_bool(f, "dangling", False) if f.get("dangling") else None
        before = min((self._row(n).created for n in f.get("before", [])), default=None)
        since = max((self._row(n).created for n in f.get("since", [])), default=None)
        until = min((flt.parse_timestamp(v) for v in f.get("until", [])), default=None)
        patterns = f.get("reference") or []
        out: list[ImageSummary] = []
        for img in self.meta.images():
            if before is not None and img.created >= before:
                continue
            if since is not None and img.created <= since:
                continue
            if until is not None and img.created > until:
                continue
            if not flt.match_labels(f, img.labels):
                continue
            tags, dgsts = self._refs(img.id)
            fam_tags = [t for t in (reference.parse_normalized_named(x) for x in tags)
                        if not patterns or any(flt.reference_matches(p, t.familiar(), t.familiar_name)
                                               for p in patterns)]
            fam_dgsts = [d for d in (reference.parse_normalized_named(x) for x in dgsts)
                         if not patterns or any(flt.reference_matches(p, d.familiar(), d.familiar_name)
                                                for p in patterns)]
            if not fam_tags and not fam_dgsts:
                if dangling is False or patterns:
                    continue
            elif dangling is True and fam_tags:
                continue
            out.append(views.summary(img, [t.familiar() for t in fam_tags], [d.familiar() for d in fam_dgsts]))
        return out

    def inspect_image(self, name: str) -> ImageInspect:
        img = self._row(name)
        tags, dgsts = self._refs(img.id)
        return views.inspect(img, self._config(img.id), tags, dgsts, self.snapshots.driver_name,
                             self._driver_data(img.top_chain_id))

    def _driver_data(self, chain: str | None) -> dict[str, str] | None:
        """overlay2-style dirs of the image's top layer, as dockerd reports them."""
        if chain is None or self.snapshots.driver_name != "overlay2":
            return None
        try:
            mounts = self.snapshots.mounts(chain)
        except Exception:
            return None
        dirs: list[str] = []
        for m in mounts:
            if m.type == "bind":
                dirs = [m.source]
            for opt in m.options:
                if opt.startswith("lowerdir="):
                    dirs = opt[len("lowerdir="):].split(":")
        if not dirs:
            return None
        top = os.path.dirname(dirs[0])
        data = {"MergedDir": os.path.join(top, "merged"), "UpperDir": dirs[0],
                "WorkDir": os.path.join(top, "work")}
        if len(dirs) > 1:
            data["LowerDir"] = ":".join(dirs[1:])
        return data

    def image_history(self, name: str) -> list[HistoryItem]:
        img = self._row(name)
        tags, _ = self._refs(img.id)
        sizes = []
        for chain in img.chain_ids:
            layer = self.meta.get_layer(chain)
            sizes.append(layer.size if layer else 0)
        return views.history(img, self._config(img.id), tags, sizes)

    def resolve_image(self, name: str) -> ImageRecord:
        img = self._row(name)
        config = self._config(img.id)
        tags, _ = self._refs(img.id)
        return ImageRecord(img.id, config, img.top_chain_id, tuple(config.diff_ids),
                           tuple(familiar(t) for t in tags))

    def image_count(self) -> int:
        return self.meta.image_count()

    def disk_usage(self) -> ImageDiskUsage:
        layers = {row.chain_id: row.size for row in self.meta.layers()}
        images = self.meta.images()
        users: dict[str, int] = {}
        for img in images:
            for chain in img.chain_ids:
                users[chain] = users.get(chain, 0) + 1
        out = []
        for img in images:
            tags, dgsts = self._refs(img.id)
            s = views.summary(img, [familiar(t) for t in tags], [familiar(d) for d in dgsts])
            s.shared_size = sum(layers.get(c, 0) for c in img.chain_ids if users.get(c, 0) > 1)
            s.containers = 0
            out.append(s)
        return ImageDiskUsage(sum(layers.values()), out)

    # -- changes ---------------------------------------------------------------------------

    def tag_image(self, name: str, repo: str, tag: str) -> None:
        image_id = resolve(self.meta, name)
        target = reference.parse_normalized_named(repo)
        if target.digest:
            raise InvalidArgument("refusing to create a tag with a digest reference")
        if tag:
            if not reference.is_valid_tag(tag):
                raise InvalidArgument("invalid tag format")
            target = target.with_tag(tag)
        elif not target.tag:
            target = target.with_tag(reference.DEFAULT_TAG)
        with self._leases.lock:  # serialised with rmi/prune so a new tag is never lost to a cascade
            if self.meta.get_image(image_id) is None:
                raise NotFound(f"No such image: {name}")
            self.meta.set_tag(str(target), image_id)
        self.events.publish(IMAGE, "tag", image_id, image_attributes(self._labels(image_id), target.familiar()))

    def delete_image(self, name: str, *, force: bool = False, noprune: bool = False) -> list[DeleteItem]:
        with self._leases.lock:
            index = ImageIndex.of(self.meta)
            items, _ = self._deleter.delete(name, force=force, noprune=noprune)
        publish_deletions(self.events, index, items, named=name)
        return items

    def set_container_users(self, users: ContainerUsers) -> None:
        """Let the container service say which containers use an image (rmi conflicts)."""
        self._deleter.container_users = users

    def prune_images(self, filters: dict[str, list[str]] | None = None) -> PruneReport:
        with self._leases.lock:
            index = ImageIndex.of(self.meta)
            report = self._deleter.prune(filters)
        publish_deletions(self.events, index, report.deleted)
        prune_event(self.events, IMAGE, report.space_reclaimed)
        return report
