"""Registry client: resolve references to manifests, fetch blobs, registry auth."""

from sampan.distribution.auth import AuthConfig, load_docker_config_auth
from sampan.distribution.blobs import BlobReader
from sampan.distribution.client import RegistryClient, Resolved

__all__ = ["AuthConfig", "BlobReader", "RegistryClient", "Resolved", "load_docker_config_auth"]
