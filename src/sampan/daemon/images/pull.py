"""Pulling one image: resolve, fetch the config, fetch layers in parallel, unpack in order, record.

Each layer download goes through the content store's writer (hashed as written, atomic
commit). When a layer's parent is already committed the download is streamed straight into
the unpacker through a tee, so the bytes are decompressed and extracted while they arrive;
otherwise the blob is stored first and unpacked from disk when its turn comes. A layer
becomes a committed snapshot (named by its chain ID) only after both its blob digest and
its diff ID were verified; the image record, tag and repo digest follow in one transaction.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import BinaryIO

from sampan.daemon.images.deps import ApplyLayer, BlobReader, Content, Registry, Snapshotter
from sampan.daemon.images.flight import Flights
from sampan.daemon.images.layerio import Counting, PullCancelled, Tee, diff_size
from sampan.daemon.images.leases import Leases
from sampan.daemon.images.progress import PullProgress
from sampan.daemon.images.views import unix_seconds
from sampan.errdefs import DataLoss, InvalidArgument, NotFound, SampanError
from sampan.oci.identity import chain_ids
from sampan.oci.image import LAYER_COMPRESSION, Descriptor, ImageConfig, Platform, platform_matches
from sampan.oci.reference import Reference
from sampan.store.metadata import LayerRow, MetadataStore, NewImage

log = logging.getLogger(__name__)

MAX_CONFIG_SIZE = 32 * 1024 * 1024


@dataclass
class PullLayer:
    index: int
    desc: Descriptor
    diff_id: str
    chain_id: str
    parent: str | None
    compression: str
    future: Future[None] | None = field(default=None, repr=False)

    @property
    def short(self) -> str:
        return self.desc.digest.split(":", 1)[-1][:12]

    @property
    def ingest_ref(self) -> str:
        return f"layer-{self.desc.digest}"


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
    ) -> None:
        self.content, self.snapshots, self.meta = content, snapshots, meta
        self.flights, self.pool, self.apply_layer = flights, pool, apply_layer
        self.leases, self.max_downloads = leases, max_downloads

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

    def _layers(self, registry: Registry, ref: Reference, layers: list[PullLayer],
                out: PullProgress) -> None:
        todo: list[PullLayer] = []
        for layer in layers:
            if self.committed(layer):
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
            for layer in todo:
                assert layer.future is not None
                layer.future.result()
                if not self.committed(layer):
                    self.flights.run(f"chain:{layer.chain_id}", functools.partial(self._unpack_blob, layer, out))
                else:
                    out.update(layer.short, "Extracting", layer.desc.size, layer.desc.size)
                out.status("Pull complete", layer.short)
        except BaseException:
            cancel.set()
            for layer in todo:
                if layer.future is not None:
                    layer.future.cancel()
            for layer in todo:
                if layer.future is not None and not layer.future.cancelled():
                    with contextlib.suppress(BaseException):
                        layer.future.result()
            raise

    def _download(self, registry: Registry, ref: Reference, layer: PullLayer, out: PullProgress,
                  cancel: threading.Event) -> None:
        def work() -> None:
            if cancel.is_set():
                raise PullCancelled("pull cancelled")
            if self.committed(layer) or self.content.has(layer.desc.digest):
                out.status("Download complete", layer.short)
                return
            parent_ready = layer.parent is None or self.snapshots.exists(layer.parent)
            key = f"chain:{layer.chain_id}"
            if parent_ready and self.flights.try_acquire(key):
                try:
                    if not self.committed(layer):
                        self._fetch(registry, ref, layer, out, cancel, stream=True)
                finally:
                    self.flights.release(key)
            else:
                self._fetch(registry, ref, layer, out, cancel, stream=False)

        self.flights.run(f"blob:{layer.desc.digest}", work)

    def _fetch(self, registry: Registry, ref: Reference, layer: PullLayer, out: PullProgress,
               cancel: threading.Event, *, stream: bool) -> None:
        desc = layer.desc
        writer = self.content.writer(layer.ingest_ref, expected=desc.digest, size=desc.size)
        reader: BlobReader | None = None
        try:
            start = int(writer.offset)
            done = [start]

            def on_bytes(n: int) -> None:
                done[0] += n
                out.update(layer.short, "Downloading", done[0], desc.size)

            def finish_download() -> None:
                if reader is not None:
                    tee.drain()
                out.status("Verifying Checksum", layer.short)
                writer.commit()
                out.status("Download complete", layer.short)

            if start < desc.size:
                reader = registry.open_blob(ref, desc, offset=start)
            if stream and start == 0 and reader is not None:
                tee = Tee(reader, writer, on_bytes, cancel)
                self._unpack(layer, tee, finish_download)  # type: ignore[arg-type]
            else:
                if reader is not None:
                    tee = Tee(reader, writer, on_bytes, cancel)
                finish_download()
        except BaseException:
            writer.abort()
            raise
        finally:
            if reader is not None:
                reader.close()
        self.meta.add_dist_metadata(desc.digest, layer.diff_id, ref.name)

    def _unpack_blob(self, layer: PullLayer, out: PullProgress) -> None:
        if self.committed(layer):
            return
        done = [0]

        def on_bytes(n: int) -> None:
            if not n:
                return
            done[0] += n
            out.update(layer.short, "Extracting", min(done[0], layer.desc.size), layer.desc.size)

        try:
            with self.content.open(layer.desc.digest) as f:
                self._unpack(layer, Counting(f, on_bytes), lambda: None)  # type: ignore[arg-type]
        except SampanError:
            # a blob that cannot be unpacked is of no use to anyone: do not keep it around
            if not any(row.diff_id == layer.diff_id for row in self.meta.layers()):
                with contextlib.suppress(SampanError):
                    self.content.delete(layer.desc.digest)
            raise

    def _unpack(self, layer: PullLayer, stream: BinaryIO, before_commit: Callable[[], None]) -> None:
        """Extract into a fresh active snapshot on the parent; commit it under the chain ID."""
        key = f"extract-{uuid.uuid4().hex[:12]}-{layer.chain_id.split(':', 1)[-1][:12]}"
        self.snapshots.prepare(key, layer.parent)
        try:
            dest, whiteouts = self.snapshots.apply_dir(key)
            result = self.apply_layer(stream, dest, compression=layer.compression, whiteouts=whiteouts)
            before_commit()
            if result.diff_id != layer.diff_id:
                raise DataLoss(
                    f"layer {layer.desc.digest} has diff ID {result.diff_id} but the image "
                    f"configuration specifies {layer.diff_id}"
                )
            size = diff_size(dest) if whiteouts == "overlay" else int(result.size)
            self.snapshots.commit(layer.chain_id, key)
        except BaseException:
            with contextlib.suppress(Exception):
                self.snapshots.remove(key)
            raise
        self.meta.add_layer(LayerRow(layer.chain_id, layer.diff_id, layer.parent, size))
