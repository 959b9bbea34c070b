"""Pulling one image: resolve, fetch the config, fetch layers in parallel, commit in order.

With overlay every layer is streamed while it downloads into its own staging snapshot
(prepared without a parent, see staging.py): bytes are digested, decompressed, hashed and
extracted as they arrive, and no layer blob is kept. With the native driver (whose snapshot
copies its parent) a layer streams only when its parent is committed; otherwise it is stored
as a blob first and unpacked when its turn comes. A layer becomes a committed snapshot (named
by its chain ID) only after both its blob digest and its diff ID were verified, in manifest
order; the image record, tag and repo digest follow in one transaction.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from sampan.daemon.images.deps import ApplyLayer, BlobReader, Content, Registry, Snapshotter
from sampan.daemon.images.flight import Flights
from sampan.daemon.images.layerio import FAST_LINK, Counting, PullCancelled, ResumableDigesting, Tee
from sampan.daemon.images.leases import Leases
from sampan.daemon.images.progress import PullProgress
from sampan.daemon.images.staging import PullLayer, Staged, Stager
from sampan.daemon.images.views import unix_seconds
from sampan.errdefs import DataLoss, InvalidArgument, NotFound, SampanError
from sampan.oci.identity import chain_ids
from sampan.oci.image import LAYER_COMPRESSION, Descriptor, ImageConfig, Platform, platform_matches
from sampan.oci.reference import Reference
from sampan.store.metadata import MetadataStore, NewImage

log = logging.getLogger(__name__)

MAX_CONFIG_SIZE = 32 * 1024 * 1024


def _check_platform(ref: Reference, want: Platform, config: ImageConfig) -> None:
    """A single-platform image must be what `--platform` asked for (an index was matched already)."""
    have = Platform(os=config.os, architecture=config.architecture, variant=config.variant)
    if not platform_matches(want, have):
        raise NotFound(
            f"image with reference {ref.familiar()} was found but does not match the specified "
            f"platform: wanted {want}, actual: {have}"
        )


@dataclass
class PullResult:
    image_id: str
    digest: str
    changed: bool


class Puller:
    def __init__(
        self, *, content: Content, snapshots: Snapshotter, meta: MetadataStore, flights: Flights,
        pool: Executor, apply_layer: ApplyLayer, leases: Leases, max_downloads: int,
        fast_link: float = FAST_LINK,
    ) -> None:
        self.content, self.snapshots, self.meta = content, snapshots, meta
        self.flights, self.pool, self.apply_layer = flights, pool, apply_layer
        self.leases, self.max_downloads = leases, max_downloads
        self.fast_link = fast_link  # see ResumableDigesting
        self.stager = Stager(snapshots=snapshots, meta=meta, leases=leases, flights=flights,
                             apply_layer=apply_layer)

    def pull(self, registry: Registry, ref: Reference, platform: Platform | None,
             out: PullProgress) -> PullResult:
        out.status(f"Pulling from {ref.path}", ref.digest or ref.tag or "latest")
        resolved = registry.resolve(ref, platform)
        manifest = resolved.manifest
        for desc in manifest.layers:
            if desc.media_type not in LAYER_COMPRESSION:
                raise InvalidArgument(f"unsupported media type {desc.media_type} for layer {desc.digest}")
        config_bytes = self._config(registry, ref, manifest.config)
        config = ImageConfig.from_bytes(config_bytes)
        diff_ids = config.diff_ids
        if len(diff_ids) != len(manifest.layers):
            raise InvalidArgument(
                f"layers from manifest don't match image configuration: {len(manifest.layers)} layers, "
                f"{len(diff_ids)} diff IDs"
            )
        if platform is not None and resolved.index is None:
            _check_platform(ref, platform, config)
        chains = chain_ids(diff_ids)
        layers = [
            PullLayer(i, desc, diff_ids[i], chains[i], chains[i - 1] if i else None,
                      LAYER_COMPRESSION[desc.media_type])
            for i, desc in enumerate(manifest.layers)
        ]
        with self.leases.hold(chains):
            self._layers(registry, ref, layers, out)
            record = NewImage(
                id=manifest.config.digest,
                created=unix_seconds(config.created),
                labels=config.labels,
                chain_ids=chains,
                tag=None if ref.digest else str(ref),
                repo_digest=f"{ref.name}@{ref.digest or resolved.digest}",
            )
            with self.leases.lock:  # a concurrent rmi of this image must not drop its config
                self.content.write_blob(config_bytes, expected=manifest.config.digest)
                changed = self.meta.put_image(record)
        return PullResult(manifest.config.digest, str(resolved.digest), changed)

    # -- config ----------------------------------------------------------------------------

    def _config(self, registry: Registry, ref: Reference, desc: Descriptor) -> bytes:
        def work() -> bytes:
            if self.content.has(desc.digest):
                return self.content.read_bytes(desc.digest, MAX_CONFIG_SIZE)
            data = registry.fetch_blob_bytes(ref, desc, MAX_CONFIG_SIZE)
            self.content.write_blob(data, expected=desc.digest)
            return data

        return self.flights.run(f"blob:{desc.digest}", work)

    # -- layers ----------------------------------------------------------------------------

    def _layers(self, registry: Registry, ref: Reference, layers: list[PullLayer],
                out: PullProgress) -> None:
        todo: list[PullLayer] = []
        for layer in layers:
            if self.stager.committed(layer):
                out.status("Already exists", layer.short)
            else:
                out.status("Pulling fs layer", layer.short)
                todo.append(layer)
        cancel = threading.Event()
        for n, layer in enumerate(todo):
            if n >= self.max_downloads:
                out.status("Waiting", layer.short)
            layer.future = self.pool.submit(self._download, registry, ref, layer, out, cancel)
        try:
            for layer in todo:  # commits happen here, in order: a parent always comes first
                assert layer.future is not None
                staged = layer.future.result()
                if staged is not None:
                    out.update(layer.short, "Extracting", layer.desc.size, layer.desc.size)
                    self.stager.commit(layer, staged)
                elif not self.stager.committed(layer):
                    self._unpack_stored(registry, ref, layer, out, cancel)
                else:
                    out.update(layer.short, "Extracting", layer.desc.size, layer.desc.size)
                out.status("Pull complete", layer.short)
            if self.snapshots.independent_layers:
                self._drop_blobs(todo)
        except BaseException:
            cancel.set()
            for layer in todo:
                if layer.future is not None:
                    layer.future.cancel()
            for layer in todo:
                if layer.future is not None and not layer.future.cancelled():
                    with contextlib.suppress(BaseException):
                        staged = layer.future.result()
                        if staged is not None:
                            self.stager.drop(staged)
            raise

    def _download(self, registry: Registry, ref: Reference, layer: PullLayer, out: PullProgress,
                  cancel: threading.Event) -> Staged | None:
        """Fetch one layer: streamed into a staging snapshot when the driver allows (returned,
        its `chain:` flight still held until the in-order commit), else stored as a blob (None).
        Flights are taken chain first, then blob, and nothing waits while holding a blob flight."""
        blob_key, chain_key = f"blob:{layer.desc.digest}", f"chain:{layer.chain_id}"

        def fetch(stream: bool) -> Staged | None:
            if cancel.is_set():
                raise PullCancelled("pull cancelled")
            if self.stager.committed(layer) or self.content.has(layer.desc.digest):
                out.status("Download complete", layer.short)
                return None
            if stream and self.snapshots.independent_layers:
                staged = self.stager.copy(layer)
                if staged is not None:
                    out.status("Download complete", layer.short)
                    return staged
            return self._fetch(registry, ref, layer, out, cancel, stream=stream)

        if not (self.snapshots.independent_layers or layer.parent is None
                or self.snapshots.exists(layer.parent)):
            return self.flights.run(blob_key, functools.partial(fetch, False))
        while not self.flights.try_acquire(chain_key):
            self.flights.wait(chain_key)  # another pull unpacks this very layer
        try:
            staged = self.flights.run(blob_key, functools.partial(fetch, True))
        except BaseException:
            self.flights.release(chain_key)
            raise
        if staged is None:
            self.flights.release(chain_key)
            return None
        staged.flight = chain_key
        return staged

    def _fetch(self, registry: Registry, ref: Reference, layer: PullLayer, out: PullProgress,
               cancel: threading.Event, *, stream: bool = False) -> Staged | None:
        """Download a layer, streamed into a staging snapshot or stored as a blob first.

        The native driver keeps every layer blob (a later image with this layer on another
        parent unpacks it again). With overlay a streamed layer's blob is not kept; on a slow
        link it is written as a partial ingest while it arrives, to resume after a crash."""
        desc = layer.desc
        keep_blob = not self.snapshots.independent_layers
        writer = self.content.writer(layer.ingest_ref, expected=desc.digest, size=desc.size)
        reader: BlobReader | None = None
        staged: Staged | None = None
        try:
            start = int(writer.offset)
            done = [start]

            def on_bytes(n: int) -> None:
                done[0] += n
                out.update(layer.short, "Downloading", done[0], desc.size)

            if start < desc.size:
                reader = registry.open_blob(ref, desc, offset=start)
            direct = stream and start == 0 and reader is not None
            store = keep_blob or not direct
            sink: Any = writer
            if not store:
                sink = ResumableDigesting(desc.digest, desc.size, writer, fast=self.fast_link)
            tee = Tee(reader, sink, on_bytes, cancel) if reader is not None else None

            def finish_download() -> None:
                if tee is not None:
                    tee.drain()
                out.status("Verifying Checksum", layer.short)
                sink.commit() if store else sink.verify()
                out.status("Download complete", layer.short)

            if direct:
                staged = self.stager.unpack(layer, tee, finish_download)  # type: ignore[arg-type]
            else:
                finish_download()
                if stream:  # resumed from a partial ingest: unpack the stored blob
                    staged = self._stage_blob(layer, out)
            writer.abort()  # no-op once committed
        except BaseException:
            writer.abort()
            if staged is not None:
                self.stager.drop(staged)
            raise
        finally:
            if reader is not None:
                reader.close()
        self.meta.add_dist_metadata(desc.digest, layer.diff_id, ref.name)
        return staged

    def _unpack_stored(self, registry: Registry, ref: Reference, layer: PullLayer, out: PullProgress,
                       cancel: threading.Event) -> None:
        """Unpack a layer that was stored as a blob (or fetch it again if a concurrent pull
        has meanwhile unpacked and dropped that blob without committing this chain)."""
        for _ in range(3):
            if self.content.has(layer.desc.digest):
                with contextlib.suppress(NotFound):
                    self.flights.run(f"chain:{layer.chain_id}", functools.partial(self._unpack_blob, layer, out))
                    return
            else:
                staged = self._download(registry, ref, layer, out, cancel)
                if staged is not None:
                    self.stager.commit(layer, staged)
            if self.stager.committed(layer):
                return
        raise DataLoss(f"layer {layer.desc.digest} vanished while it was being unpacked")

    def _unpack_blob(self, layer: PullLayer, out: PullProgress) -> None:
        if not self.stager.committed(layer):
            self.stager.commit(layer, self._stage_blob(layer, out))

    def _drop_blobs(self, layers: list[PullLayer]) -> None:
        """Layer blobs stored on the way (resumed or blob-first downloads) are not kept once
        their layers are committed, unless another pull in flight relies on the same layer."""
        with self.leases.lock:
            for layer in layers:
                if self.leases.count(layer.chain_id) <= 1 and self.content.has(layer.desc.digest):
                    with contextlib.suppress(SampanError):
                        self.content.delete(layer.desc.digest)

    def _stage_blob(self, layer: PullLayer, out: PullProgress) -> Staged:
        done = [0]

        def on_bytes(n: int) -> None:
            if not n:
                return
            done[0] += n
            out.update(layer.short, "Extracting", min(done[0], layer.desc.size), layer.desc.size)

        try:
            with self.content.open(layer.desc.digest) as f:
                staged = self.stager.unpack(layer, Counting(f, on_bytes), lambda: None)  # type: ignore[arg-type]
        except SampanError:
            # a blob that cannot be unpacked is of no use to anyone: do not keep it around
            if not any(row.diff_id == layer.diff_id for row in self.meta.layers()):
                with contextlib.suppress(SampanError):
                    self.content.delete(layer.desc.digest)
            raise
        return staged

