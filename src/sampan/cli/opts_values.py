"""Parsers for the values of `run`/`create` flags, with the docker CLI's rules and messages.

Sizes are go-units RAMInBytes (binary multiples), `--cpus` is an exact decimal, `--mount` is
docker's CSV grammar, ports are nat.ParsePortSpec's. Each parser raises `OptError` with the
text docker prints; the caller turns it into exit status 125.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

_BINARY = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


class OptError(Exception):
    """A flag value docker would refuse (printed after `docker: `, exit 125)."""


def ram_in_bytes(text: str) -> int:
    """go-units RAMInBytes: `64m` -> 67108864, `1.5g`, `100` (bytes), `2KiB`."""
    s = text.strip().lower()
    num = s.rstrip("kmgtpib ")
    unit = s[len(num) :].strip()
    if unit.endswith("b"):
        unit = unit[:-1]
    if unit.endswith("i"):
        unit = unit[:-1]
    try:
        value = float(num)
    except ValueError:
        raise OptError(f"invalid size: '{text}'") from None
    if unit not in _BINARY or value < 0 or not num[:1].isdigit():
        raise OptError(f"invalid size: '{text}'")
    return int(value * _BINARY[unit])


def nano_cpus(text: str) -> int:
    """`--cpus 1.5` -> 1500000000; more than 9 decimals is "too precise" like docker."""
    from fractions import Fraction

    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise OptError(f'failed to parse {text} as a rational number') from None
    nano = value * 1_000_000_000
    if nano.denominator != 1:
        raise OptError("value is too precise")
    return int(nano)


_DURATION_UNITS = {"ns": 1, "us": 1000, "µs": 1000, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


def go_duration_nanos(text: str) -> int:
    """time.ParseDuration in nanoseconds: `1m30s`, `1.5h`, `250ms`, `-2s`, `0`."""
    from fractions import Fraction

    s = text.strip()
    sign = -1 if s.startswith("-") else 1
    s = s.lstrip("+-")
    if s == "0":
        return 0
    total, i = Fraction(0), 0
    while i < len(s):
        j = i
        while j < len(s) and (s[j].isdigit() or s[j] == "."):
            j += 1
        k = j
        while k < len(s) and not (s[k].isdigit() or s[k] == "."):
            k += 1
        unit = s[j:k]
        if j == i or unit not in _DURATION_UNITS:
            raise OptError(f'time: invalid duration "{text}"')
        try:
            total += Fraction(s[i:j]) * _DURATION_UNITS[unit]
        except ValueError:
            raise OptError(f'time: invalid duration "{text}"') from None
        i = k
    if not s:
        raise OptError(f'time: invalid duration "{text}"')
    return sign * int(total)


def parse_bool(text: str) -> bool:
    if text.lower() in ("1", "t", "true"):
        return True
    if text.lower() in ("0", "f", "false"):
        return False
    raise OptError(f'strconv.ParseBool: parsing "{text}": invalid syntax')


def read_kv_file(path: str, *, lookup: bool) -> list[str]:
    """Lines of an env/label file: comments and blanks skipped, `NAME` alone looked up in our env."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise OptError(f"open {path}: {e.strerror.lower() if e.strerror else e}") from None
    out = []
    for raw in text.splitlines():
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        name, eq, value = line.partition("=")
        if any(c.isspace() for c in name):
            kind = "env" if lookup else "label"
            raise OptError(f"invalid {kind} file ({path}): variable '{name}' contains whitespaces")
        if eq:
            out.append(f"{name}={value}")
        elif lookup and name in os.environ:
            out.append(f"{name}={os.environ[name]}")
    return out


def env_value(text: str) -> str:
    """`-e NAME` takes NAME's value from our environment when it has one."""
    name, eq, _ = text.partition("=")
    if not name:
        raise OptError(f"invalid environment variable: {text}")
    if eq or name not in os.environ:
        return text
    return f"{name}={os.environ[name]}"


def kv_map(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, _, value = item.partition("=")
        out[key] = value
    return out


def parse_mount(spec: str) -> dict[str, Any]:
    """`--mount type=bind,src=/a,dst=/b,readonly` -> a HostConfig.Mounts entry."""
    import csv

    fields = next(csv.reader([spec]), [])
    mount: dict[str, Any] = {"Type": "volume"}
    bind: dict[str, Any] = {}
    volume: dict[str, Any] = {}
    tmpfs: dict[str, Any] = {}
    for field in fields:
        key, eq, value = field.partition("=")
        key = key.strip().lower()
        if not eq:
            if key in ("readonly", "ro"):
                mount["ReadOnly"] = True
                continue
            if key == "volume-nocopy":
                volume["NoCopy"] = True
                continue
            if key == "bind-nonrecursive":
                bind["NonRecursive"] = True
                continue
            raise OptError(f"invalid field '{field}' must be a key=value pair")
        if key == "type":
            mount["Type"] = value.lower()
        elif key in ("source", "src"):
            mount["Source"] = value
        elif key in ("target", "dst", "destination"):
            mount["Target"] = value
        elif key in ("readonly", "ro"):
            mount["ReadOnly"] = _field_bool(key, value)
        elif key == "consistency":
            mount["Consistency"] = value
        elif key == "bind-propagation":
            bind["Propagation"] = value.lower()
        elif key == "bind-nonrecursive":
            bind["NonRecursive"] = _field_bool(key, value)
        elif key == "volume-nocopy":
            volume["NoCopy"] = _field_bool(key, value)
        elif key == "volume-driver":
            volume.setdefault("DriverConfig", {})["Name"] = value
        elif key == "volume-label":
            k, _, v = value.partition("=")
            volume.setdefault("Labels", {})[k] = v
        elif key == "volume-opt":
            k, _, v = value.partition("=")
            volume.setdefault("DriverConfig", {}).setdefault("Options", {})[k] = v
        elif key == "volume-subpath":
            volume["Subpath"] = value
        elif key == "tmpfs-size":
            tmpfs["SizeBytes"] = ram_in_bytes(value)
        elif key == "tmpfs-mode":
            try:
                tmpfs["Mode"] = int(value, 8)
            except ValueError:
                raise OptError(f"invalid value for {key}: {value}") from None
        else:
            raise OptError(f"unexpected key '{key}' in '{field}'")
    kind = mount["Type"]
    if kind not in ("bind", "volume", "tmpfs", "npipe", "cluster", "image"):
        raise OptError(f"invalid mount type: {kind}")
    if "Target" not in mount:
        raise OptError("target is required")
    if volume:
        volume.setdefault("DriverConfig", {})
    for options, owner, name in ((bind, "bind", "BindOptions"), (volume, "volume", "VolumeOptions"),
                                 (tmpfs, "tmpfs", "TmpfsOptions")):
        if options and kind != owner:
            raise OptError(f"cannot mix '{owner}-*' options with mount type '{kind}'")
        if options:
            mount[name] = options
    return mount


def _field_bool(key: str, value: str) -> bool:
    try:
        return parse_bool(value)
    except OptError:
        raise OptError(f"invalid value for {key}: {value}") from None


def parse_device(spec: str) -> dict[str, str]:
    """`/dev/a[:/dev/b][:rwm]` -> a HostConfig.Devices entry."""
    parts = spec.split(":")
    if len(parts) > 3 or not parts[0]:
        raise OptError(f"invalid device specification: {spec}")
    src, dst, perms = parts[0], "", "rwm"
    if len(parts) == 3:
        dst, perms = parts[1], parts[2]
    elif len(parts) == 2:
        if parts[1] and set(parts[1]) <= set("rwm"):
            perms = parts[1]
        else:
            dst = parts[1]
    if not set(perms) <= set("rwm"):
        raise OptError(f"invalid device mode: {perms}")
    return {"PathOnHost": src, "PathInContainer": dst or src, "CgroupPermissions": perms}


def parse_ulimit(spec: str) -> dict[str, Any]:
    """`nofile=1024:2048` -> {"Name": "nofile", "Soft": 1024, "Hard": 2048}."""
    name, eq, values = spec.partition("=")
    if not eq:
        raise OptError(f"invalid ulimit argument: {spec}")
    soft_text, colon, hard_text = values.partition(":")
    try:
        soft = int(soft_text)
        hard = int(hard_text) if colon else soft
    except ValueError:
        raise OptError(f"invalid ulimit argument: {spec}") from None
    if soft > hard:
        raise OptError(f"ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}")
    return {"Name": name, "Hard": hard, "Soft": soft}


def parse_extra_host(spec: str) -> str:
    """`host:ip` or `host=ip` -> `host:ip` (docker 28 sends the colon form)."""
    name, eq, ip = spec.partition("=")
    if not eq:
        name, sep, ip = spec.partition(":")
        if not sep:
            raise OptError(f"bad format for add-host: {spec!r}")
    return f"{name}:{ip.strip('[]') if eq else ip}"


def parse_restart(spec: str) -> dict[str, Any]:
    name, _, count = spec.partition(":")
    if name not in ("", "no", "always", "unless-stopped", "on-failure"):
        raise OptError(f"invalid restart policy: unknown policy '{name}'; use one of 'no', 'always', "
                       "'on-failure', or 'unless-stopped'")
    retries = 0
    if count:
        if name != "on-failure":
            raise OptError("invalid restart policy: maximum retry count can only be used with 'on-failure'")
        try:
            retries = int(count)
        except ValueError:
            raise OptError('invalid restart policy format: maximum retry count must be an integer') from None
    return {"Name": name or "no", "MaximumRetryCount": retries}


def parse_ports(publish: list[str], expose: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(-p, --expose) -> (ExposedPorts, PortBindings), nat.ParsePortSpecs' forms without ranges."""
    exposed: dict[str, Any] = {}
    bindings: dict[str, list[dict[str, str]]] = {}
    for spec in publish:
        rest, _, proto = spec.rpartition("/") if "/" in spec else (spec, "", "tcp")
        parts = rest.rsplit(":", 2) if not rest.startswith("[") else _split_v6(rest)
        host_ip = host_port = ""
        if len(parts) == 3:
            host_ip, host_port, container = parts
        elif len(parts) == 2:
            host_port, container = parts
        else:
            container = parts[0]
        if not container.isdigit():
            raise OptError(f"invalid containerPort: {container}")
        key = f"{container}/{proto.lower() or 'tcp'}"
        exposed[key] = {}
        binding = {"HostIp": host_ip.strip("[]"), "HostPort": host_port}
        bindings.setdefault(key, []).append(binding)
    for spec in expose:
        port, _, proto = spec.partition("/")
        if not port.isdigit():
            raise OptError(f"invalid range format for --expose: {spec}")
        exposed.setdefault(f"{port}/{proto or 'tcp'}", {})
    return exposed, dict(bindings)


def _split_v6(rest: str) -> list[str]:
    close = rest.find("]")
    head, tail = rest[: close + 1], rest[close + 2 :]
    return [head, *tail.split(":", 1)]


def normalize_caps(caps: list[str]) -> list[str]:
    out: list[str] = []
    for cap in caps:
        c = cap.strip().upper()
        if c and c != "ALL" and not c.startswith("CAP_"):
            c = "CAP_" + c
        if c and c not in out:
            out.append(c)
    return sorted(out)


def security_opts(items: list[str]) -> list[str]:
    """`seccomp=FILE` carries the profile itself (compact JSON), as the docker CLI sends it."""
    import json

    out = []
    for opt in items:
        key, eq, value = opt.partition("=")
        if not eq:
            key, eq, value = opt.partition(":")
        if key == "seccomp" and eq and value != "unconfined":
            try:
                with open(value, "rb") as f:
                    profile = json.loads(f.read())
            except (OSError, ValueError) as e:
                raise OptError(f"opening seccomp profile ({value}) failed: {e}") from None
            opt = "seccomp=" + json.dumps(profile, separators=(",", ":"))
        out.append(opt)
    return out
