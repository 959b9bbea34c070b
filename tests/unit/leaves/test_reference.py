"""Reference normalisation must match Docker's exactly: users and scripts depend on it."""

from __future__ import annotations

import pytest

from sampan.errdefs import InvalidArgument
from sampan.oci.reference import parse, parse_normalized_named

HEX = "a" * 64


@pytest.mark.parametrize(
    ("text", "full", "familiar"),
    [
        ("busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36"),
        ("library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("docker.io/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("index.docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox:latest"),
        ("user/app:v1", "docker.io/user/app:v1", "user/app:v1"),
        ("localhost/app", "localhost/app:latest", "localhost/app:latest"),
        ("localhost:5000/a/b", "localhost:5000/a/b:latest", "localhost:5000/a/b:latest"),
        ("127.0.0.1:5000/x:t", "127.0.0.1:5000/x:t", "127.0.0.1:5000/x:t"),
        ("quay.io/org/img", "quay.io/org/img:latest", "quay.io/org/img:latest"),
        (f"busybox@sha256:{HEX}", f"docker.io/library/busybox@sha256:{HEX}", f"busybox@sha256:{HEX}"),
        (f"a/b:t@sha256:{HEX}", f"docker.io/a/b:t@sha256:{HEX}", f"a/b:t@sha256:{HEX}"),
        ("docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest"),
    ],
)
def test_normalisation(text: str, full: str, familiar: str) -> None:
    ref = parse(text)
    assert str(ref) == full
    assert ref.familiar() == familiar


def test_no_default_tag_for_named() -> None:
    ref = parse_normalized_named("busybox")
    assert ref.tag is None and ref.digest is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Busybox", "repository name (library/Busybox) must be lowercase"),
        (HEX, "cannot specify 64-byte hexadecimal strings"),
        ("", "invalid reference format"),
        ("a:b:c", "invalid reference format"),
        ("busybox@sha256:abc", "invalid reference format"),
        ("-x/y", "invalid reference format"),
        ("a" * 300, "must not be more than 255 characters"),
    ],
)
def test_invalid(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text)
