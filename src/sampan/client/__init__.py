"""The Python Engine API client (HTTP/1.1 over the daemon's unix socket)."""

from sampan.client.api import APIClient
from sampan.client.errors import ConnectionFailed, InvalidHost, LocalError, ProtocolError

__all__ = ["APIClient", "ConnectionFailed", "InvalidHost", "LocalError", "ProtocolError"]
