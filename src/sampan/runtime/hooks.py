"""OCI hooks: run each with the container state JSON on stdin, its env, and its timeout."""

from __future__ import annotations

from sampan.errdefs import System
from sampan.runtime import jsonc
from sampan.runtime.state import OCI_VERSION

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any

    from sampan.runtime.config import Hook


def hook_state(cid: str, status: str, pid: int, bundle: str, annotations: dict[str, str]) -> dict[str, Any]:
    """The state document hooks read on stdin."""
    out: dict[str, Any] = {"ociVersion": OCI_VERSION, "id": cid, "status": status, "pid": pid, "bundle": bundle}
    if annotations:
        out["annotations"] = annotations
    return out


def run_hooks(kind: str, hooks: tuple[Hook, ...], state: dict[str, Any]) -> None:
    """Run hooks in order; the first failure raises System naming the hook."""
    if not hooks:
        return
    import subprocess

    data = jsonc.dumps(state).encode()
    for i, hook in enumerate(hooks):
        args = list(hook.args) or [hook.path]
        try:
            res = subprocess.run(args, executable=hook.path, input=data, env=env_of(hook),
                                 capture_output=True, timeout=hook.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise System(f"error running {kind} hook #{i} ({hook.path}): timed out after {hook.timeout}s")
        except OSError as e:
            raise System(f"error running {kind} hook #{i} ({hook.path}): {e.strerror or e}")
        if res.returncode != 0:
            raise System(
                f"error running {kind} hook #{i} ({hook.path}): exit status {res.returncode}, "
                f"stdout: {res.stdout.decode(errors='replace').strip()}, "
                f"stderr: {res.stderr.decode(errors='replace').strip()}"
            )


def run_hooks_warn(kind: str, hooks: tuple[Hook, ...], state: dict[str, Any]) -> None:
    """poststart/poststop failures are warnings, as the OCI spec says."""
    try:
        run_hooks(kind, hooks, state)
    except System as e:
        import logging

        logging.getLogger(__name__).warning("%s", e)


def env_of(hook: Hook) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in hook.env:
        k, _, v = item.partition("=")
        out[k] = v
    return out
