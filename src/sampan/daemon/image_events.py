"""The image events of rmi and image prune: an `untag` per removed reference, a `delete` per image.

The deleter reports what it did as `DeleteItem`s (familiar references and IDs); to name the
image behind each untagged reference, and to tell image IDs from layer chain IDs, the service
takes an `ImageIndex` of the metadata just before deleting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sampan.daemon.events import IMAGE, EventBus, image_attributes


class _Row(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def labels(self) -> dict[str, str]: ...


class _Meta(Protocol):
    def images(self) -> Sequence[_Row]: ...

    def refs_of(self, image_id: str) -> tuple[list[str], list[str]]: ...


class _Item(Protocol):
    @property
    def untagged(self) -> str: ...
    @property
    def deleted(self) -> str: ...


@dataclass
class ImageIndex:
    labels: dict[str, Mapping[str, str]] = field(default_factory=dict)  # image ID -> labels
    by_ref: dict[str, str] = field(default_factory=dict)  # familiar reference -> image ID

    @classmethod
    def of(cls, meta: _Meta) -> ImageIndex:
        from sampan.daemon.images.names import familiar

        index = cls()
        for row in meta.images():
            index.labels[row.id] = dict(row.labels or {})
            tags, digests = meta.refs_of(row.id)
            for ref in (*tags, *digests):
                index.by_ref[familiar(ref)] = row.id
        return index


def publish_deletions(bus: EventBus | None, index: ImageIndex, items: Sequence[_Item], named: str = "") -> None:
    """`untag` (actor and name: the image ID, with its labels) and `delete` (no labels: it is gone).

    As dockerd, `rmi REPO:TAG` (`named`, not an ID) untags the digests of that repository it
    takes along without an event of their own.
    """
    if bus is None:
        return
    from sampan.daemon.images.names import is_id_prefix

    by_reference = bool(named) and not any(is_id_prefix(image_id, named) for image_id in index.labels)
    for n, item in enumerate(items):
        if item.untagged:
            image_id = index.by_ref.get(item.untagged)
            silent = by_reference and n > 0 and "@" in item.untagged and all(
                "@" in i.untagged for i in items[1:n + 1])
            if image_id is not None and not silent:
                bus.publish(IMAGE, "untag", image_id, image_attributes(index.labels.get(image_id), image_id))
        elif item.deleted in index.labels:
            bus.publish(IMAGE, "delete", item.deleted, image_attributes(None, item.deleted))
