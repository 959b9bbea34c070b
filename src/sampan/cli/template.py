"""A subset of Go's text/template, enough for docker's `--format` flags.

Supported: text and `{{ }}` actions with `{{-`/`-}}` trimming and `{{/* comments */}}`;
fields `.A.B`, `.`, variables `$`, `$x` (`:=`, `=`), literals (strings, raw strings, numbers,
true/false/nil), function calls, parenthesised pipelines, pipelines `a | f`, and
`if/else if/else/end`, `range` (with `$i, $v :=`), `with`, `break`, `continue`.
Functions are docker's (json, join, split, title, lower, upper, pad, truncate, println)
plus Go's builtins (index, len, printf, print, slice, not, and, or, eq, ne, lt, le, gt, ge).
Parsing is separate from execution so a template is parsed once and run per row.
"""

from __future__ import annotations

from sampan.cli.template_funcs import (
    FUNCTIONS,
    HEADER_FUNCTIONS,
    NIL_FIELDS,
    NO_VALUE,
    TemplateError,
    TypedNil,
    go_str,
    truth,
)
from sampan.cli.template_parse import Parser

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Template", "TemplateError", "parse"]

# ---- execution --------------------------------------------------------------------------


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class Template:
    """A parsed template; `execute(data)` renders it."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.tree, _, _ = Parser(source).parse_list(())

    def execute(self, data: Any, *, header: bool = False) -> str:
        """Render with `data` as dot; `header=True` makes docker's text functions identities."""
        funcs = dict(FUNCTIONS, **HEADER_FUNCTIONS) if header else FUNCTIONS
        out: list[str] = []
        _Exec(funcs, out, [("$", data)], self.source).walk(self.tree, data)
        return "".join(out)


class _Exec:
    def __init__(self, funcs: dict[str, Any], out: list[str], variables: list[tuple[str, Any]],
                 source: str) -> None:
        self.funcs, self.out, self.vars, self.source = funcs, out, variables, source

    def where(self, pos: int, node: str) -> str:
        """Go's `template: :LINE:COL: executing "" at <node>` error prefix."""
        line = self.source.count("\n", 0, pos) + 1
        col = pos - (self.source.rfind("\n", 0, pos) + 1)
        return f'template: :{line}:{col}: executing "" at <{node}>'

    def walk(self, nodes: list[Any], dot: Any) -> None:
        for node in nodes:
            kind = node[0]
            if kind == "text":
                self.out.append(node[1])
            elif kind == "action":  # a declaration lives until the end of the enclosing block
                value = self.pipe(node[1], dot)
                if not node[1][0]:
                    self.out.append(go_str(value))
            elif kind in ("if", "with"):
                mark = len(self.vars)
                value = self.pipe(node[1], dot)
                if truth(value):
                    self.walk(node[2], value if kind == "with" else dot)
                else:
                    self.walk(node[3], dot)
                del self.vars[mark:]
            elif kind == "range":
                self.range(node, dot)
            elif kind == "break":
                raise _Break()
            elif kind == "continue":
                raise _Continue()

    def range(self, node: tuple[Any, ...], dot: Any) -> None:
        mark = len(self.vars)
        decls, _, cmds = node[1]
        value = self.pipe(([], False, cmds), dot)
        if isinstance(value, dict):
            items = [(k, value[k]) for k in sorted(value)]
        elif isinstance(value, (list, tuple)):
            items = list(enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            items = [(i, i) for i in range(value)]
        elif value is None or value is NO_VALUE or isinstance(value, TypedNil):
            items = []
        else:
            raise TemplateError(f"template: :1: range can't iterate over {go_str(value)}")
        for key, elem in items:
            if len(decls) == 1:
                self.vars.append((decls[0], elem))
            elif len(decls) == 2:
                self.vars.extend([(decls[0], key), (decls[1], elem)])
            try:
                self.walk(node[2], elem)
            except _Break:
                break
            except _Continue:
                pass
            finally:
                del self.vars[mark:]
        if not items:
            self.walk(node[3], dot)

    def pipe(self, pipe: tuple[list[str], bool, list[list[Any]]], dot: Any) -> Any:
        decls, assign, cmds = pipe
        value: Any = NO_VALUE
        final = False
        for cmd in cmds:
            value = self.command(cmd, dot, value, final)
            final = True
        for name in decls:
            if assign:
                for i in range(len(self.vars) - 1, -1, -1):
                    if self.vars[i][0] == name:
                        self.vars[i] = (name, value)
                        break
                else:
                    raise TemplateError(f"template: :1: undefined variable: {name}")
            else:
                self.vars.append((name, value))
        return value

    def command(self, cmd: list[Any], dot: Any, final: Any, has_final: bool) -> Any:
        first = cmd[0]
        if first[0] == "ident":
            args = [self.operand(a, dot) for a in cmd[1:]]
            if has_final:
                args.append(final)
            try:
                return self.funcs[first[1]](*args)
            except TemplateError:
                raise
            except (TypeError, ValueError, KeyError, IndexError) as e:
                raise TemplateError(f"template: :1: error calling {first[1]}: {e}") from e
        if len(cmd) > 1 or has_final:
            raise TemplateError(f"template: :1: can't give argument to non-function {_show(first)}")
        return self.operand(first, dot)

    def operand(self, op: tuple[Any, ...], dot: Any) -> Any:
        kind = op[0]
        if kind == "lit":
            return op[1]
        if kind == "dot":
            return dot
        if kind == "field":
            return _fields(dot, op[1], self.where(op[2], "." + ".".join(op[1])))
        if kind == "var":
            for name, value in reversed(self.vars):
                if name == op[1]:
                    return _fields(value, op[2], self.where(op[3], op[1] + "".join("." + n for n in op[2])))
            raise TemplateError(f"template: :1: undefined variable: {op[1]}")
        if kind == "sub":
            mark = len(self.vars)
            value = self.pipe(op[1], dot)
            del self.vars[mark:]
            return _fields(value, op[2], "template: :1")
        if kind == "ident":
            return self.funcs[op[1]]()
        raise TemplateError(f"template: :1: bad operand {op!r}")


def _show(op: tuple[Any, ...]) -> str:
    if op[0] == "field":
        return "." + ".".join(op[1])
    if op[0] == "lit":
        return go_str(op[1])
    return op[0]


_GO_TYPES = {str: "string", int: "int", float: "float64", bool: "bool", list: "[]interface {}",
             tuple: "[]interface {}"}


def _fields(value: Any, names: list[str], where: str) -> Any:
    for name in names:
        if isinstance(value, dict):
            value = value.get(name, NO_VALUE)
            if value is None:
                value = NIL_FIELDS.get(name)
        elif value is None or value is NO_VALUE or isinstance(value, TypedNil):
            return NO_VALUE
        elif name.startswith("_") or isinstance(value, (list, tuple, str, int, float, bool)):
            raise TemplateError(
                f"{where}: can't evaluate field {name} in type {_GO_TYPES.get(type(value), 'interface {}')}"
            )
        else:
            attr = getattr(value, name, NO_VALUE)
            if attr is NO_VALUE:
                raise TemplateError(
                    f"{where}: can't evaluate field {name} "
                    f"in type {getattr(value, 'go_type', type(value).__name__)}"
                )
            value = attr() if callable(attr) else attr
    return value


def parse(source: str) -> Template:
    return Template(source)
