"""docker's formatter.Context: a `--format` template run over rows, `table` adds a header.

`table` formats go through the tabwriter with a header row made by running the same
template over the column names; other formats print one template result per line.
"""

from __future__ import annotations

from collections.abc import Iterable

from sampan.cli.format import tabwrite
from sampan.cli.template import Template

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

TABLE_PREFIX = "table"


def resolve(fmt: str, default_table: str, *, quiet: bool = False, quiet_format: str = "{{.ID}}") -> str:
    """The format to use: `-q` wins, "" or `table` mean the default table, `json` is `{{json .}}`."""
    if quiet:
        return quiet_format
    if fmt in ("", TABLE_PREFIX):
        return default_table
    if fmt == "json":
        return "{{json .}}"
    return fmt


def is_table(fmt: str) -> bool:
    return fmt.startswith(TABLE_PREFIX)


def prepare(fmt: str) -> str:
    """Strip `table`, trim spaces, and turn typed `\\t`/`\\n` into tabs and newlines."""
    if is_table(fmt):
        fmt = fmt[len(TABLE_PREFIX) :]
    return fmt.strip(" ").replace("\\t", "\t").replace("\\n", "\n")


def render(fmt: str, rows: Iterable[Any], headers: dict[str, str]) -> str:
    """The full output for `rows` (each line ends with a newline)."""
    tmpl = Template(prepare(fmt))
    body = "".join(tmpl.execute(row) + "\n" for row in rows)
    if not is_table(fmt):
        return body
    head = tmpl.execute(headers, header=True) + "\n"
    return tabwrite(head + body)
