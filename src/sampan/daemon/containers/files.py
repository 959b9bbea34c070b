"""The files a container gets bind-mounted from its directory: hosts, hostname, resolv.conf."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from sampan.shim.wire import write_atomic

DEFAULT_HOSTS = (
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)
FALLBACK_NAMESERVERS = ("8.8.8.8", "8.8.4.4")


def _is_loopback(addr: str) -> bool:
    try:
        return ipaddress.ip_address(addr.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def resolv_conf(host_text: str, host_config: dict[str, Any], *, host_network: bool) -> str:
    """The host's resolv.conf without loopback nameservers (unless the container shares the
    host's network), with HostConfig Dns/DnsSearch/DnsOptions replacing their lines, like Docker."""
    dns = list(host_config.get("Dns") or [])
    search = list(host_config.get("DnsSearch") or [])
    options = list(host_config.get("DnsOptions") or [])
    lines: list[str] = []
    servers: list[str] = []
    for line in host_text.splitlines():
        words = line.split()
        if words and words[0] == "nameserver" and len(words) > 1:
            if dns or (not host_network and _is_loopback(words[1])):
                continue
            servers.append(words[1])
        elif words and ((words[0] in ("search", "domain") and search) or (words[0] == "options" and options)):
            continue
        lines.append(line)
    for server in dns:
        lines.append(f"nameserver {server}")
    if not dns and not servers:
        lines += [f"nameserver {s}" for s in FALLBACK_NAMESERVERS]
    if search:
        lines.append("search " + " ".join(search))
    if options:
        lines.append("options " + " ".join(options))
    return "\n".join(lines) + "\n"


def hosts(hostname: str, host_config: dict[str, Any], *, host_network: bool, host_hosts: str = "") -> str:
    """Docker's default /etc/hosts (or the host's with host networking) plus ExtraHosts."""
    text = host_hosts if host_network and host_hosts else DEFAULT_HOSTS
    if not text.endswith("\n"):
        text += "\n"
    for entry in host_config.get("ExtraHosts") or []:
        name, _, addr = str(entry).partition(":")
        if addr == "host-gateway":
            addr = "127.0.0.1"
        text += f"{addr}\t{name}\n"
    return text


def container_hostname(config: dict[str, Any], container_id: str, *, host_network: bool) -> str:
    if config.get("Hostname"):
        return str(config["Hostname"])
    return socket.gethostname() if host_network else container_id[:12]


def write_files(directory: str, *, container_id: str, config: dict[str, Any], host_config: dict[str, Any]) -> str:
    """Write hosts, hostname and resolv.conf into the container's directory; the hostname."""
    host_network = host_config.get("NetworkMode") == "host"
    name = container_hostname(config, container_id, host_network=host_network)
    host_hosts = _read("/etc/hosts")
    write_atomic(f"{directory}/hostname", (name + "\n").encode(), 0o644)
    write_atomic(f"{directory}/hosts", hosts(name, host_config, host_network=host_network,
                                             host_hosts=host_hosts).encode(), 0o644)
    write_atomic(f"{directory}/resolv.conf",
                 resolv_conf(_read("/etc/resolv.conf"), host_config, host_network=host_network).encode(), 0o644)
    return name


def _read(path: str) -> str:
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""
