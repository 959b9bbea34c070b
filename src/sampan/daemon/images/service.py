"""The image service facade the daemon calls (stub while the real one is written)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sampan.api.progress import JSONMessage
from sampan.errdefs import NotImplementedFeature


class ImageService:
    """Pull, list, inspect, tag, delete and prune images. Thread-safe."""

    def __init__(self, data_root: str) -> None:
        self.data_root = data_root

    @classmethod
    def open(
        cls,
        data_root: str,
        *,
        insecure_registries: Sequence[str] = (),
        storage_driver: str = "auto",
        max_concurrent_downloads: int = 3,
    ) -> ImageService:
        return cls(data_root)

    def close(self) -> None:
        pass

    def pull(self, ref: str, *, platform: str | None, auth: Any,
             progress: Callable[[JSONMessage], None]) -> None:
        raise NotImplementedFeature("pull is not implemented yet")

    def list_images(self, *, all: bool = False, filters: dict[str, list[str]] | None = None,
                    digests: bool = False) -> list[Any]:
        raise NotImplementedFeature("list is not implemented yet")

    def inspect_image(self, name: str) -> Any:
        raise NotImplementedFeature("inspect is not implemented yet")

    def image_history(self, name: str) -> list[Any]:
        raise NotImplementedFeature("history is not implemented yet")

    def tag_image(self, name: str, repo: str, tag: str) -> None:
        raise NotImplementedFeature("tag is not implemented yet")

    def delete_image(self, name: str, *, force: bool = False, noprune: bool = False) -> list[Any]:
        raise NotImplementedFeature("delete is not implemented yet")

    def prune_images(self, filters: dict[str, list[str]] | None = None) -> Any:
        raise NotImplementedFeature("prune is not implemented yet")

    def resolve_image(self, name: str) -> Any:
        raise NotImplementedFeature("resolve is not implemented yet")

    def image_count(self) -> int:
        return 0

    def disk_usage(self) -> Any:
        raise NotImplementedFeature("disk usage is not implemented yet")
