"""Layer tars: path-safe application with whiteouts, gzip/zstd decompression, and writing."""

from sampan.archive.apply import ApplyResult, apply_layer, clean_name
from sampan.archive.compression import decompressor, detect_compression
from sampan.archive.write import WriteResult, write_layer

__all__ = [
    "ApplyResult",
    "WriteResult",
    "apply_layer",
    "clean_name",
    "decompressor",
    "detect_compression",
    "write_layer",
]
