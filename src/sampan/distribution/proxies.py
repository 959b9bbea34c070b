"""HTTP(S)_PROXY / NO_PROXY, read the way dockerd (Go's httpproxy) reads them.

dockerd pulls through the proxy named in its environment; loopback and `localhost` are never
proxied, NO_PROXY lists hosts, domain suffixes, host:port pairs, IPs and CIDRs, and `*`
turns proxying off.
"""

from __future__ import annotations

import base64
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from sampan.distribution.endpoints import split_hostport


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    authorization: str = ""  # Proxy-Authorization value, from user:pass in the proxy URL


def parse_proxy(url: str) -> Proxy | None:
    if not url:
        return None
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    auth = ""
    if parts.username is not None:
        cred = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        auth = "Basic " + base64.b64encode(cred.encode()).decode()
    return Proxy(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), auth)


@dataclass(frozen=True)
class ProxySettings:
    http: Proxy | None = None
    https: Proxy | None = None
    no_proxy: tuple[str, ...] = ()

    @classmethod
    def from_environ(cls, env: Mapping[str, str] | None = None) -> ProxySettings:
        env = os.environ if env is None else env

        def get(name: str) -> str:
            return env.get(name.upper()) or env.get(name.lower()) or ""

        return cls(
            http=parse_proxy(get("http_proxy")),
            https=parse_proxy(get("https_proxy")),
            no_proxy=tuple(e.strip().lower() for e in get("no_proxy").split(",") if e.strip()),
        )

    def proxy_for(self, scheme: str, netloc: str) -> Proxy | None:
        proxy = self.https if scheme == "https" else self.http
        if proxy is None or self._bypass(netloc.lower(), scheme):
            return None
        return proxy

    def _bypass(self, netloc: str, scheme: str) -> bool:
        host, port = split_hostport(netloc)
        port = port or (443 if scheme == "https" else 80)
        if host == "localhost":
            return True
        ip = _ip(host)
        if ip is not None and ip.is_loopback:
            return True
        for entry in self.no_proxy:
            if entry == "*":
                return True
            if "/" in entry and ip is not None:
                try:
                    if ip in ipaddress.ip_network(entry, strict=False):
                        return True
                except ValueError:
                    pass
                continue
            name, eport = split_hostport(entry)
            if eport is not None and eport != port:
                continue
            if ip is not None and _ip(name) == ip:
                return True
            suffix = name.lstrip("*").lstrip(".")
            if suffix and (host == suffix or host.endswith("." + suffix)):
                return True
        return False


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
