"""Build test images in memory (layers, config, manifests, indexes) and push them to a registry.

Tests make every image they use from Debian's busybox-static and from small files they write,
so nothing comes from the internet. The pusher speaks the registry v2 API directly
(monolithic blob upload, manifest PUT) so tests control every byte and media type.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import json
import os
import tarfile
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import zstandard

BUSYBOX = "/bin/busybox"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
LAYER_TYPES = {
    ("oci", "gzip"): "application/vnd.oci.image.layer.v1.tar+gzip",
    ("oci", "zstd"): "application/vnd.oci.image.layer.v1.tar+zstd",
    ("oci", ""): "application/vnd.oci.image.layer.v1.tar",
    ("docker", "gzip"): "application/vnd.docker.image.rootfs.diff.tar.gzip",
    ("docker", ""): "application/vnd.docker.image.rootfs.diff.tar",
}
BUSYBOX_APPLETS = ("sh", "echo", "cat", "ls", "true", "false", "sleep", "id", "hostname", "env", "mount")


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Entry:
    """One tar entry. kind: file, dir, symlink, hardlink, char, block, fifo."""

    path: str
    kind: str = "file"
    data: bytes = b""
    mode: int = 0o644
    target: str = ""
    uid: int = 0
    gid: int = 0
    devmajor: int = 0
    devminor: int = 0
    mtime: int = 1_700_000_000


def tar_bytes(entries: list[Entry]) -> bytes:
    """An uncompressed tar in the given order (tests of hostile layers depend on exact names)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            info = tarfile.TarInfo(e.path)
            info.mode = e.mode
            info.uid, info.gid = e.uid, e.gid
            info.mtime = e.mtime
            data = None
            if e.kind == "file":
                info.type = tarfile.REGTYPE
                info.size = len(e.data)
                data = io.BytesIO(e.data)
            elif e.kind == "dir":
                info.type = tarfile.DIRTYPE
                if e.mode == 0o644:
                    info.mode = 0o755
            elif e.kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = e.target
                info.mode = 0o777
            elif e.kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = e.target
            elif e.kind in ("char", "block"):
                info.type = tarfile.CHRTYPE if e.kind == "char" else tarfile.BLKTYPE
                info.devmajor, info.devminor = e.devmajor, e.devminor
            elif e.kind == "fifo":
                info.type = tarfile.FIFOTYPE
            else:
                raise ValueError(e.kind)
            tf.addfile(info, data)
    return buf.getvalue()


def busybox_entries(applets: tuple[str, ...] = BUSYBOX_APPLETS) -> list[Entry]:
    """A minimal root: /bin/busybox (static) with applet links, /etc, /tmp, /dev, /proc, /sys."""
    with open(BUSYBOX, "rb") as f:
        bb = f.read()
    entries = [Entry(d, "dir") for d in ("bin", "etc", "tmp", "dev", "proc", "sys", "root", "var")]
    entries[2].mode = 0o1777
    entries.append(Entry("bin/busybox", data=bb, mode=0o755))
    entries += [Entry(f"bin/{a}", "symlink", target="busybox") for a in applets]
    passwd = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
    entries.append(Entry("etc/passwd", data=passwd))
    entries.append(Entry("etc/group", data=b"root:x:0:\nnogroup:x:65534:\n"))
    return entries


def compress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.compress(data, compresslevel=1, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor(level=3).compress(data)
    if compression == "":
        return data
    raise ValueError(compression)


@dataclass
class Layer:
    tar: bytes
    compression: str = "gzip"
    blob: bytes = b""
    media_type: str = ""

    @property
    def diff_id(self) -> str:
        return sha256(self.tar)


@dataclass
class Image:
    """An image ready to push: blobs by digest, the manifest bytes and media type."""

    manifest: bytes
    manifest_type: str
    config: bytes
    blobs: dict[str, bytes] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return sha256(self.manifest)

    @property
    def config_digest(self) -> str:
        return sha256(self.config)

    @property
    def image_id(self) -> str:
        return self.config_digest

    @property
    def diff_ids(self) -> list[str]:
        return list(json.loads(self.config)["rootfs"]["diff_ids"])


def make_layer(entries: list[Entry], compression: str = "gzip") -> Layer:
    tar = tar_bytes(entries)
    return Layer(tar=tar, compression=compression, blob=compress(tar, compression))


def build_image(
    layers: list[Layer],
    *,
    fmt: str = "oci",
    cmd: list[str] | None = None,
    entrypoint: list[str] | None = None,
    env: list[str] | None = None,
    labels: dict[str, str] | None = None,
    architecture: str = "amd64",
    os_: str = "linux",
    variant: str = "",
    created: str = "2024-01-01T00:00:00Z",
    extra_config: dict[str, Any] | None = None,
) -> Image:
    """Assemble config and manifest for `layers`. fmt is "oci" or "docker" (schema2)."""
    conf: dict[str, Any] = {
        "Env": env if env is not None else ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": cmd if cmd is not None else ["sh"],
    }
    if entrypoint:
        conf["Entrypoint"] = entrypoint
    if labels:
        conf["Labels"] = labels
    config: dict[str, Any] = {
        "architecture": architecture,
        "os": os_,
        "created": created,
        "config": conf,
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]},
        "history": [
            {"created": created, "created_by": f"/bin/sh -c #(nop) layer {i}"} for i in range(len(layers))
        ],
    }
    if variant:
        config["variant"] = variant
    if extra_config:
        config.update(extra_config)
    config_bytes = json.dumps(config, sort_keys=True).encode()
    blobs = {sha256(config_bytes): config_bytes}
    layer_descs = []
    for layer in layers:
        mt = layer.media_type or LAYER_TYPES[(fmt, layer.compression)]
        blobs[sha256(layer.blob)] = layer.blob
        layer_descs.append({"mediaType": mt, "digest": sha256(layer.blob), "size": len(layer.blob)})
    manifest_type = OCI_MANIFEST if fmt == "oci" else DOCKER_MANIFEST
    manifest = {
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": {
            "mediaType": OCI_CONFIG if fmt == "oci" else DOCKER_CONFIG,
            "digest": sha256(config_bytes),
            "size": len(config_bytes),
        },
        "layers": layer_descs,
    }
    return Image(json.dumps(manifest, indent=2).encode(), manifest_type, config_bytes, blobs)


def busybox_image(fmt: str = "oci", compression: str = "gzip", **kw: Any) -> Image:
    return build_image([make_layer(busybox_entries(), compression)], fmt=fmt, **kw)


@dataclass
class ImageIndex:
    manifest: bytes
    manifest_type: str
    images: list[Image]

    @property
    def digest(self) -> str:
        return sha256(self.manifest)


def build_index(images: list[tuple[Image, dict[str, str]]], fmt: str = "oci") -> ImageIndex:
    """A manifest list / OCI index over (image, platform) pairs."""
    mt = OCI_INDEX if fmt == "oci" else DOCKER_LIST
    doc = {
        "schemaVersion": 2,
        "mediaType": mt,
        "manifests": [
            {"mediaType": img.manifest_type, "digest": img.digest, "size": len(img.manifest), "platform": plat}
            for img, plat in images
        ],
    }
    return ImageIndex(json.dumps(doc, indent=2).encode(), mt, [img for img, _ in images])


class Pusher:
    """Pushes blobs and manifests with the registry v2 API over plain HTTP."""

    def __init__(self, base_url: str, auth_header: str | None = None) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.auth_header = auth_header

    def _request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
                 ) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        hdrs = dict(headers or {})
        if self.auth_header:
            hdrs["Authorization"] = self.auth_header
        hdrs.setdefault("Content-Length", str(len(body)))
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        resp.read()
        conn.close()
        return resp

    def put_blob(self, repo: str, data: bytes, digest: str | None = None) -> str:
        digest = digest or sha256(data)
        head = self._request("HEAD", f"/v2/{repo}/blobs/{digest}")
        if head.status == 200:
            return digest
        start = self._request("POST", f"/v2/{repo}/blobs/uploads/")
        if start.status != 202:
            raise RuntimeError(f"blob upload start: {start.status}")
        location = start.getheader("Location") or ""
        loc = urlsplit(location)
        path = loc.path + ("?" + loc.query if loc.query else "")
        sep = "&" if "?" in path else "?"
        done = self._request(
            "PUT", f"{path}{sep}digest={digest}", data, {"Content-Type": "application/octet-stream"}
        )
        if done.status != 201:
            raise RuntimeError(f"blob upload of {digest}: {done.status}")
        return digest

    def put_manifest(self, repo: str, ref: str, data: bytes, media_type: str) -> None:
        resp = self._request("PUT", f"/v2/{repo}/manifests/{ref}", data, {"Content-Type": media_type})
        if resp.status != 201:
            raise RuntimeError(f"manifest put {repo}:{ref}: {resp.status}")

    def push_image(self, repo: str, tag: str, image: Image) -> None:
        for digest, blob in image.blobs.items():
            self.put_blob(repo, blob, digest)
        self.put_manifest(repo, tag, image.manifest, image.manifest_type)

    def push_index(self, repo: str, tag: str, index: ImageIndex) -> None:
        for img in index.images:
            for digest, blob in img.blobs.items():
                self.put_blob(repo, blob, digest)
            self.put_manifest(repo, img.digest, img.manifest, img.manifest_type)
        self.put_manifest(repo, tag, index.manifest, index.manifest_type)


def hello_image(message: str = "Hello from sampan!") -> Image:
    """A busybox image whose default command prints a greeting: the quick start's image."""
    return build_image(
        [make_layer(busybox_entries())],
        cmd=["echo", message],
        labels={"org.opencontainers.image.title": "sampan-hello"},
    )


def random_blob(size: int, seed: int = 0) -> bytes:
    """Incompressible bytes, fast (os.urandom is fine; seed kept for API symmetry)."""
    del seed
    return os.urandom(size)


def now() -> float:
    return time.monotonic()
