"""seccomp for sampan-runtime: OCI `linux.seccomp` objects checked and compiled to classic BPF.

`validate(seccomp)` checks a profile; `compile_filter(seccomp)` returns the packed program that
`sampan.linux.seccomp.install_filter` loads. No libseccomp: the syscall tables are generated from
the kernel headers (gentable.py) and the BPF is assembled here.
"""

from __future__ import annotations

from sampan.linux.seccomp import flags_value

from .compiler import action_value, compile_filter
from .profile import DOCKER_DEFAULT_CAPS, resolve, validate

__all__ = ["DOCKER_DEFAULT_CAPS", "action_value", "compile_filter", "flags_value", "resolve", "validate"]
