"""Layer identity: chain IDs, as the OCI image spec defines them.

ChainID(L0) = DiffID(L0); ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) + " " + DiffID(Ln)).
A chain ID names a whole stack of layers, so the same layer on a different parent gets a
different snapshot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """The chain ID of every prefix of `diff_ids`."""
    out: list[str] = []
    for diff_id in diff_ids:
        if not out:
            out.append(diff_id)
        else:
            out.append("sha256:" + hashlib.sha256(f"{out[-1]} {diff_id}".encode()).hexdigest())
    return out


def chain_id(diff_ids: Sequence[str]) -> str:
    ids = chain_ids(diff_ids)
    if not ids:
        raise ValueError("chain_id of an empty layer list")
    return ids[-1]
