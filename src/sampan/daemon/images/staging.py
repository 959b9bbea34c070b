"""Layers staged in active snapshots: unpacked and verified apart, committed in order.

A staged layer is an active snapshot (`extract-...`) holding the layer's files with its diff
ID already checked. With overlay it was prepared without a parent, so layers of one pull are
unpacked in parallel and `commit` stacks each onto its (by then committed) parent.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import BinaryIO

from sampan.daemon.images.deps import ApplyLayer, Snapshotter
from sampan.daemon.images.flight import Flights
from sampan.daemon.images.layerio import diff_size
from sampan.daemon.images.leases import Leases
from sampan.errdefs import DataLoss
from sampan.oci.image import Descriptor
from sampan.store.metadata import LayerRow, MetadataStore

log = logging.getLogger(__name__)


@dataclass
class PullLayer:
    index: int
    desc: Descriptor
    diff_id: str
    chain_id: str
    parent: str | None
    compression: str
    future: Future[Staged | None] | None = field(default=None, repr=False)

    @property
    def short(self) -> str:
        return self.desc.digest.split(":", 1)[-1][:12]

    @property
    def ingest_ref(self) -> str:
        return f"layer-{self.desc.digest}"


@dataclass
class Staged:
    """A layer unpacked into an active snapshot and verified, waiting for its in-order commit."""

    key: str  # "" once committed or removed
    size: int
    detached: bool  # prepared without its parent (commit_onto stacks it)
    flight: str = ""  # the `chain:` flight held until the commit ("" when not held)


class Stager:
    """Prepares, fills, verifies, commits and drops staging snapshots of layers."""

    def __init__(self, *, snapshots: Snapshotter, meta: MetadataStore, leases: Leases, flights: Flights,
                 apply_layer: ApplyLayer) -> None:
        self.snapshots, self.meta, self.leases = snapshots, meta, leases
        self.flights, self.apply_layer = flights, apply_layer

    def committed(self, layer: PullLayer) -> bool:
        """Whether the layer's snapshot exists; repairs a missing row (crash after commit)."""
        if not self.snapshots.exists(layer.chain_id):
            return False
        if self.meta.get_layer(layer.chain_id) is None:
            self.meta.add_layer(LayerRow(layer.chain_id, layer.diff_id, layer.parent,
                                         self._usage(layer.chain_id, 0)))
        return True

    def _usage(self, chain: str, fallback: int) -> int:
        try:
            return int(self.snapshots.usage(chain))
        except Exception:  # size is informational; never fail a pull over it
            log.warning("cannot compute the size of layer %s", chain, exc_info=True)
            return fallback

    def unpack(self, layer: PullLayer, stream: BinaryIO, before_verify: Callable[[], None]) -> Staged:
        """Extract into a fresh active snapshot and verify the diff ID; not committed yet."""
        key = self.key(layer)
        detached = self.snapshots.independent_layers
        self.snapshots.prepare(key, None if detached else layer.parent)
        try:
            dest, whiteouts = self.snapshots.apply_dir(key)
            result = self.apply_layer(stream, dest, compression=layer.compression, whiteouts=whiteouts)
            before_verify()
            if result.diff_id != layer.diff_id:
                raise DataLoss(
                    f"layer {layer.desc.digest} has diff ID {result.diff_id} but the image "
                    f"configuration specifies {layer.diff_id}"
                )
            size = diff_size(dest) if whiteouts == "overlay" else int(result.size)
        except BaseException:
            with contextlib.suppress(Exception):
                self.snapshots.remove(key)
            raise
        return Staged(key, size, detached)

    def copy(self, layer: PullLayer) -> Staged | None:
        """The same diff already unpacked on another parent: copy that layer's directory
        instead of downloading it (overlay layers do not depend on their parents)."""
        for row in self.meta.layers():
            if row.diff_id != layer.diff_id or row.chain_id == layer.chain_id:
                continue
            with self.leases.hold([row.chain_id]):  # no rmi takes the source away meanwhile
                if not self.snapshots.exists(row.chain_id):
                    continue
                key = self.key(layer)
                self.snapshots.prepare(key, None)
                try:
                    self.snapshots.copy_layer(key, row.chain_id)
                except BaseException:
                    with contextlib.suppress(Exception):
                        self.snapshots.remove(key)
                    raise
                return Staged(key, row.size, detached=True)
        return None

    @staticmethod
    def key(layer: PullLayer) -> str:
        return f"extract-{uuid.uuid4().hex[:12]}-{layer.chain_id.split(':', 1)[-1][:12]}"

    def commit(self, layer: PullLayer, staged: Staged) -> None:
        """Commit a staged layer under its chain ID (its parent is committed by now)."""
        try:
            if self.committed(layer):  # someone else got there first
                self.drop(staged)
                return
            if staged.detached:
                self.snapshots.commit_onto(layer.chain_id, staged.key, layer.parent)
            else:
                self.snapshots.commit(layer.chain_id, staged.key)
            staged.key = ""
            self.meta.add_layer(LayerRow(layer.chain_id, layer.diff_id, layer.parent, staged.size))
        finally:
            self.drop(staged)

    def drop(self, staged: Staged) -> None:
        """Remove a staging snapshot not committed and release its flight (idempotent)."""
        if staged.key:
            with contextlib.suppress(Exception):
                self.snapshots.remove(staged.key)
            staged.key = ""
        if staged.flight:
            self.flights.release(staged.flight)
            staged.flight = ""
