"""`sampan history` / `image history`: one row per layer, newest first, like docker."""

from __future__ import annotations

from sampan.cli import format as fmtlib
from sampan.cli.context import Cli
from sampan.cli.flags import TABLE_FORMAT_HELP, Flag, Parsed, Spec
from sampan.cli.formatter import render, resolve

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

DEFAULT_TABLE = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
NON_HUMAN_TABLE = "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
HEADERS = {"ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY",
           "Size": "SIZE", "Comment": "COMMENT"}
CREATED_BY_WIDTH = 45


class HistoryRow:
    """One layer of `history`; fields are docker's (.ID, .CreatedSince, .CreatedBy, ...)."""

    go_type = "*formatter.historyContext"

    def __init__(self, item: dict[str, Any], *, trunc: bool, human: bool, now: float | None = None) -> None:
        self.item, self.trunc, self.human, self.now = item, trunc, human, now

    def ID(self) -> str:
        image_id = str(self.item.get("Id", ""))
        return fmtlib.trunc_id(image_id) if self.trunc else image_id

    def CreatedAt(self) -> str:
        return fmtlib.rfc3339(int(self.item.get("Created") or 0))

    def CreatedSince(self) -> str:
        if not self.human:
            return self.CreatedAt()
        return fmtlib.since(int(self.item.get("Created") or 0), self.now)

    def CreatedBy(self) -> str:
        created_by = str(self.item.get("CreatedBy") or "").replace("\t", " ")
        return fmtlib.ellipsis(created_by, CREATED_BY_WIDTH) if self.trunc else created_by

    def Size(self) -> str:
        size = int(self.item.get("Size") or 0)
        return fmtlib.human_size(float(size), 3) if self.human else str(size)

    def Comment(self) -> str:
        return str(self.item.get("Comment") or "")

    def to_template_json(self) -> dict[str, str]:
        return {name: getattr(self, name)() for name in sorted(HEADERS)}


def run_history(cli: Cli, o: Parsed) -> int:
    items = cli.client().image_history(o.args[0])
    fmt = resolve(o.format, DEFAULT_TABLE if o.human else NON_HUMAN_TABLE, quiet=o.quiet)
    rows = [HistoryRow(item, trunc=not o.no_trunc, human=o.human) for item in items]
    cli.write(render(fmt, rows, HEADERS))
    return 0


HISTORY = Spec(
    "[OPTIONS] IMAGE",
    "Show the history of an image",
    [
        Flag("format", "", "string", TABLE_FORMAT_HELP),
        Flag("human", "H", "bool", "Print sizes and dates in human readable format", default=True),
        Flag("no-trunc", "", "bool", "Don't truncate output"),
        Flag("quiet", "q", "bool", "Only show image IDs"),
    ],
    run_history,
    min_args=1,
    max_args=1,
)
