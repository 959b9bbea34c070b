"""`sampan ps` / `container ls`: docker's container table and its formatter fields."""

from __future__ import annotations

from sampan.cli import format as fmtlib
from sampan.cli.context import Cli
from sampan.cli.flags import TABLE_FORMAT_HELP, Flag, Parsed, Spec, parse_filters
from sampan.cli.formatter import render, resolve

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

DEFAULT_TABLE = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
HEADERS = {
    "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS", "Size": "SIZE",
    "Names": "NAMES", "Labels": "LABELS", "Label": "LABEL", "Mounts": "MOUNTS", "LocalVolumes": "LOCAL VOLUMES",
    "Networks": "NETWORKS", "Platform": "PLATFORM",
}
JSON_FIELDS = ("Command", "CreatedAt", "ID", "Image", "Labels", "LocalVolumes", "Mounts", "Names", "Networks",
               "Ports", "RunningFor", "Size", "State", "Status")


def go_quote(text: str) -> str:
    """strconv.Quote for the printable text commands are made of."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out) + '"'


def familiar_image(image: str) -> str:
    """reference.FamiliarString of a tag reference; digests and unparsable names stay as given."""
    from sampan import errdefs
    from sampan.oci import reference

    try:
        ref = reference.parse_normalized_named(image)
    except errdefs.InvalidArgument:
        return image
    if ref.tag is not None:
        return ref.with_tag(ref.tag).familiar()
    return ref.familiar_name


class ContainerRow:
    """One line of `ps`; methods are docker's formatter fields (.ID, .Image, .Status, ...)."""

    go_type = "*formatter.ContainerContext"

    def __init__(self, c: dict[str, Any], *, trunc: bool, now: float | None = None) -> None:
        self.c, self.trunc, self.now = c, trunc, now

    def ID(self) -> str:
        cid = str(self.c.get("Id", ""))
        return fmtlib.trunc_id(cid) if self.trunc else cid

    def Image(self) -> str:
        image = str(self.c.get("Image") or "")
        if not image:
            return "<no image>"
        if not self.trunc:
            return image
        image_id = str(self.c.get("ImageID") or "")
        if image_id and fmtlib.trunc_id(image_id) == fmtlib.trunc_id(image):
            return fmtlib.trunc_id(image)
        return familiar_image(image)

    def Command(self) -> str:
        command = str(self.c.get("Command") or "")
        return go_quote(fmtlib.ellipsis(command, 20) if self.trunc else command)

    def CreatedAt(self) -> str:
        return fmtlib.go_time_string(int(self.c.get("Created") or 0))

    def RunningFor(self) -> str:
        return fmtlib.since(int(self.c.get("Created") or 0), self.now)

    def Ports(self) -> str:
        return display_ports(self.c.get("Ports") or [])

    def State(self) -> str:
        return str(self.c.get("State") or "")

    def Status(self) -> str:
        return str(self.c.get("Status") or "")

    def Size(self) -> str:
        rw = fmtlib.human_size(float(self.c.get("SizeRw") or 0), 3)
        root = int(self.c.get("SizeRootFs") or 0)
        return f"{rw} (virtual {fmtlib.human_size(float(root), 3)})" if root > 0 else rw

    def Names(self) -> str:
        names = [n[1:] if n.startswith("/") else n for n in self.c.get("Names") or []]
        if self.trunc:
            for name in names:
                if "/" not in name:
                    names = [name]
                    break
        return ",".join(names)

    def Labels(self) -> str:
        labels = self.c.get("Labels") or {}
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def Label(self, name: str) -> str:
        return str((self.c.get("Labels") or {}).get(name, ""))

    def Mounts(self) -> str:
        names = []
        for m in self.c.get("Mounts") or []:
            name = str(m.get("Name") or m.get("Source") or "")
            names.append(fmtlib.ellipsis(name, 15) if self.trunc else name)
        return ",".join(names)

    def LocalVolumes(self) -> str:
        return str(sum(1 for m in self.c.get("Mounts") or [] if m.get("Driver") == "local"))

    def Networks(self) -> str:
        networks = ((self.c.get("NetworkSettings") or {}).get("Networks")) or {}
        return ",".join(sorted(networks))

    def Platform(self) -> str:
        return ""

    def to_template_json(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {name: getattr(self, name)() for name in JSON_FIELDS}
        out["Platform"] = None  # docker 28 marshals its (unset) platform pointer
        return out


def display_ports(ports: list[dict[str, Any]]) -> str:
    """docker's DisplayablePorts: same-port bindings grouped into ranges, remappings listed last."""
    def order(p: dict[str, Any]) -> tuple[int, str, int, str]:
        return (int(p.get("PrivatePort") or 0), str(p.get("IP") or ""), int(p.get("PublicPort") or 0),
                str(p.get("Type") or ""))

    groups: dict[str, list[int]] = {}
    result: list[str] = []
    mappings: list[str] = []
    for p in sorted(ports, key=order):
        private, public, ip, kind = order(p)[0], order(p)[2], order(p)[1], order(p)[3]
        key = kind
        if ip:
            if public != private:
                host = f"[{ip}]" if ":" in ip else ip
                mappings.append(f"{host}:{public}->{private}/{kind}")
                continue
            key = f"{ip}/{kind}"
        group = groups.get(key)
        if group is None:
            groups[key] = [private, private]
        elif private == group[1] + 1:
            group[1] = private
        else:
            result.append(_port_group(key, *group))
            groups[key] = [private, private]
    result.extend(_port_group(key, *g) for key, g in groups.items())
    return ", ".join(result + mappings)


def _port_group(key: str, first: int, last: int) -> str:
    ip, _, kind = key.rpartition("/")
    ports = str(first) if first == last else f"{first}-{last}"
    return f"{ip}:{ports}->{ports}/{kind}" if ip else f"{ports}/{kind}"


def run_ps(cli: Cli, o: Parsed) -> int:
    fmt = o.format
    if not fmt and not o.quiet:
        fmt = str(cli.config().get("psFormat") or "")
    fmt = resolve(fmt, DEFAULT_TABLE + ("\t{{.Size}}" if o.size else ""), quiet=o.quiet)
    limit = 1 if o.latest and o.last == -1 else o.last
    size = o.size or (not o.quiet and ".Size" in fmt)
    containers = cli.client().containers(all=o.all, limit=limit if limit > 0 else None, size=size,
                                         filters=parse_filters(o.filter) or None)
    rows = [ContainerRow(c, trunc=not o.no_trunc) for c in containers]
    cli.write(render(fmt, rows, HEADERS))
    return 0


PS = Spec("[OPTIONS]", "List containers", [
    Flag("all", "a", "bool", "Show all containers (default shows just running)"),
    Flag("filter", "f", "filter", "Filter output based on conditions provided"),
    Flag("format", "", "string", TABLE_FORMAT_HELP),
    Flag("last", "n", "int", "Show n last created containers (includes all states)", default=-1),
    Flag("latest", "l", "bool", "Show the latest created container (includes all states)"),
    Flag("no-trunc", "", "bool", "Don't truncate output"),
    Flag("quiet", "q", "bool", "Only display container IDs"),
    Flag("size", "s", "bool", "Display total file sizes"),
], run_ps, max_args=0)
