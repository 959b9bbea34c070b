"""Layer unpack throughput: sampan's apply_layer vs tarfile vs GNU tar, gzip and zstd.

Builds layers like bench/pull's image (random-byte layers and text-file layers, about
270 MB compressed with gzip) plus one layer of many small files, writes the compressed
blobs to a temp dir (page cache, like a freshly pulled blob) and times unpacking each into
a fresh directory. Prints MB/s of compressed input and of uncompressed output.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable

from tests.support.images import Entry, compress, tar_bytes

from bench.pull_bench import random_layer, text_layer
from sampan.archive import apply_layer, decompressor

Layer = tuple[str, bytes]  # (name, uncompressed tar)


def small_files_layer(count: int = 20000) -> list[Entry]:
    entries = [Entry(f"usr/share/d{i // 500}", "dir") for i in range(0, count, 500)]
    entries += [Entry(f"usr/share/d{i // 500}/f{i}", data=os.urandom(64) * (1 + i % 40)) for i in range(count)]
    entries += [Entry(f"usr/bin/l{i}", "symlink", target="../share/x") for i in range(2000)]
    return entries


def build_layers(scale: float) -> list[Layer]:
    def n(x: int) -> int:
        return int(x * scale)

    return [
        ("random-8", tar_bytes(random_layer(n(62_000_000), 8))),
        ("random-4", tar_bytes(random_layer(n(62_000_000), 4))),
        ("random-2", tar_bytes(random_layer(n(62_000_000), 2))),
        ("text-1", tar_bytes(text_layer(n(150_000_000), 1))),
        ("text-2", tar_bytes(text_layer(n(150_000_000), 2))),
        ("small-files", tar_bytes(small_files_layer(max(1000, n(20000))))),
    ]


def sampan_unpack(blob_path: str, dest: str, compression: str) -> None:
    with open(blob_path, "rb", buffering=0) as f:
        apply_layer(f, dest, compression=compression, whiteouts="overlay")  # type: ignore[arg-type]


def tarfile_unpack(blob_path: str, dest: str, compression: str) -> None:
    with open(blob_path, "rb") as f, tarfile.open(fileobj=decompressor(f, compression), mode="r|") as tf:
        tf.extractall(dest, filter="fully_trusted")


def gnutar_unpack(blob_path: str, dest: str, compression: str) -> None:
    flag = {"gzip": "--gzip", "zstd": "--zstd", "": ""}[compression]
    argv = ["tar", "-x", "-f", blob_path, "-C", dest, "--same-owner", "-p"] + ([flag] if flag else [])
    subprocess.run(argv, check=True)


TOOLS: dict[str, Callable[[str, str, str], None]] = {
    "sampan": sampan_unpack,
    "tarfile": tarfile_unpack,
    "gnutar": gnutar_unpack,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scale", type=float, default=1.0, help="layer size factor (1.0: ~270 MB gzip)")
    ap.add_argument("--tools", default="sampan,tarfile,gnutar")
    ap.add_argument("--compressions", default="gzip,zstd")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", default=None, help="work dir (default: a temp dir under /var/tmp)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="sampan-unpack-", dir=args.dir or "/var/tmp")
    try:
        t0 = time.monotonic()
        layers = build_layers(args.scale)
        raw_total = sum(len(t) for _, t in layers)
        print(f"built {len(layers)} layers, {raw_total / 1e6:.0f} MB uncompressed in {time.monotonic() - t0:.1f}s")
        for comp in args.compressions.split(","):
            blobs = []
            for name, tar in layers:
                path = os.path.join(work, f"{name}.{comp}")
                with open(path, "wb") as f:
                    f.write(compress(tar, comp))
                blobs.append((name, path, len(tar)))
            comp_total = sum(os.path.getsize(p) for _, p, _ in blobs)
            print(f"\n{comp}: {comp_total / 1e6:.0f} MB compressed, {raw_total / 1e6:.0f} MB uncompressed")
            for tool in args.tools.split(","):
                runs = []
                for rep in range(args.repeat):
                    elapsed = 0.0
                    for name, path, _raw in blobs:
                        # Fresh dirs, removed only at the end: on ext4, creating inodes right
                        # after deleting many is slow (recently-deleted inode scans).
                        dest = os.path.join(work, f"out-{comp}-{tool}-{rep}-{name}")
                        os.mkdir(dest)
                        t = time.monotonic()
                        TOOLS[tool](path, dest, comp)
                        elapsed += time.monotonic() - t
                    runs.append(elapsed)
                best, med = min(runs), statistics.median(runs)
                print(
                    f"  {tool:8s} best {best:6.2f}s median {med:6.2f}s   "
                    f"{comp_total / 1e6 / best:6.0f} MB/s compressed (median {comp_total / 1e6 / med:4.0f})  "
                    f"{raw_total / 1e6 / best:6.0f} MB/s uncompressed   load {os.getloadavg()[0]:.1f}"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
