"""`sampan tag`, `rmi` and `image prune`: the commands that change local images."""

from __future__ import annotations

from sampan import errdefs
from sampan.cli.context import Cli
from sampan.cli.errors import StatusError
from sampan.cli.flags import Flag, Parsed, Spec, parse_filters
from sampan.cli.format import human_size

DANGLING_WARNING = "WARNING! This will remove all dangling images.\nAre you sure you want to continue?"
ALL_WARNING = ("WARNING! This will remove all images without at least one container associated to them.\n"
               "Are you sure you want to continue?")


def run_tag(cli: Cli, o: Parsed) -> int:
    from sampan.oci import reference

    source, target = o.args
    for text in (source, target):
        if text is source and _is_id(source):
            continue
        try:
            reference.parse_normalized_named(text)
        except errdefs.InvalidArgument as e:
            raise StatusError(f'Error parsing reference: "{text}" is not a valid repository/tag: {e}', 1) from None
    ref = reference.parse_normalized_named(target)
    if ref.digest:
        raise StatusError("refusing to create a tag with a digest reference", 1)
    cli.client().tag_image(source, ref.name, ref.tag or reference.DEFAULT_TAG)
    return 0


def _is_id(text: str) -> bool:
    hexpart = text[len("sha256:") :] if text.startswith("sha256:") else text
    return 0 < len(hexpart) <= 64 and all(c in "0123456789abcdef" for c in hexpart)


def run_rmi(cli: Cli, o: Parsed) -> int:
    client = cli.client()
    errors: list[str] = []
    for name in o.args:
        try:
            items = client.remove_image(name, force=o.force, noprune=o.no_prune)
        except errdefs.SampanError as e:
            from sampan.client.errors import is_local

            if is_local(e):
                raise
            errors.append(f"Error response from daemon: {e}")
            continue
        for item in items:
            if item.get("Deleted"):
                cli.write(f"Deleted: {item['Deleted']}\n")
            else:
                cli.write(f"Untagged: {item.get('Untagged', '')}\n")
    if errors:
        raise StatusError("\n".join(errors), 1)
    return 0


def confirm(cli: Cli, message: str) -> bool:
    """docker's `[y/N]` prompt; anything but y/Y (or end of input) is no."""
    cli.write(f"{message} [y/N] ")
    cli.out.flush()
    answer = cli.inp.readline()
    return answer.strip() in ("y", "Y")


def run_prune(cli: Cli, o: Parsed) -> int:
    filters = parse_filters(o.filter)
    filters.setdefault("dangling", []).append("false" if o.all else "true")
    if not o.force and not confirm(cli, ALL_WARNING if o.all else DANGLING_WARNING):
        return 0
    report = cli.client().prune_images(filters)
    deleted = report.get("ImagesDeleted") or []
    if deleted:
        lines = ["Deleted Images:"]
        for item in deleted:
            if item.get("Untagged"):
                lines.append(f"untagged: {item['Untagged']}")
            else:
                lines.append(f"deleted: {item.get('Deleted', '')}")
        cli.write("\n".join(lines) + "\n\n")
    cli.write(f"Total reclaimed space: {human_size(float(report.get('SpaceReclaimed') or 0))}\n")
    return 0


TAG = Spec("SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
           [], run_tag, min_args=2, max_args=2)

RM = Spec(
    "[OPTIONS] IMAGE [IMAGE...]",
    "Remove one or more images",
    [
        Flag("force", "f", "bool", "Force removal of the image"),
        Flag("no-prune", "", "bool", "Do not delete untagged parents"),
    ],
    run_rmi,
    min_args=1,
)

PRUNE = Spec(
    "[OPTIONS]",
    "Remove unused images",
    [
        Flag("all", "a", "bool", "Remove all unused images, not just dangling ones"),
        Flag("filter", "", "filter", 'Provide filter values (e.g. "until=<timestamp>")'),
        Flag("force", "f", "bool", "Do not prompt for confirmation"),
    ],
    run_prune,
    max_args=0,
)
