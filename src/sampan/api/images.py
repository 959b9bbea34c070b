"""Wire types of the Engine API's image responses (v1.44 field names, one codec each).

The image service builds these; the HTTP edge calls `to_json()`; the client rebuilds them
with `from_json()`. Empty lists stay lists and Docker's nulls stay nulls, because clients
(the docker CLI, docker-py) read these shapes as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Docker's container.Config as it serialises it: (key, default) in order; None = omitted if unset
_CONFIG_FIELDS: tuple[tuple[str, Any], ...] = (
    ("Hostname", ""), ("Domainname", ""), ("User", ""), ("AttachStdin", False),
    ("AttachStdout", False), ("AttachStderr", False), ("ExposedPorts", None), ("Tty", False),
    ("OpenStdin", False), ("StdinOnce", False), ("Env", "null"), ("Cmd", "null"),
    ("Healthcheck", None), ("ArgsEscaped", None), ("Image", ""), ("Volumes", "null"),
    ("WorkingDir", ""), ("Entrypoint", "null"), ("NetworkDisabled", None), ("MacAddress", None),
    ("OnBuild", "null"), ("Labels", "null"), ("StopSignal", None), ("StopTimeout", None), ("Shell", None),
)


def container_config(raw: dict[str, Any]) -> dict[str, Any]:
    """An image config's `config` in the full shape dockerd prints (so `{{.Config.User}}` is "")."""
    out: dict[str, Any] = {}
    for key, default in _CONFIG_FIELDS:
        if key in raw and raw[key] is not None:
            out[key] = raw[key]
        elif default == "null":
            out[key] = None
        elif default is not None:
            out[key] = default
    return out


@dataclass
class ImageSummary:
    id: str
    repo_tags: list[str]
    repo_digests: list[str]
    created: int
    size: int
    labels: dict[str, str] = field(default_factory=dict)
    parent_id: str = ""
    shared_size: int = -1
    containers: int = -1

    def to_json(self) -> dict[str, Any]:
        return {
            "Containers": self.containers,
            "Created": self.created,
            "Id": self.id,
            "Labels": self.labels or None,
            "ParentId": self.parent_id,
            "RepoDigests": list(self.repo_digests),
            "RepoTags": list(self.repo_tags),
            "SharedSize": self.shared_size,
            "Size": self.size,
            "VirtualSize": self.size,  # gone in v1.44, but older clients (CLI 20.10) show it
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ImageSummary:
        return cls(
            id=str(d.get("Id", "")),
            repo_tags=list(d.get("RepoTags") or []),
            repo_digests=list(d.get("RepoDigests") or []),
            created=int(d.get("Created", 0)),
            size=int(d.get("Size", 0)),
            labels=dict(d.get("Labels") or {}),
            parent_id=str(d.get("ParentId", "")),
            shared_size=int(d.get("SharedSize", -1)),
            containers=int(d.get("Containers", -1)),
        )


@dataclass
class ImageInspect:
    id: str
    repo_tags: list[str]
    repo_digests: list[str]
    created: str
    config: dict[str, Any] | None
    architecture: str
    os: str
    size: int
    layers: list[str]
    graph_driver_name: str
    graph_driver_data: dict[str, str] | None = None
    parent: str = ""
    comment: str = ""
    docker_version: str = ""
    author: str = ""
    variant: str = ""
    os_version: str = ""
    last_tag_time: str = "0001-01-01T00:00:00Z"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Id": self.id,
            "RepoTags": list(self.repo_tags),
            "RepoDigests": list(self.repo_digests),
            "Parent": self.parent,
            "Comment": self.comment,
            "Created": self.created,
            "Container": "",
            "ContainerConfig": container_config({}),
            "DockerVersion": self.docker_version,
            "Author": self.author,
            "Config": container_config(self.config) if self.config is not None else None,
            "Architecture": self.architecture,
        }
        if self.variant:
            out["Variant"] = self.variant
        out["Os"] = self.os
        if self.os_version:
            out["OsVersion"] = self.os_version
        out.update({
            "Size": self.size,
            "VirtualSize": self.size,
            "GraphDriver": {"Data": self.graph_driver_data, "Name": self.graph_driver_name},
            "RootFS": {"Type": "layers", "Layers": list(self.layers)},
            "Metadata": {"LastTagTime": self.last_tag_time},
        })
        return out


@dataclass
class HistoryItem:
    id: str
    created: int
    created_by: str
    tags: list[str] | None
    size: int
    comment: str

    def to_json(self) -> dict[str, Any]:
        return {
            "Comment": self.comment,
            "Created": self.created,
            "CreatedBy": self.created_by,
            "Id": self.id,
            "Size": self.size,
            "Tags": list(self.tags) if self.tags is not None else None,
        }


@dataclass
class DeleteItem:
    """One line of `docker rmi` output: exactly one of `untagged`/`deleted` is set."""

    untagged: str = ""
    deleted: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"Untagged": self.untagged} if self.untagged else {"Deleted": self.deleted}


@dataclass
class PruneReport:
    deleted: list[DeleteItem] = field(default_factory=list)
    space_reclaimed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "ImagesDeleted": [d.to_json() for d in self.deleted] or None,
            "SpaceReclaimed": self.space_reclaimed,
        }


@dataclass
class ImageDiskUsage:
    """The image half of `GET /system/df`."""

    layers_size: int
    images: list[ImageSummary]

    def to_json(self) -> dict[str, Any]:
        return {"LayersSize": self.layers_size, "Images": [i.to_json() for i in self.images]}
