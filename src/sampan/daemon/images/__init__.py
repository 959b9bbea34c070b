"""The image service: pull, list, inspect, tag, delete and prune images."""

from sampan.daemon.images.service import ImageService

__all__ = ["ImageService"]
