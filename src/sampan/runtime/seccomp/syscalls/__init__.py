"""Syscall numbers, one generated module per architecture (`gentable.py` writes them).

Loaded one at a time: compiling a profile imports only the tables of the architectures it
names. `X86_64`, `I386`, `X32` and `AARCH64` are the tables themselves, loaded on first use.
"""

from __future__ import annotations

# SCMP architecture -> module of this package holding its NUMBERS
MODULES = {
    "SCMP_ARCH_X86_64": "x86_64",
    "SCMP_ARCH_X86": "i386",
    "SCMP_ARCH_X32": "x32",
    "SCMP_ARCH_AARCH64": "aarch64",
}
_BY_CONSTANT = {"X86_64": "x86_64", "I386": "i386", "X32": "x32", "AARCH64": "aarch64"}


def table(arch: str) -> dict[str, int] | None:
    """Name -> number for an SCMP architecture, or None when no table is shipped for it."""
    module = MODULES.get(arch)
    return None if module is None else _load(module)


def _load(module: str) -> dict[str, int]:
    import importlib

    numbers: dict[str, int] = importlib.import_module(f"{__name__}.{module}").NUMBERS
    return numbers


def __getattr__(name: str) -> dict[str, int]:
    if name in _BY_CONSTANT:
        return _load(_BY_CONSTANT[name])
    raise AttributeError(name)
