"""A sampand with busybox pulled, shared by the module (fixtures from the containers tests)."""

from tests.integration.cli_containers.conftest import daemon  # noqa: F401 (fixture re-exported)
from tests.integration.containers.conftest import busybox_ref  # noqa: F401 (fixture re-exported)
