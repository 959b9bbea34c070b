"""Image references, parsed and normalised exactly as Docker does.

`busybox` -> `docker.io/library/busybox:latest`; `localhost:5000/a/b@sha256:...` keeps its
registry; a first path component is a registry only when it has a `.` or `:` or is
`localhost`. Errors use Docker's wording because clients and scripts match on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sampan.errdefs import InvalidArgument

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"

_REFERENCE_RE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$")
_ANCHORED_NAME_RE = re.compile(rf"^(?:({_DOMAIN})/)?({_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)$")
_TAG_RE = re.compile(rf"^{_TAG}$")
_HEX64_RE = re.compile(r"^[a-f0-9]{64}$")


@dataclass(frozen=True)
class Reference:
    """A normalised reference: registry domain, repository path, and a tag and/or digest."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """Fully qualified repository name, e.g. `docker.io/library/busybox`."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self) -> str:
        """The name Docker shows people: `busybox`, `myuser/app`, `localhost:5000/app`."""
        if self.domain == DEFAULT_DOMAIN:
            path = self.path
            if path.startswith(OFFICIAL_REPO_PREFIX) and "/" not in path[len(OFFICIAL_REPO_PREFIX) :]:
                path = path[len(OFFICIAL_REPO_PREFIX) :]
            return path
        return self.name

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out

    def familiar(self) -> str:
        out = self.familiar_name
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out

    def with_tag(self, tag: str) -> Reference:
        if not _TAG_RE.match(tag):
            raise InvalidArgument(f"invalid tag format: {tag!r}")
        return Reference(self.domain, self.path, tag, None)

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.domain, self.path, None, digest)

    def repository(self) -> Reference:
        return Reference(self.domain, self.path)


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if not sep or ("." not in first and ":" not in first and first != "localhost"
                   and first.lower() == first):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, rest
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def parse_normalized_named(text: str) -> Reference:
    """Parse a reference as the user typed it, without adding a default tag."""
    if _HEX64_RE.match(text):
        raise InvalidArgument(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings"
        )
    m = _REFERENCE_RE.match(text)
    if not m:
        lower = text.lower()
        if lower != text and _REFERENCE_RE.match(lower):
            name_part = text.split("@", 1)[0]
            tail = name_part.rsplit("/", 1)[-1]
            if ":" in tail:
                name_part = name_part[: len(name_part) - len(tail) + tail.index(":")]
            _, remainder = _split_domain(name_part)
            raise InvalidArgument(
                f"invalid reference format: repository name ({remainder}) must be lowercase"
            )
        if text == "":
            raise InvalidArgument("invalid reference format")
        raise InvalidArgument("invalid reference format")
    name, tag, digest = m.group(1), m.group(2), m.group(3)
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidArgument(
            f"invalid reference format: repository name must not be more than "
            f"{NAME_TOTAL_LENGTH_MAX} characters"
        )
    domain, remainder = _split_domain(name)
    if remainder.lower() != remainder:
        raise InvalidArgument(f"invalid reference format: repository name ({remainder}) must be lowercase")
    if not _ANCHORED_NAME_RE.match(f"{domain}/{remainder}"):
        raise InvalidArgument("invalid reference format")
    if digest is not None:
        _check_digest(digest)
    return Reference(domain, remainder, tag, digest)


def parse(text: str) -> Reference:
    """Parse and normalise, adding `:latest` when there is neither tag nor digest."""
    ref = parse_normalized_named(text)
    if ref.tag is None and ref.digest is None:
        ref = Reference(ref.domain, ref.path, DEFAULT_TAG, None)
    return ref


def parse_repository(text: str) -> Reference:
    """A repository name alone (as in `docker tag SRC REPO[:TAG]` before the tag is split off)."""
    ref = parse_normalized_named(text)
    return ref.repository()


def _check_digest(digest: str) -> None:
    algo, _, hexpart = digest.partition(":")
    expected = {"sha256": 64, "sha512": 128}.get(algo)
    if expected is None:
        raise InvalidArgument(f"invalid reference format: unsupported digest algorithm {algo!r}")
    if len(hexpart) != expected or hexpart.lower() != hexpart:
        raise InvalidArgument("invalid reference format: invalid checksum digest length")


def is_valid_tag(tag: str) -> bool:
    return bool(_TAG_RE.match(tag))
