"""`sampan system df`: docker's disk usage summary (and `-v` sections) from GET /system/df.

The summary has a row per kind (Images, Containers, Local Volumes, Build Cache) with docker's
reclaimable percentages; `-v` prints a table per kind with the images' shared and unique sizes.
"""

from __future__ import annotations

from sampan.cli import container_calls as calls
from sampan.cli import format as fmtlib
from sampan.cli.context import Cli
from sampan.cli.flags import TABLE_FORMAT_HELP, Flag, Parsed, Spec
from sampan.cli.formatter import render

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

DEFAULT_TABLE = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
RAW_FORMAT = "type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\n" \
             "reclaimable: {{.Reclaimable}}\n"
HEADERS = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"}
IMAGE_TABLE = ("table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t"
               "{{.UniqueSize}}\t{{.Containers}}")
CONTAINER_TABLE = ("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t"
                   "{{.Status}}\t{{.Names}}")
VOLUME_TABLE = "table {{.Name}}\t{{.Links}}\t{{.Size}}"
VOLUME_HEADERS = {"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE", "Driver": "DRIVER"}
CACHE_TABLE = ("table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t"
               "{{.UsageCount}}\t{{.Shared}}")
CACHE_HEADERS = {"ID": "CACHE ID", "CacheType": "CACHE TYPE", "Size": "SIZE", "CreatedSince": "CREATED",
                 "LastUsedSince": "LAST USED", "UsageCount": "USAGE", "Shared": "SHARED"}
ACTIVE_STATES = ("running", "paused", "restarting")


def with_percent(reclaimable: int, total: int) -> str:
    """`1.2MB (40%)`: docker's integer percentage, only when there is a total."""
    text = fmtlib.human_size(float(reclaimable))
    return f"{text} ({reclaimable * 100 // total}%)" if total > 0 else text


class UsageRow:
    """One summary row (docker's diskUsage*Context): .Type .TotalCount .Active .Size .Reclaimable."""

    go_type = "*formatter.diskUsageContext"

    def __init__(self, kind: str, total: int, active: int, size: str, reclaimable: str) -> None:
        self.kind, self.total, self.active, self.size, self.reclaimable = kind, total, active, size, reclaimable

    def Type(self) -> str:
        return self.kind

    def TotalCount(self) -> str:
        return str(self.total)

    def Active(self) -> str:
        return str(self.active)

    def Size(self) -> str:
        return self.size

    def Reclaimable(self) -> str:
        return self.reclaimable

    def to_template_json(self) -> dict[str, str]:
        return {name: getattr(self, name)() for name in ("Active", "Reclaimable", "Size", "TotalCount", "Type")}


def _is_active(c: dict[str, Any]) -> bool:
    state = str(c.get("State") or "")
    return any(s in state for s in ACTIVE_STATES)


def summary_rows(du: dict[str, Any]) -> list[UsageRow]:
    images = du.get("Images") or []
    layers = int(du.get("LayersSize") or 0)
    used = 0
    for i in images:
        size, shared = int(i.get("Size", i.get("VirtualSize", 0)) or 0), int(i.get("SharedSize", 0) or 0)
        if int(i.get("Containers") or 0) != 0 and size != -1 and shared != -1:
            used += size - shared
    containers = du.get("Containers") or []
    c_total = sum(int(c.get("SizeRw") or 0) for c in containers)
    c_free = sum(int(c.get("SizeRw") or 0) for c in containers if not _is_active(c))
    volumes = du.get("Volumes") or []
    sizes = [(int((v.get("UsageData") or {}).get("Size", -1)), int((v.get("UsageData") or {}).get("RefCount", 0)))
             for v in volumes]
    v_total = sum(s for s, _ in sizes if s != -1)
    v_free = sum(s for s, refs in sizes if s != -1 and refs == 0)
    cache = du.get("BuildCache") or []
    b_size = sum(int(b.get("Size") or 0) for b in cache if not b.get("Shared"))
    b_in_use = sum(int(b.get("Size") or 0) for b in cache if b.get("InUse") and not b.get("Shared"))
    return [
        UsageRow("Images", len(images), sum(1 for i in images if int(i.get("Containers") or 0) > 0),
                 fmtlib.human_size(float(layers)), with_percent(layers - used, layers)),
        UsageRow("Containers", len(containers), sum(1 for c in containers if _is_active(c)),
                 fmtlib.human_size(float(c_total)), with_percent(c_free, c_total)),
        UsageRow("Local Volumes", len(volumes), sum(1 for _, refs in sizes if refs > 0),
                 fmtlib.human_size(float(v_total)), with_percent(v_free, v_total)),
        UsageRow("Build Cache", len(cache), sum(1 for b in cache if b.get("InUse")),
                 fmtlib.human_size(float(b_size)), fmtlib.human_size(float(b_size - b_in_use))),
    ]


class VolumeRow:
    go_type = "*formatter.volumeContext"

    def __init__(self, v: dict[str, Any]) -> None:
        self.v = v

    def Name(self) -> str:
        return str(self.v.get("Name") or "")

    def Driver(self) -> str:
        return str(self.v.get("Driver") or "")

    def Links(self) -> str:
        refs = int((self.v.get("UsageData") or {}).get("RefCount", -1))
        return "N/A" if refs == -1 else str(refs)

    def Size(self) -> str:
        size = int((self.v.get("UsageData") or {}).get("Size", -1))
        return "N/A" if size == -1 else fmtlib.human_size(float(size), 3)

    def to_template_json(self) -> dict[str, str]:
        return {"Driver": self.Driver(), "Links": self.Links(), "Name": self.Name(), "Size": self.Size()}


class CacheRow:
    go_type = "*formatter.buildCacheContext"

    def __init__(self, b: dict[str, Any]) -> None:
        self.b = b

    def ID(self) -> str:
        return str(self.b.get("ID") or "")[:12]

    def CacheType(self) -> str:
        return str(self.b.get("Type") or "")

    def Size(self) -> str:
        return fmtlib.human_size(float(self.b.get("Size") or 0), 3)

    def CreatedSince(self) -> str:
        t = fmtlib.parse_rfc3339(str(self.b.get("CreatedAt") or ""))
        return fmtlib.since(t) if t else ""

    def LastUsedSince(self) -> str:
        t = fmtlib.parse_rfc3339(str(self.b.get("LastUsedAt") or ""))
        return fmtlib.since(t) if t else ""

    def UsageCount(self) -> str:
        return str(self.b.get("UsageCount") or 0)

    def Shared(self) -> str:
        return "true" if self.b.get("Shared") else "false"

    def to_template_json(self) -> dict[str, str]:
        names = ("CacheType", "CreatedSince", "ID", "LastUsedSince", "Shared", "Size", "UsageCount")
        return {name: getattr(self, name)() for name in names}


def verbose_rows(du: dict[str, Any], trunc: bool) -> dict[str, list[Any]]:
    """Images (first tag only), containers (no virtual size), volumes, build cache."""
    from sampan.cli.images import NONE, ImageRow, split_tag
    from sampan.cli.ps import ContainerRow

    images = []
    for i in du.get("Images") or []:
        repo = tag = NONE
        tags = [t for t in i.get("RepoTags") or [] if t != "<none>:<none>"]
        if tags:
            name, found = split_tag(tags[0])
            if found:
                repo, tag = name, found
        images.append(ImageRow(i, repo, tag, "", trunc=trunc))
    containers = [ContainerRow(dict(c, SizeRootFs=0), trunc=trunc) for c in du.get("Containers") or []]
    return {"Images": images, "Containers": containers,
            "Volumes": [VolumeRow(v) for v in du.get("Volumes") or []],
            "BuildCache": [CacheRow(b) for b in du.get("BuildCache") or []]}


def verbose_table(du: dict[str, Any]) -> str:
    from sampan.cli.images import HEADERS as IMAGE_HEADERS
    from sampan.cli.ps import HEADERS as CONTAINER_HEADERS

    rows = verbose_rows(du, trunc=True)
    cache_size = sum(int(b.get("Size") or 0) for b in du.get("BuildCache") or [] if not b.get("Shared"))
    return ("Images space usage:\n\n" + render(IMAGE_TABLE, rows["Images"], IMAGE_HEADERS)
            + "\nContainers space usage:\n\n" + render(CONTAINER_TABLE, rows["Containers"], CONTAINER_HEADERS)
            + "\nLocal Volumes space usage:\n\n" + render(VOLUME_TABLE, rows["Volumes"], VOLUME_HEADERS)
            + f"\nBuild cache usage: {fmtlib.human_size(float(cache_size))}\n\n"
            + render(CACHE_TABLE, rows["BuildCache"], CACHE_HEADERS))


def df_output(du: dict[str, Any], fmt: str, verbose: bool) -> str:
    if verbose:
        if fmt in ("", "table"):
            return verbose_table(du)
        if fmt == "json":
            from sampan.cli.template_funcs import fn_json

            rows = verbose_rows(du, trunc=False)
            return "{" + ",".join(f'"{k}":[' + ",".join(fn_json(r) for r in v) + "]" for k, v in rows.items()) + "}\n"
        from sampan.cli.formatter import prepare
        from sampan.cli.template import Template

        return Template(prepare(fmt)).execute(verbose_rows(du, trunc=fmt.startswith("table")))
    if fmt in ("", "table"):
        fmt = DEFAULT_TABLE
    elif fmt == "raw":
        fmt = RAW_FORMAT
    elif fmt == "json":
        fmt = "{{json .}}"
    return render(fmt, summary_rows(du), HEADERS)


def run_df(cli: Cli, o: Parsed) -> int:
    cli.write(df_output(calls.disk_usage(cli.client()), o.format, o.verbose))
    return 0


DF = Spec("[OPTIONS]", "Show sampan disk usage", [
    Flag("format", "", "string", TABLE_FORMAT_HELP),
    Flag("verbose", "v", "bool", "Show detailed information on space usage"),
], run_df, max_args=0)
