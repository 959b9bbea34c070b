"""An in-memory registry honouring the RegistryClient interface, and a service built on it."""

from __future__ import annotations

import io
import json
import os
import threading
from collections import Counter
from typing import Any

from sampan.archive import apply_layer
from sampan.daemon.images.service import ImageService
from sampan.digest import Digest
from sampan.distribution.client import Resolved
from sampan.errdefs import DataLoss, NotFound
from sampan.oci.image import Descriptor, Index, Manifest, Platform, host_platform, parse_manifest_bytes
from sampan.oci.reference import Reference
from sampan.snapshot import new_snapshotter
from sampan.store.content import ContentStore
from sampan.store.metadata import MetadataStore
from tests.support.images import Image, ImageIndex


class FakeRegistry:
    """Manifests by (repository, tag or digest) and blobs by digest; counts blob fetches."""

    def __init__(self) -> None:
        self.manifests: dict[tuple[str, str], bytes] = {}
        self.blobs: dict[str, bytes] = {}
        self.blob_gets: Counter[str] = Counter()
        self.corrupt: dict[str, bytes] = {}  # digest -> bytes served instead
        self.delay = 0.0
        self._mu = threading.Lock()

    def push(self, repo: str, tag: str, image: Image) -> None:
        self.blobs.update(image.blobs)
        self.manifests[(repo, tag)] = image.manifest
        self.manifests[(repo, image.digest)] = image.manifest

    def push_index(self, repo: str, tag: str, index: ImageIndex) -> None:
        for img in index.images:
            self.push(repo, img.digest, img)
        self.manifests[(repo, tag)] = index.manifest
        self.manifests[(repo, index.digest)] = index.manifest

    def resolve(self, ref: Reference, platform: Platform | None = None) -> Resolved:
        key = (ref.path, ref.digest or ref.tag or "latest")
        data = self.manifests.get(key)
        if data is None:
            raise NotFound(f"manifest unknown: {ref}")
        digest = str(Digest.of_bytes(data))
        parsed = parse_manifest_bytes(data, "")
        index = None
        mdata, mdigest = data, digest
        if isinstance(parsed, Index):
            index = parsed
            desc = parsed.select(platform or host_platform())
            mdata = self.manifests[(ref.path, desc.digest)]
            mdigest = desc.digest
            parsed = parse_manifest_bytes(mdata, "")
        assert isinstance(parsed, Manifest)
        return Resolved(ref, digest, parsed, mdata, mdigest, parsed.media_type, index)

    def _data(self, desc: Descriptor) -> bytes:
        with self._mu:
            self.blob_gets[desc.digest] += 1
        if desc.digest in self.corrupt:
            return self.corrupt[desc.digest]
        if desc.digest not in self.blobs:
            raise NotFound(f"blob unknown: {desc.digest}")
        return self.blobs[desc.digest]

    def fetch_blob_bytes(self, ref: Reference, desc: Descriptor, max_size: int) -> bytes:
        data = self._data(desc)
        if Digest.of_bytes(data) != Digest.parse(desc.digest):
            raise DataLoss(f"digest mismatch for {desc.digest}")
        return data

    def open_blob(self, ref: Reference, desc: Descriptor, offset: int = 0) -> Any:
        if self.delay:
            import time

            time.sleep(self.delay)
        return io.BytesIO(self._data(desc)[offset:])

    def close(self) -> None:
        pass


def make_service(root: str, registry: FakeRegistry, downloads: int = 3) -> ImageService:
    """A service on real stores under `root` (native snapshots: no root or mounts needed)."""
    return ImageService(
        content=ContentStore(os.path.join(root, "content")),
        snapshots=new_snapshotter(os.path.join(root, "snapshots"), "native"),
        meta=MetadataStore(os.path.join(root, "metadata.db")),
        registry_factory=lambda auth: registry,
        apply_layer=apply_layer,
        max_concurrent_downloads=downloads,
    )


def statuses(msgs: list[Any]) -> list[tuple[str, str]]:
    return [(m.status, m.id) for m in msgs if m.status != "Downloading" and m.status != "Extracting"]


def dump(msgs: list[Any]) -> str:
    return "\n".join(json.dumps(m.to_json()) for m in msgs)
