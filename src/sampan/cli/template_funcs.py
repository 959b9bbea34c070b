"""Values and functions of the template engine: Go's printing rules and docker's funcs."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

TYPE_CHECKING = False  # typing costs the CLI ~5 ms of imports; names below are for annotations
if TYPE_CHECKING:
    from typing import Any


class TemplateError(Exception):
    """A template that does not parse or fails while running (docker prints it and exits 1)."""


class _NoValue:
    """What a missing map key evaluates to; Go prints it as `<no value>`."""

    def __repr__(self) -> str:
        return "<no value>"

    def __bool__(self) -> bool:
        return False


NO_VALUE: Any = _NoValue()


class TypedNil:
    """A JSON null where docker's Go struct has a map or slice: Go prints `map[]` or `[]`."""

    def __init__(self, printed: str) -> None:
        self.printed = printed

    def __repr__(self) -> str:
        return self.printed

    def __bool__(self) -> bool:
        return False


NIL_MAP = TypedNil("map[]")
NIL_SLICE = TypedNil("[]")
_MAP_FIELDS = ("Labels", "Data", "Volumes", "ExposedPorts", "Options", "DriverOpts", "Ports", "Networks",
               "Annotations", "StorageOpt", "Sysctls")
_SLICE_FIELDS = ("Env", "Cmd", "Entrypoint", "RepoTags", "RepoDigests", "Layers", "OnBuild", "Shell",
                 "Mounts", "Binds", "Tags", "Args", "Dns", "DnsOptions", "DnsSearch", "ExtraHosts",
                 "CapAdd", "CapDrop", "Devices", "Links", "SecurityOpt", "Aliases", "Warnings")
NIL_FIELDS: dict[str, TypedNil] = {**dict.fromkeys(_MAP_FIELDS, NIL_MAP),
                                   **dict.fromkeys(_SLICE_FIELDS, NIL_SLICE)}


def truth(value: Any) -> bool:
    """Go template truthiness: false, 0, nil and empty things are false."""
    if value is None or value is NO_VALUE or isinstance(value, TypedNil):
        return False
    if isinstance(value, (bool, int, float, str, list, tuple, dict)):
        return bool(value)
    return True


def go_float(value: float) -> str:
    """fmt's %v for a float64: shortest digits, exponent form below 1e-4 and from 1e+06."""
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(value)
    mantissa, _, exp_text = text.partition("e")
    exp = int(exp_text) if exp_text else 0
    digits = mantissa.lstrip("-").replace(".", "")
    point = mantissa.lstrip("-").find(".")
    point = point if point >= 0 else len(mantissa.lstrip("-"))
    stripped = digits.lstrip("0")
    lead = len(digits) - len(stripped)
    stripped = stripped.rstrip("0") or "0"
    exponent = point - lead - 1 + exp
    if stripped == "0":
        return "0" if not mantissa.startswith("-") else "-0"
    sign = "-" if value < 0 else ""
    if exponent < -4 or exponent >= 6:
        frac = stripped[1:]
        return f"{sign}{stripped[0]}{'.' + frac if frac else ''}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if exponent >= len(stripped) - 1:
        return sign + stripped + "0" * (exponent - len(stripped) + 1)
    if exponent >= 0:
        return f"{sign}{stripped[: exponent + 1]}.{stripped[exponent + 1 :]}"
    return f"{sign}0.{'0' * (-exponent - 1)}{stripped}"


def go_str(value: Any) -> str:
    """fmt's %v: `[a b]` for lists, `map[k:v]` for maps, `<nil>`, `true`."""
    if value is NO_VALUE:
        return "<no value>"
    if value is None:
        return "<nil>"
    if isinstance(value, TypedNil):
        return value.printed
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{go_str(k)}:{go_str(value[k])}" for k in sorted(value)) + "]"
    to_str = getattr(value, "go_string", None)
    return str(to_str()) if callable(to_str) else str(value)


def go_json_escape(text: str) -> str:
    """Go's encoding/json escapes <, > and & (and U+2028/2029) inside strings."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def fn_json(value: Any) -> str:
    """docker's `json` function: compact JSON without HTML escaping.

    Formatter rows (images, history) marshal themselves first, as docker's contexts do with
    json.Marshal, so their `<none>` comes out as `\\u003cnone\\u003e` exactly like docker's.
    """
    if value is NO_VALUE or isinstance(value, TypedNil):
        return "null"
    to_json = getattr(value, "to_template_json", None)
    if callable(to_json):
        return go_json_escape(json.dumps(to_json(), ensure_ascii=False, separators=(",", ":")))
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def fn_index(value: Any, *keys: Any) -> Any:
    for key in keys:
        if value is NIL_MAP:
            return None
        if value is None or value is NO_VALUE or isinstance(value, TypedNil):
            raise TemplateError("template: :1: error calling index: index of untyped nil")
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, (list, tuple, str)):
            if not isinstance(key, int) or not 0 <= key < len(value):
                raise TemplateError(f"template: :1: error calling index: index out of range: {key}")
            value = value[key]
        else:
            raise TemplateError(f"template: :1: error calling index: can't index item of type {type(value)}")
    return value


def fn_len(value: Any) -> int:
    if isinstance(value, TypedNil):
        return 0
    if isinstance(value, (str, list, tuple, dict)):
        return len(value)
    raise TemplateError(f"template: :1: error calling len: len of type {type(value).__name__}")


def fn_slice(value: Any, *idx: int) -> Any:
    if len(idx) == 0:
        return value
    if len(idx) == 1:
        return value[idx[0] :]
    return value[idx[0] : idx[1]]


def fn_print(*args: Any) -> str:
    out = []
    for i, a in enumerate(args):
        if i and not isinstance(a, str) and not isinstance(args[i - 1], str):
            out.append(" ")
        out.append(go_str(a))
    return "".join(out)


def fn_println(*args: Any) -> str:
    return " ".join(go_str(a) for a in args) + "\n"


_VERB = re.compile(r"%([-+# 0]*)(\d+|\*)?(?:\.(\d+))?([a-zA-Z%])")


def fn_printf(fmt: str, *args: Any) -> str:
    """fmt.Sprintf for the common verbs: %s %v %d %q %t %x %X %f %g %e %%."""
    argv = list(args)
    pos = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal pos
        flags, width, prec, verb = m.group(1), m.group(2) or "", m.group(3), m.group(4)
        if verb == "%":
            return "%"
        if pos >= len(argv):
            return f"%!{verb}(MISSING)"
        arg = argv[pos]
        pos += 1
        spec = flags + width + ("." + prec if prec is not None else "")
        if verb in ("s", "v"):
            text = go_str(arg)
            return f"%{flags.replace('0', '')}{width}{'.' + prec if prec is not None else ''}s" % text
        if verb == "q":
            return "%{}{}s".format(flags.replace("0", ""), width) % json.dumps(go_str(arg), ensure_ascii=False)
        if verb == "t":
            return go_str(bool(arg) if isinstance(arg, bool) else arg)
        if verb in ("d", "x", "X", "o", "b") and isinstance(arg, (int, float)) and not isinstance(arg, bool):
            return f"%{spec}{verb}" % int(arg) if verb != "b" else format(int(arg), "b")
        if verb in ("x", "X") and isinstance(arg, str):
            hexed = arg.encode().hex()
            return hexed.upper() if verb == "X" else hexed
        if verb in ("f", "F", "g", "G", "e", "E") and isinstance(arg, (int, float)):
            return f"%{spec}{verb}" % float(arg)
        return f"%!{verb}({type(arg).__name__}={go_str(arg)})"

    return _VERB.sub(repl, fmt)


def _compare(op: Callable[[Any, Any], bool]) -> Callable[..., bool]:
    def compare(a: Any, b: Any) -> bool:
        if isinstance(a, (int, float)) != isinstance(b, (int, float)):
            raise TemplateError("template: :1: error calling compare: incompatible types for comparison")
        return op(a, b)

    return compare


def fn_eq(a: Any, *others: Any) -> bool:
    if not others:
        raise TemplateError("template: :1: error calling eq: missing argument for comparison")
    return any(a == b for b in others)


def fn_and(*args: Any) -> Any:
    for a in args:
        if not truth(a):
            return a
    return args[-1]


def fn_or(*args: Any) -> Any:
    for a in args:
        if truth(a):
            return a
    return args[-1]


def fn_title(s: Any) -> str:
    return re.sub(r"(^|[^\w'])(\w)", lambda m: m.group(1) + m.group(2).upper(), go_str(s))


def fn_pad(s: Any, before: int, after: int) -> str:
    return " " * before + go_str(s) + " " * after


def fn_truncate(s: Any, n: int) -> str:
    text = go_str(s)
    return text[:n] if len(text) > n else text


def fn_join(items: Any, sep: str) -> str:
    if not isinstance(items, (list, tuple)):
        raise TemplateError("template: :1: error calling join: wrong type for value; expected []string")
    return sep.join(go_str(i) for i in items)


def fn_split(s: Any, sep: str) -> list[str]:
    text = go_str(s)
    return list(text) if sep == "" else text.split(sep)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "json": fn_json,
    "join": fn_join,
    "split": fn_split,
    "title": fn_title,
    "lower": lambda s: go_str(s).lower(),
    "upper": lambda s: go_str(s).upper(),
    "pad": fn_pad,
    "truncate": fn_truncate,
    "println": fn_println,
    "print": fn_print,
    "printf": fn_printf,
    "index": fn_index,
    "len": fn_len,
    "slice": fn_slice,
    "not": lambda a: not truth(a),
    "and": fn_and,
    "or": fn_or,
    "eq": fn_eq,
    "ne": lambda a, b: a != b,
    "lt": _compare(lambda a, b: a < b),
    "le": _compare(lambda a, b: a <= b),
    "gt": _compare(lambda a, b: a > b),
    "ge": _compare(lambda a, b: a >= b),
}

# In a `table` header row docker runs the template over the column names with these
# functions turned into identities, so `{{upper .Name}}` still prints `NAME`.
HEADER_FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: (lambda v, *_: v) for name in ("json", "split", "join", "title", "lower", "upper", "pad", "truncate")
}
