"""Fill a create request's Config from the image's config, the way dockerd does at create.

`docker inspect` shows the merged Config, so this happens once, before the record is saved.
"""

from __future__ import annotations

from typing import Any

from sampan.errdefs import InvalidArgument


def _key(entry: str) -> str:
    return entry.split("=", 1)[0]


def merge_config(config: dict[str, Any], image: dict[str, Any]) -> dict[str, Any]:
    out = dict(config)
    if not out.get("User"):
        out["User"] = image.get("User") or ""
    env = list(out.get("Env") or [])
    keys = {_key(e) for e in env}
    env += [e for e in image.get("Env") or [] if _key(e) not in keys]
    out["Env"] = env
    labels = dict(image.get("Labels") or {})
    labels.update(out.get("Labels") or {})
    out["Labels"] = labels
    if not out.get("Entrypoint"):
        if not out.get("Cmd"):
            out["Cmd"] = image.get("Cmd")
        if out.get("Entrypoint") is None:
            out["Entrypoint"] = image.get("Entrypoint")
    if not out.get("WorkingDir"):
        out["WorkingDir"] = image.get("WorkingDir") or ""
    if not out.get("ExposedPorts") and image.get("ExposedPorts"):
        out["ExposedPorts"] = image["ExposedPorts"]
    if not out.get("Volumes") and image.get("Volumes"):
        out["Volumes"] = image["Volumes"]
    if not out.get("StopSignal") and image.get("StopSignal"):
        out["StopSignal"] = image["StopSignal"]
    if out.get("Healthcheck") is None and image.get("Healthcheck") is not None:
        out["Healthcheck"] = image["Healthcheck"]
    return out


def command(config: dict[str, Any]) -> tuple[str, list[str]]:
    """Path and Args: the entrypoint followed by the command; 400 when there is none."""
    argv = [str(a) for a in (config.get("Entrypoint") or []) + (config.get("Cmd") or [])]
    if argv and argv[0] == "" and len(config.get("Entrypoint") or []) == 1:
        argv = argv[1:]  # `--entrypoint ""` clears the image's entrypoint
    if not argv:
        raise InvalidArgument("No command specified")
    return argv[0], argv[1:]
