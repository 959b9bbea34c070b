"""Where a registry lives and how to talk to it: HTTPS host, insecure policy, TLS contexts.

Docker's rules: docker.io is served by registry-1.docker.io; loopback registries and the
configured `insecure-registries` (host[:port] or CIDR) may be reached without certificate
checks and, when TLS fails, over plain HTTP; everything else is HTTPS with verification and
optional per-host CAs under certs.d.
"""

from __future__ import annotations

import glob
import ipaddress
import logging
import os
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass

from sampan.errdefs import InvalidArgument

log = logging.getLogger(__name__)

DOCKER_HUB_HOST = "registry-1.docker.io"
CERTS_DIRS = ("/etc/docker/certs.d", "/etc/sampan/certs.d")
_LOOPBACK_NETS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Endpoint:
    """A registry's API address. `host` is what goes into URLs and certs.d (`h:port`)."""

    domain: str  # the reference domain, e.g. docker.io
    host: str  # network location, e.g. registry-1.docker.io or 127.0.0.1:5000
    insecure: bool


def split_hostport(host: str) -> tuple[str, int | None]:
    """`h:p`, `[v6]:p` or `h` -> (hostname, port or None)."""
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            raise InvalidArgument(f"invalid registry host: {host!r}")
        name, rest = host[1:end], host[end + 1:]
        return name, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit() and ":" not in name:
        return name, int(port)
    return host, None


class InsecurePolicy:
    """Decides which registries may skip TLS verification (and fall back to HTTP)."""

    def __init__(self, entries: Sequence[str] = ()) -> None:
        self.hosts: set[str] = set()
        self.networks: list[Network] = list(_LOOPBACK_NETS)
        for entry in entries:
            entry = entry.strip()
            for prefix in ("http://", "https://"):
                if entry.startswith(prefix):
                    entry = entry[len(prefix):]
            entry = entry.rstrip("/")
            if not entry:
                continue
            if "/" in entry:
                try:
                    self.networks.append(ipaddress.ip_network(entry, strict=False))
                    continue
                except ValueError as e:
                    raise InvalidArgument(f"insecure registry {entry} is not valid: {e}") from e
            self.hosts.add(entry.lower())

    def is_insecure(self, host: str) -> bool:
        host = host.lower()
        if host in self.hosts:
            return True
        name, _ = split_hostport(host)
        if name in self.hosts or name == "localhost":
            return True
        return any(ip in net for ip in _resolve(name) for net in self.networks)


def _resolve(name: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The host's IPs: literal ones directly; names through the resolver (Docker does too)."""
    try:
        return [ipaddress.ip_address(name)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    out = []
    for info in infos:
        try:
            out.append(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
        except ValueError:
            continue
    return out


def endpoint_for(domain: str, policy: InsecurePolicy) -> Endpoint:
    host = DOCKER_HUB_HOST if domain in ("docker.io", "index.docker.io") else domain
    insecure = False if host == DOCKER_HUB_HOST else policy.is_insecure(domain)
    return Endpoint(domain=domain, host=host, insecure=insecure)


def tls_context(host: str, insecure: bool, certs_dirs: Sequence[str] = CERTS_DIRS) -> ssl.SSLContext:
    """A client TLS context for `host`; per-host CAs (*.crt) and client pairs (*.cert/*.key)."""
    ctx = ssl.create_default_context()
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    for base in certs_dirs:
        d = os.path.join(base, host)
        if not os.path.isdir(d):
            continue
        for ca in sorted(glob.glob(os.path.join(d, "*.crt"))):
            try:
                ctx.load_verify_locations(cafile=ca)
            except (OSError, ssl.SSLError) as e:
                log.warning("ignoring CA %s: %s", ca, e)
        for cert in sorted(glob.glob(os.path.join(d, "*.cert"))):
            key = cert[: -len(".cert")] + ".key"
            if not os.path.exists(key):
                raise InvalidArgument(f"missing key {os.path.basename(key)} for client certificate {cert}")
            try:
                ctx.load_cert_chain(cert, key)
            except (OSError, ssl.SSLError) as e:
                raise InvalidArgument(f"invalid client certificate {cert}: {e}") from e
    return ctx
