"""Docker's detach keys: the `ctrl-p,ctrl-q` grammar and finding the sequence in client input.

Shared by the CLI (its own stdin) and the server (attach and exec streams), which may not
import each other.
"""

from __future__ import annotations

DEFAULT = "ctrl-p,ctrl-q"


def parse_detach_keys(spec: str) -> bytes:
    """`ctrl-p,ctrl-q` / `a,ctrl-@` to the bytes it stands for; ValueError in docker's words."""
    out = bytearray()
    for key in spec.split(","):
        k = key.strip().lower()
        if len(k) == 1:
            out.append(ord(k))
        elif len(k) == 6 and k.startswith("ctrl-") and ("a" <= k[5] <= "z" or k[5] in "@[\\]^_"):
            out.append(ord(k[5].upper()) - 64)
        else:
            raise ValueError(f"Unknown character: '{key}'")
    return bytes(out)


class DetachScanner:
    """Finds the detach sequence in client input; its bytes are held back, never forwarded.

    Bytes that start the sequence wait until it is complete (detach) or broken (they go on).
    """

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self.held = bytearray()

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """(bytes to forward, whether the sequence completed)."""
        if not self.keys:
            return data, False
        out = bytearray()
        for byte in data:
            if byte != self.keys[len(self.held)]:
                out += self.held
                self.held.clear()
                if byte != self.keys[0]:
                    out.append(byte)
                    continue
            self.held.append(byte)
            if len(self.held) == len(self.keys):
                self.held.clear()
                return bytes(out), True
        return bytes(out), False
