"""`size=1` on list/inspect: what lies under a container's rw layer (SizeRootFs = rw + this)."""

from __future__ import annotations

import logging

from sampan.daemon.containers.layers import LayerStore

log = logging.getLogger(__name__)


def layers_below(snapshots: LayerStore, cid: str) -> int:
    """Bytes of the init layer and the image's layers under container `cid`'s rw layer."""
    parents = {info.name: info.parent for info in snapshots.walk()}
    total, key, seen = 0, parents.get(cid), set()
    while key and key not in seen:
        seen.add(key)
        try:
            total += int(snapshots.usage(key))
        except Exception as exc:  # a layer being removed meanwhile: report what was counted
            log.debug("size of layer %s: %s", key, exc)
            break
        key = parents.get(key)
    return total
