"""`sampan inspect` and `image inspect`: a JSON array like docker's, or a template per object."""

from __future__ import annotations

import json
from collections.abc import Callable

from sampan import errdefs
from sampan.cli.context import Cli
from sampan.cli.errors import StatusError
from sampan.cli.flags import Flag, Parsed, Spec
from sampan.cli.formatter import prepare
from sampan.cli.template import Template
from sampan.cli.template_funcs import go_json_escape

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

FORMAT_FLAG_HELP = (
    "Format output using a custom template:\n"
    "'json':             Print in JSON format\n"
    "'TEMPLATE':         Print output using the given Go template."
)
KNOWN_TYPES = ("config", "container", "image", "network", "node", "plugin", "secret", "service", "task",
               "volume")


def go_json_indent(value: Any) -> str:
    """json.MarshalIndent with 4 spaces, escaping <, > and & as Go's encoder does."""
    return go_json_escape(json.dumps(value, indent=4, ensure_ascii=False))


def inspect_all(cli: Cli, names: list[str], fmt: str, get: Callable[[str], Any],
                not_found: Callable[[str], str]) -> int:
    """Fetch each name, print the array (or the template per object), then the errors; exit 1 if any."""
    tmpl = Template(prepare(fmt)) if fmt and fmt != "json" else None
    found: list[Any] = []
    errors: list[str] = []
    for name in names:
        try:
            found.append(get(name))
        except errdefs.NotFound:
            errors.append(not_found(name))
    if tmpl is not None:
        cli.write("".join(tmpl.execute(obj) + "\n" for obj in found))
    elif fmt == "json":  # docker 28: one compact array, not HTML-escaped
        cli.write(json.dumps(found, ensure_ascii=False, separators=(",", ":")) + "\n")
    else:
        cli.write(go_json_indent(found) + "\n")
    if errors:
        raise StatusError("\n".join(errors), 1)
    return 0


def run_image_inspect(cli: Cli, o: Parsed) -> int:
    client = cli.client()
    return inspect_all(cli, o.args, o.format, client.inspect_image, lambda n: f"Error: No such image: {n}")


def run_container_inspect(cli: Cli, o: Parsed) -> int:
    client = cli.client()
    return inspect_all(cli, o.args, o.format, lambda n: client.inspect_container(n, size=o.size),
                       lambda n: f"Error: No such container: {n}")


def run_inspect(cli: Cli, o: Parsed) -> int:
    if o.type and o.type not in KNOWN_TYPES:
        raise StatusError(f'"{o.type}" is not a valid value for --type', 1)
    if o.type not in ("", "image", "container"):
        raise StatusError(f"inspecting objects of type {o.type!r} is not supported yet", 1)
    client = cli.client()
    if o.type == "image":
        return inspect_all(cli, o.args, o.format, client.inspect_image,
                           lambda n: f"Error: No such image: {n}")
    if o.type == "container":
        return run_container_inspect(cli, o)

    def container_then_image(name: str) -> Any:
        """docker's order when no --type is given: containers first, then images."""
        try:
            return client.inspect_container(name, size=o.size)
        except errdefs.NotFound:
            return client.inspect_image(name)

    return inspect_all(cli, o.args, o.format, container_then_image, lambda n: f"Error: No such object: {n}")


CONTAINER_INSPECT = Spec(
    "[OPTIONS] CONTAINER [CONTAINER...]",
    "Display detailed information on one or more containers",
    [
        Flag("format", "f", "string", FORMAT_FLAG_HELP),
        Flag("size", "s", "bool", "Display total file sizes"),
    ],
    run_container_inspect,
    min_args=1,
)

IMAGE_INSPECT = Spec(
    "[OPTIONS] IMAGE [IMAGE...]",
    "Display detailed information on one or more images",
    [Flag("format", "f", "string", FORMAT_FLAG_HELP)],
    run_image_inspect,
    min_args=1,
)

INSPECT = Spec(
    "[OPTIONS] NAME|ID [NAME|ID...]",
    "Return low-level information on Docker objects",
    [
        Flag("format", "f", "string", FORMAT_FLAG_HELP),
        Flag("size", "s", "bool", "Display total file sizes if the type is container"),
        Flag("type", "", "string", "Return JSON for specified type"),
    ],
    run_inspect,
    min_args=1,
)
