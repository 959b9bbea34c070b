"""Run one pull in its own process, printing each progress message as a JSON line.

The crash test SIGKILLs this process at chosen moments and then checks the stores.
Usage: python -m tests.integration.images.crash_pull DATA_ROOT REF [slow]
"""

from __future__ import annotations

import json
import sys

from sampan.daemon.images.service import ImageService


def main() -> None:
    root, ref = sys.argv[1], sys.argv[2]
    svc = ImageService.open(root)
    if sys.argv[3:] == ["slow"]:  # treat the link as slow: streamed layers keep partial ingests
        svc._puller.fast_link = float("inf")

    def emit(msg: object) -> None:
        sys.stdout.write(json.dumps(msg.to_json()) + "\n")  # type: ignore[attr-defined]
        sys.stdout.flush()

    svc.pull(ref, platform=None, auth=None, progress=emit)
    svc.close()
    print(json.dumps({"done": True}), flush=True)


if __name__ == "__main__":
    main()
