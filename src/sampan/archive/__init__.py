"""Layer tars: path-safe application with whiteouts, gzip/zstd decompression."""

from sampan.archive.apply import ApplyResult, apply_layer, clean_name
from sampan.archive.compression import decompressor, detect_compression

__all__ = ["ApplyResult", "apply_layer", "clean_name", "decompressor", "detect_compression"]
