"""`POST /containers/create?platform=`: the image must be for the platform asked for.

dockerd answers a mismatch with a not-found error (the docker CLI then pulls the right
variant and creates again), with the wording below.
"""

from __future__ import annotations

from typing import Any

from sampan.errdefs import NotFound
from sampan.oci.image import Platform, normalize_arch


def image_platform(config: dict[str, Any]) -> Platform:
    """The platform an image config declares (os/architecture/variant)."""
    return Platform(os=str(config.get("os") or "linux"), architecture=normalize_arch(str(config.get("architecture")
                                                                                          or "")),
                    variant=str(config.get("variant") or ""))


def check_platform(wanted_text: str, image_name: str, config: dict[str, Any]) -> None:
    """NotFound unless the image's platform matches `wanted_text` (empty: anything goes)."""
    if not wanted_text:
        return
    wanted = Platform.parse(wanted_text)  # InvalidArgument when malformed
    actual = image_platform(config)
    variant_differs = bool(wanted.variant and actual.variant and wanted.variant != actual.variant)
    if wanted.os != actual.os or wanted.architecture != actual.architecture or variant_differs:
        raise NotFound(f"image with reference {image_name} was found but does not match the specified platform: "
                       f"wanted {wanted}, actual: {actual}")
