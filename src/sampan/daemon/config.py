"""sampand's configuration: dockerd's flag names, merged with daemon.json the way dockerd does.

A key in daemon.json that is not a known option is an error, and so is an option given both
as a flag and in the file; both use dockerd's wording, since people search for it.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sampan import __version__
from sampan.errdefs import InvalidArgument

DEFAULT_EXEC_ROOT = "/run/sampan"
DEFAULT_DATA_ROOT = "/var/lib/sampan"
DEFAULT_CONFIG_FILE = "/etc/sampan/daemon.json"
DEFAULT_HOST = f"unix://{DEFAULT_EXEC_ROOT}/sampand.sock"
LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")


@dataclass(frozen=True)
class DaemonConfig:
    hosts: tuple[str, ...] = (DEFAULT_HOST,)
    data_root: str = DEFAULT_DATA_ROOT
    exec_root: str = DEFAULT_EXEC_ROOT
    config_file: str = DEFAULT_CONFIG_FILE
    insecure_registries: tuple[str, ...] = ()
    storage_driver: str = "auto"
    max_concurrent_downloads: int = 3
    debug: bool = False
    log_level: str = "info"
    pidfile: str = field(default="")
    default_runtime: str = "sampan-runtime"
    runtimes: tuple[tuple[str, str], ...] = ()  # extra OCI runtimes: (name, path)

    @property
    def pidfile_path(self) -> str:
        return self.pidfile or os.path.join(self.exec_root, "sampand.pid")

    @property
    def logging_level(self) -> int:
        """The `logging` level for debug/log-level (debug wins, as in dockerd)."""
        import logging

        name = "debug" if self.debug else self.log_level
        return {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING,
                "error": logging.ERROR, "fatal": logging.CRITICAL}.get(name, logging.INFO)


@dataclass(frozen=True)
class _Option:
    key: str  # daemon.json key
    attr: str  # DaemonConfig field and argparse dest
    kind: type


_OPTIONS = (
    _Option("hosts", "hosts", list),
    _Option("data-root", "data_root", str),
    _Option("exec-root", "exec_root", str),
    _Option("insecure-registries", "insecure_registries", list),
    _Option("storage-driver", "storage_driver", str),
    _Option("max-concurrent-downloads", "max_concurrent_downloads", int),
    _Option("debug", "debug", bool),
    _Option("log-level", "log_level", str),
    _Option("pidfile", "pidfile", str),
    _Option("default-runtime", "default_runtime", str),
    _Option("runtimes", "runtimes", dict),
)
_BY_KEY = {o.key: o for o in _OPTIONS}
_DRIVER_ALIASES = {"overlay2": "overlay", "vfs": "native"}


def build_parser() -> argparse.ArgumentParser:
    """Flags default to None so that "given on the command line" can be told apart."""
    p = argparse.ArgumentParser(prog="sampand", description="sampan's daemon: the Docker Engine API")
    p.add_argument("-H", "--host", dest="hosts", action="append", metavar="HOST",
                   help=f"daemon socket(s) to listen on (default {DEFAULT_HOST})")
    p.add_argument("--data-root", help=f"root of persistent state (default {DEFAULT_DATA_ROOT})")
    p.add_argument("--exec-root", help=f"root of runtime state (default {DEFAULT_EXEC_ROOT})")
    p.add_argument("--config-file", help=f"daemon configuration file (default {DEFAULT_CONFIG_FILE})")
    p.add_argument("--insecure-registry", dest="insecure_registries", action="append",
                   metavar="REGISTRY", help="registry to reach over plain HTTP / unverified TLS")
    p.add_argument("-s", "--storage-driver", help="storage driver: auto, overlay or native")
    p.add_argument("--max-concurrent-downloads", type=int, metavar="N",
                   help="layers pulled in parallel per pull (default 3)")
    p.add_argument("-D", "--debug", action="store_const", const=True, help="debug logging")
    p.add_argument("-l", "--log-level", choices=LOG_LEVELS, help="logging level (default info)")
    p.add_argument("-p", "--pidfile", help="pid file (default EXEC_ROOT/sampand.pid)")
    p.add_argument("--default-runtime", help="OCI runtime for containers (default sampan-runtime)")
    p.add_argument("--add-runtime", dest="runtimes", action="append", metavar="NAME=PATH",
                   help="register an OCI runtime with runc's command line")
    p.add_argument("-v", "--version", action="version", version=f"sampand version {__version__}")
    return p


def _go_value(value: Any) -> str:
    """How dockerd prints a value in its error messages (Go's %v)."""
    if isinstance(value, list | tuple):
        return "[" + " ".join(str(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_config_file(path: str, *, required: bool) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        if required:
            raise InvalidArgument(f"unable to configure the Docker daemon with file {path}: "
                                  f"open {path}: no such file or directory")
        return {}
    if not data.strip():
        return {}
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise InvalidArgument(f"unable to configure the Docker daemon with file {path}: {exc}")
    if not isinstance(raw, dict):
        raise InvalidArgument(f"unable to configure the Docker daemon with file {path}: "
                              "the configuration must be a JSON object")
    return raw


def _check_file_values(raw: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(k for k in raw if k not in _BY_KEY)
    if unknown:
        raise InvalidArgument("the following directives don't match any configuration option: "
                              + ", ".join(unknown))
    out: dict[str, Any] = {}
    for key, value in raw.items():
        opt = _BY_KEY[key]
        ok = isinstance(value, opt.kind) and not (opt.kind is int and isinstance(value, bool))
        if opt.kind is list:
            ok = ok and all(isinstance(v, str) for v in value)
        if opt.kind is dict:
            ok = ok and all(isinstance(v, dict) and isinstance(v.get("path"), str) for v in value.values())
        if not ok:
            raise InvalidArgument(f"invalid value for {key}: {json.dumps(value)}")
        if opt.kind is dict:
            out[opt.attr] = tuple((name, v["path"]) for name, v in value.items())
        else:
            out[opt.attr] = tuple(value) if opt.kind is list else value
    return out


def load_config(argv: Sequence[str] | None = None) -> DaemonConfig:
    """Flags, then daemon.json, then defaults; errors are InvalidArgument with dockerd's text."""
    args = build_parser().parse_args(argv)
    flags = {o.attr: getattr(args, o.attr) for o in _OPTIONS if getattr(args, o.attr) is not None}
    for attr in ("hosts", "insecure_registries"):
        if attr in flags:
            flags[attr] = tuple(flags[attr])
    if "runtimes" in flags:
        pairs = [item.partition("=") for item in flags["runtimes"]]
        if any(not sep or not name or not path for name, sep, path in pairs):
            raise InvalidArgument("runtime must be specified as NAME=PATH")
        flags["runtimes"] = tuple((name, path) for name, _, path in pairs)
    config_file = args.config_file or DEFAULT_CONFIG_FILE
    raw = read_config_file(config_file, required=args.config_file is not None)
    try:
        from_file = _check_file_values(raw)
        conflicts = [
            f"{o.key}: (from flag: {_go_value(flags[o.attr])}, from file: {_go_value(raw[o.key])})"
            for o in _OPTIONS if o.attr in flags and o.key in raw
        ]
        if conflicts:
            raise InvalidArgument("the following directives are specified both as a flag and in the "
                                  "configuration file: " + ", ".join(conflicts))
    except InvalidArgument as exc:
        raise InvalidArgument(f"unable to configure the Docker daemon with file {config_file}: {exc}")
    merged: dict[str, Any] = {**from_file, **flags}
    if "storage_driver" in merged:
        merged["storage_driver"] = _DRIVER_ALIASES.get(merged["storage_driver"], merged["storage_driver"])
    config = DaemonConfig(config_file=config_file, **merged)
    validate(config)
    return config


def validate(config: DaemonConfig) -> None:
    if not config.hosts:
        raise InvalidArgument("no hosts to listen on")
    if config.max_concurrent_downloads < 1:
        raise InvalidArgument(
            f"invalid max concurrent downloads: {config.max_concurrent_downloads}")
    if config.log_level not in LOG_LEVELS:
        raise InvalidArgument(f"Unable to parse logging level: {config.log_level}")
    if config.storage_driver not in ("auto", "overlay", "native"):
        raise InvalidArgument(f"unknown storage driver {config.storage_driver!r} "
                              "(use auto, overlay or native)")
    for path in (config.data_root, config.exec_root):
        if not os.path.isabs(path):
            raise InvalidArgument(f"{path} is not an absolute path")
