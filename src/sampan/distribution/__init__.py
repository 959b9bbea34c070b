"""Registry client: resolve references to manifests, fetch and push blobs, registry auth.

Modules, top-down: `client` (RegistryClient, Resolved), `blobs` (resumable BlobReader),
`push`, `tokens` (Basic/Bearer authorization, token cache), `auth` (AuthConfig,
X-Registry-Auth, config.json and credential helpers), `challenge` (WWW-Authenticate),
`errors` (Docker's wording), `endpoints` (hosts, insecure registries, TLS), `proxies`
(HTTP(S)_PROXY), `transport` (pooled http.client connections, redirects).
"""

from sampan.distribution.auth import AuthConfig, load_docker_config_auth
from sampan.distribution.blobs import BlobReader
from sampan.distribution.client import RegistryClient, Resolved

__all__ = ["AuthConfig", "BlobReader", "RegistryClient", "Resolved", "load_docker_config_auth"]
