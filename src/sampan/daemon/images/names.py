"""Image name resolution as Docker does it: ID, short ID, `name:tag`, `name@digest`."""

from __future__ import annotations

import re

from sampan.digest import is_digest
from sampan.errdefs import InvalidArgument, NotFound
from sampan.oci import reference
from sampan.oci.reference import Reference
from sampan.store.metadata import MetadataStore

_HEX64 = re.compile(r"^[a-f0-9]{64}$")
_HEX = re.compile(r"^[a-f0-9]+$")


def as_lookup_ref(ref: Reference) -> Reference:
    """The stored form of a user reference: a digest wins over a tag, no tag means latest."""
    if ref.digest:
        return ref.with_digest(ref.digest)
    return ref if ref.tag else ref.with_tag(reference.DEFAULT_TAG)


def not_found(name: str) -> NotFound:
    """Docker's message names the reference with its implied tag (`No such image: foo:latest`)."""
    try:
        ref = reference.parse_normalized_named(name)
    except InvalidArgument:
        return NotFound(f"No such image: {name}")
    if not ref.tag and not ref.digest:
        ref = ref.with_tag(reference.DEFAULT_TAG)
    return NotFound(f"No such image: {ref.familiar()}")


def is_id_prefix(image_id: str, name: str) -> bool:
    """Whether `name` addresses the image by (a prefix of) its ID rather than by a reference."""
    return image_id.startswith(name) or image_id.startswith("sha256:" + name)


def resolve(meta: MetadataStore, name: str) -> str:
    """The image ID `name` refers to; NotFound with Docker's wording otherwise."""
    if name.startswith("sha256:") and is_digest(name):
        if meta.get_image(name) is None:
            raise NotFound(f"No such image: {name}")
        return name
    if _HEX64.match(name):
        full = "sha256:" + name
        if meta.get_image(full) is None:
            raise NotFound(f"No such image: {name}")
        return full
    try:
        ref: Reference | None = reference.parse_normalized_named(name)
    except InvalidArgument:
        ref = None
    if ref is not None:
        found = meta.lookup_ref(str(as_lookup_ref(ref)))
        if found is not None:
            return found
    prefix = name[len("sha256:"):] if name.startswith("sha256:") else name
    if _HEX.match(prefix):
        ids = meta.search_ids(prefix)
        if len(ids) == 1:
            return ids[0]
    if ref is None and not _HEX.match(prefix):
        raise InvalidArgument(f"invalid reference format: {name}")
    raise not_found(name)


def familiar(full_ref: str) -> str:
    """`docker.io/library/busybox:latest` -> `busybox:latest` (stored refs are always valid)."""
    return reference.parse_normalized_named(full_ref).familiar()


def repo_name(full_ref: str) -> str:
    """The repository part of a stored tag or digest reference."""
    return reference.parse_normalized_named(full_ref).name
