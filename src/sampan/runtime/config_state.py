"""The validated config of an existing container, re-read from its state (bundle may be gone)."""

from __future__ import annotations

from sampan.errdefs import InvalidArgument
from sampan.runtime.config import Config, parse
from sampan.runtime.state import Container


def config_of(c: Container) -> Config | None:
    """The container's config as recorded at create; None if the record is unusable."""
    st = c.state
    if not st.spec:
        return None
    try:
        return parse(st.spec, st.bundle, check_rootfs=False)
    except InvalidArgument:
        return None
