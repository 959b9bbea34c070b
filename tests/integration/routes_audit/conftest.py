"""A sampand with busybox pulled (the containers tests' fixtures)."""

from tests.integration.containers.conftest import busybox_ref, daemon  # noqa: F401 (fixtures re-exported)
