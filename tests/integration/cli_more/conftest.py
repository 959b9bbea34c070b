"""A real sampand on temp roots for the CLI's cp/diff/export/pause/port/rename/top/stats/df commands."""

from __future__ import annotations

from tests.integration.containers.conftest import busybox_ref, daemon  # noqa: F401 (fixtures re-exported)
