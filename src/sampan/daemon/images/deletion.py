"""`docker rmi` and `docker image prune`, with Docker's untag/delete/conflict rules.

Removing an image deletes its record (tags and digests cascade) in one transaction, then
releases the layers nobody uses any more from the top down: the row goes first, then the
snapshot, so a crash in between leaves an unrecorded snapshot a later pull simply reuses.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from sampan.api.images import DeleteItem, PruneReport
from sampan.daemon.images import filters as flt
from sampan.daemon.images.deps import Content, Snapshotter
from sampan.daemon.images.leases import Leases
from sampan.daemon.images.names import familiar, is_id_prefix, repo_name, resolve
from sampan.errdefs import Conflict, NotFound, SampanError
from sampan.oci import reference
from sampan.store.metadata import LayerRow, MetadataStore

log = logging.getLogger(__name__)


def _is_single_reference(tags: list[str], digests: list[str]) -> bool:
    """Docker's rule: at most one tag, and all references within that one repository."""
    if len(tags) + len(digests) <= 1:
        return len(tags) + len(digests) == 1
    if len(tags) > 1:
        return False
    repos = {repo_name(d) for d in digests}
    single = repo_name(tags[0]) if tags else repo_name(digests[0])
    return len(repos) == 1 and single in repos


def _short(image_id: str) -> str:
    return image_id.split(":", 1)[-1][:12]


#: image ID -> [(container ID, running)] of the containers made from it (the container service's)
ContainerUsers = Callable[[str], list[tuple[str, bool]]]


def _no_users(image_id: str) -> list[tuple[str, bool]]:
    return []


def _conflict(image_id: str, hard: bool, why: str) -> Conflict:
    forced = "cannot be forced" if hard else "must be forced"
    return Conflict(f"conflict: unable to delete {_short(image_id)} ({forced}) - {why}")


class Deleter:
    def __init__(self, *, content: Content, snapshots: Snapshotter, meta: MetadataStore,
                 leases: Leases) -> None:
        self.content, self.snapshots, self.meta, self.leases = content, snapshots, meta, leases
        self.container_users: ContainerUsers = _no_users

    def _container_conflict(self, image_id: str, *, stopped_too: bool) -> Conflict | None:
        """Docker's order: a running container is a hard conflict, a stopped one a soft one."""
        users = self.container_users(image_id)
        for cid, running in users:
            if running:
                return _conflict(image_id, True, f"image is being used by running container {cid[:12]}")
        if stopped_too:
            for cid, _ in users:
                return _conflict(image_id, False, f"image is being used by stopped container {cid[:12]}")
        return None

    def delete(self, name: str, *, force: bool, noprune: bool) -> tuple[list[DeleteItem], list[LayerRow]]:
        image_id = resolve(self.meta, name)
        records: list[DeleteItem] = []
        tags, digests = self.meta.refs_of(image_id)
        if not is_id_prefix(image_id, name):
            parsed = reference.parse_normalized_named(name)
            ref = parsed.with_digest(parsed.digest) if parsed.digest else (
                parsed if parsed.tag else parsed.with_tag(reference.DEFAULT_TAG))
            self.meta.remove_ref(str(ref))
            records.append(DeleteItem(untagged=ref.familiar()))
            tags, digests = self.meta.refs_of(image_id)
            if not ref.digest and not any(repo_name(t) == ref.name for t in tags):
                # the last tag of a repository takes that repository's digests with it
                for d in list(digests):
                    if repo_name(d) == ref.name:
                        self.meta.remove_ref(d)
                        records.append(DeleteItem(untagged=familiar(d)))
                        digests.remove(d)
            if tags or digests:
                return records, []
            if self._container_conflict(image_id, stopped_too=not force) is not None:
                return records, []  # untagged; the containers keep the image itself
        elif _is_single_reference(tags, digests):
            conflict = self._container_conflict(image_id, stopped_too=not force)
            if conflict is not None:
                raise conflict
            for r in sorted(tags + digests, key=familiar):
                self.meta.remove_ref(r)
                records.append(DeleteItem(untagged=familiar(r)))
            tags, digests = [], []
        conflict = self._container_conflict(image_id, stopped_too=False)
        if conflict is None and (tags or digests) and not force:
            conflict = _conflict(image_id, False, "image is referenced in multiple repositories")
        if conflict is None and not force:
            conflict = self._container_conflict(image_id, stopped_too=True)
        if conflict is not None:
            raise conflict
        for r in sorted(tags + digests, key=familiar):
            self.meta.remove_ref(r)
            records.append(DeleteItem(untagged=familiar(r)))
        img = self.meta.get_image(image_id)
        chains = set(img.chain_ids) if img else set()
        with self.leases.lock:
            self.meta.delete_image(image_id)
            with contextlib.suppress(NotFound):
                self.content.delete(image_id)
        records.append(DeleteItem(deleted=image_id))
        removed: list[LayerRow] = []
        if not noprune:
            removed = self.release_layers(chains)
            records.extend(DeleteItem(deleted=row.chain_id) for row in removed)
        return records, removed

    def release_layers(self, candidates: set[str] | None) -> list[LayerRow]:
        """Remove unused layers (restricted to `candidates` if given), children before parents."""
        removed: list[LayerRow] = []
        skipped: set[str] = set()
        with self.leases.lock:
            while True:
                batch = [row for row in self.meta.unreferenced_layers()
                         if (candidates is None or row.chain_id in candidates)
                         and row.chain_id not in skipped and not self.leases.held(row.chain_id)]
                if not batch:
                    break
                for row in batch:
                    self.meta.delete_layer(row.chain_id)
                    try:
                        self.snapshots.remove(row.chain_id)
                    except NotFound:
                        pass
                    except SampanError as e:  # e.g. a container's layer builds on it
                        log.info("keeping layer %s: %s", row.chain_id, e)
                        self.meta.add_layer(row)
                        skipped.add(row.chain_id)
                        continue
                    removed.append(row)
            self._drop_blobs(removed)
        return removed

    def _drop_blobs(self, removed: list[LayerRow]) -> None:
        """Compressed blobs of layers that are gone (unless another layer has the same diff)."""
        if not removed:
            return
        live = {row.diff_id for row in self.meta.layers()}
        for row in removed:
            if row.diff_id in live:
                continue
            for blob, _repo in self.meta.dist_metadata(row.diff_id):
                with contextlib.suppress(NotFound):
                    self.content.delete(blob)

    def prune(self, filters: dict[str, list[str]] | None) -> PruneReport:
        f = flt.validate(filters, flt.PRUNE_KEYS)
        dangling_only = flt.get_bool(f, "dangling", True)
        until = min((flt.parse_timestamp(v) for v in f.get("until", [])), default=None)
        report = PruneReport()
        removed: list[LayerRow] = []
        for img in self.meta.images():
            if until is not None and img.created > until:
                continue
            if not flt.match_labels(f, img.labels, "label") or not flt.match_labels(f, img.labels, "label!"):
                continue
            tags, digests = self.meta.refs_of(img.id)
            names = (tags + digests) if (tags or digests) else [img.id.split(":", 1)[-1]]
            if tags and dangling_only:
                continue
            for name in names:
                try:
                    items, layers = self.delete(name, force=False, noprune=False)
                except (NotFound, Conflict) as e:
                    log.info("prune: keeping %s: %s", name, e)
                    continue
                report.deleted.extend(items)
                removed.extend(layers)
        orphans = self.release_layers(None)
        report.deleted.extend(DeleteItem(deleted=row.chain_id) for row in orphans)
        removed.extend(orphans)
        report.space_reclaimed = sum(row.size for row in removed)
        return report
