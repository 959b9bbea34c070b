"""Command specs and a pflag-style parser: `--x=v`, `--x v`, `-abc`, `-fv`, `--`, interspersed args.

Error texts and exit statuses are docker's: flag errors exit 125, a wrong number of
arguments exits 1, each followed by a pointer to `--help`.
"""

from __future__ import annotations

from collections.abc import Callable

from sampan.cli.errors import StatusError

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

PROG = "sampan"
FLAG_ERROR_STATUS = 125


class Flag:
    """One option. kind: bool, string, int, list (repeatable), filter (repeatable k=v)."""

    __slots__ = ("default", "dest", "help", "hidden", "kind", "long", "short", "type_name")

    def __init__(self, long: str, short: str = "", kind: str = "bool", help: str = "", *,
                 default: Any = None, type_name: str = "", dest: str = "", hidden: bool = False) -> None:
        self.long, self.short, self.kind, self.help = long, short, kind, help
        self.hidden = hidden
        self.dest = dest or long.replace("-", "_")
        self.type_name = type_name or {"bool": "", "string": "string", "int": "int", "list": "list",
                                       "filter": "filter"}[kind]
        if default is None:
            default = {"bool": False, "string": "", "int": 0, "list": [], "filter": []}[kind]
        self.default = default

    def takes_value(self) -> bool:
        return self.kind != "bool"


HELP_FLAG = Flag("help", "", "bool", "Print usage")


class Spec:
    """A command: usage line, one-line description, flags, argument counts and its function."""

    def __init__(self, usage: str, short: str, flags: list[Flag],
                 run: Callable[..., int | None], *, min_args: int = 0, max_args: int | None = None,
                 interspersed: bool = True, long: str = "") -> None:
        self.usage, self.short, self.flags, self.run = usage, short, flags, run
        self.min_args, self.max_args = min_args, max_args
        self.interspersed, self.long = interspersed, long

    def by_long(self, name: str) -> Flag | None:
        for f in [*self.flags, HELP_FLAG]:
            if f.long == name:
                return f
        return None

    def by_short(self, ch: str) -> Flag | None:
        for f in self.flags:
            if f.short == ch:
                return f
        return None


class Parsed:
    """Flag values by dest name (attribute access) plus positional arguments."""

    def __init__(self, values: dict[str, Any], args: list[str], given: set[str]) -> None:
        self.values, self.args, self.given = values, args, given

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def flag_error(path: str, message: str) -> StatusError:
    command = f"{PROG} {path}" if path else PROG
    return StatusError(f"{message}\nSee '{command} --help'.", FLAG_ERROR_STATUS)


def parse_args(spec: Spec, path: str, argv: list[str]) -> Parsed:
    """Parse argv for the command at `path` (e.g. "image ls")."""
    values: dict[str, Any] = {f.dest: (list(f.default) if isinstance(f.default, list) else f.default)
                              for f in spec.flags}
    values["help"] = False
    given: set[str] = set()
    args: list[str] = []
    i = 0

    def set_value(f: Flag, raw: str | None, shown: str) -> None:
        given.add(f.dest)
        if f.kind == "bool":
            if raw is None or raw.lower() in ("true", "1", "t"):
                values[f.dest] = True
            elif raw.lower() in ("false", "0", "f"):
                values[f.dest] = False
            else:
                raise flag_error(path, f'invalid argument "{raw}" for "{shown}" flag: '
                                       f'strconv.ParseBool: parsing "{raw}": invalid syntax')
        elif f.kind == "int":
            try:
                values[f.dest] = int(raw or "")
            except ValueError:
                raise flag_error(path, f'invalid argument "{raw}" for "{shown}" flag: '
                                       f'strconv.ParseInt: parsing "{raw}": invalid syntax')
        elif f.kind in ("list", "filter"):
            if f.kind == "filter" and "=" not in (raw or ""):
                raise flag_error(path, f'invalid argument "{raw}" for "{shown}" flag: bad format of '
                                       f"filter (expected name=value)")
            values[f.dest].append(raw)
        else:
            values[f.dest] = raw

    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            args.extend(argv[i:])
            break
        if arg.startswith("--"):
            name, eq, raw = arg[2:].partition("=")
            f = spec.by_long(name)
            if f is None:
                raise flag_error(path, f"unknown flag: --{name}")
            if f.takes_value() and not eq:
                if i >= len(argv):
                    raise flag_error(path, f"flag needs an argument: --{name}")
                raw, i = argv[i], i + 1
            set_value(f, raw if (eq or f.takes_value()) else None, f"--{name}")
        elif arg.startswith("-") and arg != "-":
            j = 1
            while j < len(arg):
                ch = arg[j]
                f = spec.by_short(ch)
                if f is None:
                    if ch == "h":
                        values["help"] = True
                        j += 1
                        continue
                    raise flag_error(path, f"unknown shorthand flag: '{ch}' in -{arg[j:]}")
                shown = f"-{ch}, --{f.long}"
                if f.takes_value():
                    raw = arg[j + 1 :]
                    if raw.startswith("="):
                        raw = raw[1:]
                    if not raw:
                        if i >= len(argv):
                            raise flag_error(path, f"flag needs an argument: '{ch}' in -{ch}")
                        raw, i = argv[i], i + 1
                    set_value(f, raw, shown)
                    break
                if arg[j + 1 : j + 2] == "=":
                    set_value(f, arg[j + 2 :], shown)
                    break
                set_value(f, None, shown)
                j += 1
        else:
            args.append(arg)
            if not spec.interspersed:
                args.extend(argv[i:])
                break
    return Parsed(values, args, given)


# docker's --format help for commands that print tables.
TABLE_FORMAT_HELP = (
    "Format output using a custom template:\n"
    "'table':            Print output in table format with column headers (default)\n"
    "'table TEMPLATE':   Print output in table format using the given Go template\n"
    "'json':             Print in JSON format\n"
    "'TEMPLATE':         Print output using the given Go template."
)


def check_arg_count(spec: Spec, path: str, args: list[str]) -> None:
    """docker 28's argument-count errors (exit 1): "'docker stop' requires at least 1 argument"."""
    n, lo, hi = len(args), spec.min_args, spec.max_args
    if lo <= n and (hi is None or n <= hi):
        return

    def count(k: int) -> str:
        return f"{k} argument" if k == 1 else f"{k} arguments"

    hint = "Run"
    if hi == 0:
        what = "accepts no arguments"
    elif hi is not None and lo == hi:
        what = f"requires {count(lo)}"
    elif hi is not None and lo > 0:
        what = f"requires at least {lo} and at most {count(hi)}"
    elif hi is None:
        what, hint = f"requires at least {count(lo)}", "See"
    else:
        what = f"requires at most {count(hi)}"
    raise StatusError(
        f"{PROG}: '{PROG} {path}' {what}\n\nUsage:  {PROG} {path} {spec.usage}\n\n"
        f"{hint} '{PROG} {path} --help' for more information", 1
    )


def flag_usages(flags: list[Flag]) -> str:
    """pflag's option listing: `  -a, --all   Show all`, usage column aligned."""
    rows = []
    for f in flags:
        if f.hidden:
            continue
        left = f"  -{f.short}, --{f.long}" if f.short else f"      --{f.long}"
        if f.type_name:
            left += " " + f.type_name
        text = f.help
        if f.kind in ("string", "int") and f.default not in ("", 0, None):
            text += f' (default "{f.default}")' if f.kind == "string" else f" (default {f.default})"
        rows.append((left, text))
    width = max((len(left) for left, _ in rows), default=0)
    out = []
    for left, text in rows:
        pad = " " * (width - len(left) + 3)
        lines = text.split("\n")
        out.append(left + pad + lines[0])
        out.extend(" " * (width + 3) + extra for extra in lines[1:])
    return "\n".join(out)


def command_help(spec: Spec, path: str, aliases: list[str]) -> str:
    parts = [f"\nUsage:  {PROG} {path} {spec.usage}\n", spec.long or spec.short]
    if aliases:
        parts.append("\nAliases:\n  " + ", ".join(f"{PROG} {a}" for a in aliases))
    if spec.flags:
        parts.append("\nOptions:\n" + flag_usages(spec.flags))
    return "\n".join(parts) + "\n"


def parse_filters(items: list[str]) -> dict[str, list[str]]:
    """`-f k=v` values to the filters map (keys lowercased and trimmed, like docker's FilterOpt)."""
    out: dict[str, list[str]] = {}
    for item in items:
        name, _, value = item.partition("=")
        out.setdefault(name.strip().lower(), []).append(value.strip())
    return out
