"""`sampan images` / `image ls`: docker's image table, one row per repository tag."""

from __future__ import annotations

from sampan.cli import format as fmtlib
from sampan.cli.context import Cli
from sampan.cli.flags import TABLE_FORMAT_HELP, Flag, Parsed, Spec, parse_filters
from sampan.cli.formatter import render, resolve

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

DEFAULT_TABLE = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
DIGESTS_TABLE = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
HEADERS = {
    "ID": "IMAGE ID", "Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST",
    "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE", "Containers": "CONTAINERS",
    "VirtualSize": "VIRTUAL SIZE", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE",
}
NONE = "<none>"


def familiar(name: str) -> str:
    """`docker.io/library/busybox` -> `busybox` (the daemon usually sends familiar names)."""
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/", "index.docker.io/"):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def split_tag(ref: str) -> tuple[str, str]:
    name, sep, tag = ref.rpartition(":")
    if not sep or "/" in tag:
        return familiar(ref), ""
    return familiar(name), tag


class ImageRow:
    """One line of `images`; fields are docker's formatter fields (.ID, .Repository, ...)."""

    go_type = "*formatter.imageContext"

    def __init__(self, image: dict[str, Any], repo: str, tag: str, digest: str, *, trunc: bool,
                 now: float | None = None) -> None:
        self.image, self.repo, self.tag, self.digest, self.trunc = image, repo, tag, digest, trunc
        self.now = now

    def ID(self) -> str:
        image_id = str(self.image.get("Id", ""))
        return fmtlib.trunc_id(image_id) if self.trunc else image_id

    def Repository(self) -> str:
        return self.repo

    def Tag(self) -> str:
        return self.tag

    def Digest(self) -> str:
        return self.digest

    def CreatedSince(self) -> str:
        return fmtlib.since(int(self.image.get("Created") or 0), self.now)

    def CreatedAt(self) -> str:
        return fmtlib.go_time_string(int(self.image.get("Created") or 0))

    def Size(self) -> str:
        return fmtlib.human_size(float(self.image.get("Size") or 0), 3)

    def VirtualSize(self) -> str:
        return fmtlib.human_size(float(self.image.get("VirtualSize", self.image.get("Size")) or 0))

    def Containers(self) -> str:
        n = self.image.get("Containers", -1)
        return "N/A" if n is None or n == -1 else str(n)

    def SharedSize(self) -> str:
        n = self.image.get("SharedSize", -1)
        return "N/A" if n is None or n == -1 else fmtlib.human_size(float(n))  # go-units HumanSize: 4 digits

    def UniqueSize(self) -> str:
        shared = self.image.get("SharedSize", -1)
        if shared is None or shared == -1:
            return "N/A"
        return fmtlib.human_size(float((self.image.get("Size") or 0) - shared))

    def to_template_json(self) -> dict[str, str]:
        return {name: getattr(self, name)() for name in sorted(HEADERS)}


def image_rows(image: dict[str, Any], *, trunc: bool = True, digests: bool = False,
               now: float | None = None) -> list[ImageRow]:
    """docker's rows for one image: one per tag (per digest with --digests), `<none>` if dangling."""
    tags = [t for t in image.get("RepoTags") or [] if t != "<none>:<none>"]
    repo_digests = [d for d in image.get("RepoDigests") or [] if d != "<none>@<none>"]
    if not tags and not repo_digests:
        return [ImageRow(image, NONE, NONE, NONE, trunc=trunc, now=now)]
    by_repo: dict[str, list[str]] = {}
    for ref in tags:
        repo, tag = split_tag(ref)
        if tag:
            by_repo.setdefault(repo, []).append(tag)
    digests_by_repo: dict[str, list[str]] = {}
    for ref in repo_digests:
        name, sep, dgst = ref.partition("@")
        if sep:
            digests_by_repo.setdefault(familiar(name), []).append(dgst)
    rows = []
    for repo, repo_tags in by_repo.items():
        shown = digests_by_repo.pop(repo, []) if digests else []
        digests_by_repo.pop(repo, None)
        for tag in repo_tags:
            for dgst in shown or [NONE]:
                rows.append(ImageRow(image, repo, tag, dgst, trunc=trunc, now=now))
    for repo, dgsts in digests_by_repo.items():
        if digests:
            rows.extend(ImageRow(image, repo, NONE, d, trunc=trunc, now=now) for d in dgsts)
        else:
            rows.append(ImageRow(image, repo, NONE, "", trunc=trunc, now=now))
    return rows


def run_ls(cli: Cli, o: Parsed) -> int:
    filters = parse_filters(o.filter)
    if o.args:
        filters.setdefault("reference", []).append(o.args[0])
    images = cli.client().images(all=o.all, filters=filters or None)
    fmt = o.format
    if not fmt and not o.quiet:
        fmt = str(cli.config().get("imagesFormat") or "")
    fmt = resolve(fmt, DIGESTS_TABLE if o.digests else DEFAULT_TABLE, quiet=o.quiet)
    digests = o.digests or ".Digest" in fmt
    rows = [row for image in images for row in image_rows(image, trunc=not o.no_trunc, digests=digests)]
    cli.write(render(fmt, rows, HEADERS))
    return 0


LS = Spec(
    "[OPTIONS] [REPOSITORY[:TAG]]",
    "List images",
    [
        Flag("all", "a", "bool", "Show all images (default hides intermediate images)"),
        Flag("digests", "", "bool", "Show digests"),
        Flag("filter", "f", "filter", "Filter output based on conditions provided"),
        Flag("format", "", "string", TABLE_FORMAT_HELP),
        Flag("no-trunc", "", "bool", "Don't truncate output"),
        Flag("quiet", "q", "bool", "Only show image IDs"),
    ],
    run_ls,
    max_args=1,
)
