"""The OCI image data model and Docker schema2's equivalents. Pure data, no I/O.

One codec: each type has `from_json(dict)` and `to_json() -> dict` with the wire names.
Docker schema2 and OCI share one shape, so one set of types serves both; the media type
says which it is.
"""

from __future__ import annotations

import json
import platform as _platform
from dataclasses import dataclass, field
from typing import Any

from sampan.errdefs import InvalidArgument

# Media types ------------------------------------------------------------------------------
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
OCI_LAYER_NONDIST = "application/vnd.oci.image.layer.nondistributable.v1.tar"
OCI_LAYER_NONDIST_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
OCI_LAYER_NONDIST_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_FOREIGN_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"

MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
CONFIG_TYPES = frozenset({OCI_CONFIG, DOCKER_CONFIG})

#: layer media type -> compression ("gzip", "zstd" or "" for none)
LAYER_COMPRESSION: dict[str, str] = {
    OCI_LAYER: "",
    OCI_LAYER_GZIP: "gzip",
    OCI_LAYER_ZSTD: "zstd",
    OCI_LAYER_NONDIST: "",
    OCI_LAYER_NONDIST_GZIP: "gzip",
    OCI_LAYER_NONDIST_ZSTD: "zstd",
    DOCKER_LAYER: "",
    DOCKER_LAYER_GZIP: "gzip",
    DOCKER_LAYER_FOREIGN_GZIP: "gzip",
}

MAX_MANIFEST_SIZE = 4 * 1024 * 1024


def _require(d: dict[str, Any], key: str, kind: str) -> Any:
    if key not in d:
        raise InvalidArgument(f"invalid {kind}: missing {key!r}")
    return d[key]


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Platform:
        return cls(
            os=str(d.get("os", "")),
            architecture=str(d.get("architecture", "")),
            variant=str(d.get("variant", "") or ""),
            os_version=str(d.get("os.version", "") or ""),
            os_features=tuple(d.get("os.features") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        return out

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse `os[/arch[/variant]]` as given to `--platform`."""
        parts = text.strip().lower().split("/")
        if not parts[0] or len(parts) > 3:
            raise InvalidArgument(f"invalid platform: {text!r}")
        os_ = parts[0]
        arch = normalize_arch(parts[1]) if len(parts) > 1 else host_platform().architecture
        variant = parts[2] if len(parts) > 2 else ""
        if len(parts) > 1:
            arch, variant = _normalize_arch_variant(parts[1], variant)
        return cls(os=os_, architecture=arch, variant=variant)

    def __str__(self) -> str:
        s = f"{self.os}/{self.architecture}"
        return f"{s}/{self.variant}" if self.variant else s


_ARCH_ALIASES = {
    "x86_64": "amd64",
    "x86-64": "amd64",
    "aarch64": "arm64",
    "armhf": "arm",
    "armel": "arm",
    "i386": "386",
    "i686": "386",
}


def normalize_arch(arch: str) -> str:
    arch = arch.lower()
    return _ARCH_ALIASES.get(arch, arch)


def _normalize_arch_variant(arch: str, variant: str) -> tuple[str, str]:
    arch = arch.lower()
    if arch == "aarch64" or arch == "arm64":
        return "arm64", ("" if variant in ("", "8", "v8") else variant)
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        return "arm", variant or "v7"
    return normalize_arch(arch), variant


def host_platform() -> Platform:
    """The platform this machine runs, in OCI terms (linux/amd64, linux/arm64/...)."""
    machine = _platform.machine()
    arch, variant = _normalize_arch_variant(machine, "")
    return Platform(os="linux", architecture=arch, variant=variant)


def platform_matches(want: Platform, have: Platform) -> bool:
    """Whether an index entry's platform serves the wanted one (variant may be left open)."""
    if want.os != have.os or normalize_arch(want.architecture) != normalize_arch(have.architecture):
        return False
    if want.variant and have.variant:
        return want.variant == have.variant
    # an arm variant asked for explicitly is not served by an entry that does not name one
    return not (want.architecture == "arm" and want.variant and not have.variant)


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    urls: tuple[str, ...] = ()
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    platform: Platform | None = None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Descriptor:
        if not isinstance(d, dict):
            raise InvalidArgument("invalid descriptor: not an object")
        size = _require(d, "size", "descriptor")
        if not isinstance(size, int) or size < 0:
            raise InvalidArgument(f"invalid descriptor: bad size {size!r}")
        digest = _require(d, "digest", "descriptor")
        from sampan.digest import Digest

        Digest.parse(str(digest))
        return cls(
            media_type=str(d.get("mediaType", "")),
            digest=str(digest),
            size=size,
            urls=tuple(d.get("urls") or ()),
            annotations=dict(d.get("annotations") or {}),
            platform=Platform.from_json(d["platform"]) if d.get("platform") else None,
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.urls:
            out["urls"] = list(self.urls)
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.platform is not None:
            out["platform"] = self.platform.to_json()
        return out


@dataclass(frozen=True)
class Manifest:
    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @classmethod
    def from_json(cls, d: dict[str, Any], media_type: str = "") -> Manifest:
        if not isinstance(d, dict):
            raise InvalidArgument("invalid manifest: not an object")
        if d.get("schemaVersion") != 2:
            raise InvalidArgument(f"unsupported manifest schema version {d.get('schemaVersion')!r}")
        mt = str(d.get("mediaType") or media_type or OCI_MANIFEST)
        layers = d.get("layers")
        if not isinstance(layers, list):
            raise InvalidArgument("invalid manifest: layers must be a list")
        return cls(
            media_type=mt,
            config=Descriptor.from_json(_require(d, "config", "manifest")),
            layers=tuple(Descriptor.from_json(x) for x in layers),
            annotations=dict(d.get("annotations") or {}),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": self.media_type,
            "config": self.config.to_json(),
            "layers": [x.to_json() for x in self.layers],
        }
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out


@dataclass(frozen=True)
class Index:
    media_type: str
    manifests: tuple[Descriptor, ...]
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @classmethod
    def from_json(cls, d: dict[str, Any], media_type: str = "") -> Index:
        if not isinstance(d, dict):
            raise InvalidArgument("invalid index: not an object")
        if d.get("schemaVersion") != 2:
            raise InvalidArgument(f"unsupported manifest schema version {d.get('schemaVersion')!r}")
        manifests = d.get("manifests")
        if not isinstance(manifests, list):
            raise InvalidArgument("invalid index: manifests must be a list")
        return cls(
            media_type=str(d.get("mediaType") or media_type or OCI_INDEX),
            manifests=tuple(Descriptor.from_json(x) for x in manifests),
            annotations=dict(d.get("annotations") or {}),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": self.media_type,
            "manifests": [x.to_json() for x in self.manifests],
        }
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        return out

    def select(self, want: Platform) -> Descriptor:
        """The manifest for a platform; an exact variant match beats an open one."""
        candidates = [
            m for m in self.manifests if m.platform is not None and platform_matches(want, m.platform)
        ]
        if not candidates:
            from sampan.errdefs import NotFound

            raise NotFound(f"no matching manifest for {want} in the manifest list entries")
        exact = [m for m in candidates if m.platform is not None and m.platform.variant == want.variant]
        return (exact or candidates)[0]


@dataclass(frozen=True)
class ImageConfig:
    """An image's config blob. `raw` keeps every field so inspect shows what the image says."""

    raw: dict[str, Any]

    @classmethod
    def from_bytes(cls, data: bytes) -> ImageConfig:
        try:
            raw = json.loads(data)
        except ValueError as e:
            raise InvalidArgument(f"invalid image config: {e}") from e
        if not isinstance(raw, dict):
            raise InvalidArgument("invalid image config: not an object")
        rootfs = raw.get("rootfs")
        if not isinstance(rootfs, dict) or not isinstance(rootfs.get("diff_ids", []), list):
            raise InvalidArgument("invalid image config: missing rootfs")
        return cls(raw)

    @property
    def diff_ids(self) -> list[str]:
        return [str(x) for x in (self.raw.get("rootfs") or {}).get("diff_ids") or []]

    @property
    def architecture(self) -> str:
        return str(self.raw.get("architecture", ""))

    @property
    def os(self) -> str:
        return str(self.raw.get("os", ""))

    @property
    def variant(self) -> str:
        return str(self.raw.get("variant", "") or "")

    @property
    def created(self) -> str:
        return str(self.raw.get("created", "") or "")

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.raw.get("config") or {})

    @property
    def history(self) -> list[dict[str, Any]]:
        return list(self.raw.get("history") or [])

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.config.get("Labels") or {})


def parse_manifest_bytes(data: bytes, media_type: str) -> Manifest | Index:
    """Decode a manifest or index, trusting the content's own mediaType over the header's."""
    if len(data) > MAX_MANIFEST_SIZE:
        raise InvalidArgument(f"manifest too big: {len(data)} bytes (limit {MAX_MANIFEST_SIZE})")
    try:
        d = json.loads(data)
    except ValueError as e:
        raise InvalidArgument(f"invalid manifest: {e}") from e
    if not isinstance(d, dict):
        raise InvalidArgument("invalid manifest: not an object")
    mt = str(d.get("mediaType") or "") or media_type
    if mt == "application/vnd.docker.distribution.manifest.v1+prettyjws" or d.get("schemaVersion") == 1:
        raise InvalidArgument(
            "support for Docker Image Format v1 and Docker Image manifest version 2, schema 1 "
            "has been removed"
        )
    if not mt:
        mt = OCI_INDEX if "manifests" in d else OCI_MANIFEST
    if mt in INDEX_TYPES:
        return Index.from_json(d, mt)
    if mt in MANIFEST_TYPES:
        return Manifest.from_json(d, mt)
    raise InvalidArgument(f"unsupported manifest media type: {mt}")
