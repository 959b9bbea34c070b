"""Lexer and parser of the Go-template subset: source text to a tree of tuples.

Kept apart from execution so a template is parsed once and run per row; errors use Go's
`template: :1: ...` wording.
"""

from __future__ import annotations

import re

from sampan.cli.template_funcs import FUNCTIONS, TemplateError

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<raw>`[^`]*`)
    | (?P<char>'(?:[^'\\]|\\.)+')
    | (?P<declare>:=)
    | (?P<assign>=)
    | (?P<pipe>\|)
    | (?P<lparen>\()
    | (?P<rparen>\))
    | (?P<comma>,)
    | (?P<var>\$[A-Za-z0-9_]*)
    | (?P<field>(?:\.[A-Za-z_][A-Za-z0-9_]*)+)
    | (?P<dot>\.)
    | (?P<num>[-+]?(?:0[xX][0-9a-fA-F_]+|\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+))
    | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_CHAIN = re.compile(r"(?:\.[A-Za-z_][A-Za-z0-9_]*)+")
_KEYWORDS = {"if", "else", "end", "range", "with", "break", "continue", "define", "template", "block"}


class _Tok:
    __slots__ = ("kind", "pos", "text")

    def __init__(self, kind: str, text: str, pos: int = 0) -> None:
        self.kind, self.text, self.pos = kind, text, pos


def _tokenize(src: str, base: int = 0) -> list[_Tok]:
    """Tokens of one action; `base` is the action's offset in the template (for error positions)."""
    toks, pos = [], 0
    while pos < len(src):
        if src[pos:].strip() == "":
            break
        m = _TOKEN.match(src, pos)
        if m is None or m.end() == pos:
            raise TemplateError(f"template: :1: unexpected {src[pos:].strip()[:1]!r} in command")
        kind = m.lastgroup or ""
        toks.append(_Tok(kind, m.group(kind), base + m.start(kind)))
        pos = m.end()
        if kind in ("var", "rparen"):  # `$x.A` and `(...).A` chain fields
            chain = _CHAIN.match(src, pos)
            if chain:
                toks.append(_Tok("chain", chain.group(0), base + chain.start()))
                pos = chain.end()
    return toks


def _split_actions(src: str) -> list[tuple[str, str, int]]:
    """[("text", s, offset) | ("action", s, offset)] with `{{-`/`-}}` trimming applied."""
    out: list[tuple[str, str, int]] = []
    pos = 0
    while True:
        start = src.find("{{", pos)
        if start < 0:
            out.append(("text", src[pos:], pos))
            return out
        text = src[pos:start]
        inner_start = start + 2
        if src.startswith("- ", inner_start) or src.startswith("-\t", inner_start) or \
                src.startswith("-\n", inner_start):
            text = text.rstrip(" \t\r\n")
            inner_start += 1
        out.append(("text", text, pos))
        end = _find_close(src, inner_start)
        inner = src[inner_start:end]
        pos = end + 2
        if inner.endswith(" -") or inner.endswith("\t-") or inner.endswith("\n-"):
            inner = inner[:-1]
            while pos < len(src) and src[pos] in " \t\r\n":
                pos += 1
        out.append(("action", inner, inner_start))


def _find_close(src: str, pos: int) -> int:
    quote = ""
    i = pos
    while i < len(src):
        c = src[i]
        if quote:
            if c == "\\" and quote != "`":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"`'":
            quote = c
        elif src.startswith("}}", i):
            return i
        i += 1
    raise TemplateError("template: :1: unclosed action")


# ---- parse tree -------------------------------------------------------------------------
# Nodes are tuples: ("text", s) ("action", pipe) ("if", pipe, body, else) ("with", ...)
# ("range", pipe, body, else) ("break",) ("continue",).
# A pipe is (decl_vars, is_assign, [command]); a command is [operand]; an operand is one of
# ("field", [names]) ("dot",) ("var", name, [names]) ("lit", value) ("ident", name)
# ("sub", pipe, [names]).


class Parser:
    def __init__(self, src: str) -> None:
        self.items = _split_actions(src)
        self.pos = 0

    def parse_list(self, stops: tuple[str, ...]) -> tuple[list[Any], str, list[_Tok]]:
        nodes: list[Any] = []
        while self.pos < len(self.items):
            kind, body, offset = self.items[self.pos]
            self.pos += 1
            if kind == "text":
                if body:
                    nodes.append(("text", body))
                continue
            if body.strip().startswith("/*"):
                continue
            toks = _tokenize(body, offset)
            if not toks:
                raise TemplateError("template: :1: missing value for command")
            head = toks[0].text if toks[0].kind == "ident" else ""
            if head in stops:
                return nodes, head, toks[1:]
            if head in ("end", "else"):
                raise TemplateError(f"template: :1: unexpected {{{{{head}}}}}")
            if head in ("if", "with", "range"):
                nodes.append(self.parse_control(head, toks[1:]))
            elif head in ("break", "continue"):
                nodes.append((head,))
            elif head in ("define", "template", "block"):
                raise TemplateError(f"template: :1: {{{{{head}}}}} is not supported")
            else:
                nodes.append(("action", _parse_pipe(toks)))
        if stops:
            raise TemplateError("template: :1: unexpected EOF")
        return nodes, "", []

    def parse_control(self, kind: str, toks: list[_Tok]) -> tuple[Any, ...]:
        pipe = _parse_pipe(toks)
        body, stop, rest = self.parse_list(("end", "else"))
        other: list[Any] = []
        if stop == "else":
            if rest and rest[0].kind == "ident" and rest[0].text in ("if", "with"):
                other = [self.parse_control(rest[0].text, rest[1:])]
                return (kind, pipe, body, other)
            other, _, _ = self.parse_list(("end",))
        return (kind, pipe, body, other)


def _parse_pipe(toks: list[_Tok]) -> tuple[list[str], bool, list[list[Any]]]:
    decls: list[str] = []
    assign = False
    for i, t in enumerate(toks):
        if t.kind in ("declare", "assign"):
            names = [x.text for x in toks[:i] if x.kind == "var"]
            if not names or any(x.kind not in ("var", "comma") for x in toks[:i]):
                raise TemplateError("template: :1: bad variable declaration")
            decls, assign, toks = names, t.kind == "assign", toks[i + 1 :]
            break
    cmds: list[list[Any]] = [[]]
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "pipe":
            if not cmds[-1]:
                raise TemplateError("template: :1: missing command")
            cmds.append([])
        elif t.kind == "lparen":
            depth, j = 1, i + 1
            while j < len(toks) and depth:
                depth += {"lparen": 1, "rparen": -1}.get(toks[j].kind, 0)
                j += 1
            if depth:
                raise TemplateError("template: :1: unclosed left paren")
            chain: list[str] = []
            if j < len(toks) and toks[j].kind == "chain":
                chain = toks[j].text[1:].split(".")
                j += 1
            cmds[-1].append(("sub", _parse_pipe(toks[i + 1 : j - 1 - (1 if chain else 0)]), chain))
            i = j
            continue
        else:
            cmds[-1].append(_operand(t, toks[i + 1] if i + 1 < len(toks) else None))
            if t.kind == "var" and i + 1 < len(toks) and toks[i + 1].kind == "chain":
                i += 1
        i += 1
    if not cmds[-1]:
        raise TemplateError("template: :1: missing value for command")
    return decls, assign, cmds


def _operand(t: _Tok, nxt: _Tok | None) -> tuple[Any, ...]:
    k = t.kind
    if k == "field":
        return ("field", t.text[1:].split("."), t.pos)
    if k == "dot":
        return ("dot",)
    if k == "var":
        chain = nxt.text[1:].split(".") if nxt is not None and nxt.kind == "chain" else []
        return ("var", t.text, chain, t.pos)
    if k == "str":
        return ("lit", _unquote(t.text))
    if k == "raw":
        return ("lit", t.text[1:-1])
    if k == "char":
        return ("lit", ord(_unquote('"' + t.text[1:-1] + '"')))
    if k == "num":
        text = t.text.replace("_", "")
        try:
            return ("lit", int(text, 0))
        except ValueError:
            return ("lit", float(text))
    if k == "ident":
        if t.text in ("true", "false"):
            return ("lit", t.text == "true")
        if t.text == "nil":
            return ("lit", None)
        if t.text in _KEYWORDS:
            raise TemplateError(f"template: :1: unexpected <{t.text}> in command")
        if t.text not in FUNCTIONS:
            raise TemplateError(f'template: :1: function "{t.text}" not defined')
        return ("ident", t.text)
    raise TemplateError(f"template: :1: unexpected {t.text!r} in operand")


def _unquote(text: str) -> str:
    import json

    try:
        return str(json.loads(text))
    except ValueError:
        return text[1:-1].encode().decode("unicode_escape")
