"""Pushing to a registry: blobs (skip what exists, cross-repository mount, monolithic upload)
and manifests, authorised for `pull,push` through the client's auth and host state.

Order is the caller's job (blobs before the manifest that names them, platform manifests
before their index), as in the distribution spec.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import quote, urlencode, urljoin

from sampan import errdefs
from sampan.digest import Digest
from sampan.distribution.errors import RegistryError, response_error, unexpected_status
from sampan.oci.image import Descriptor
from sampan.oci.reference import Reference

if TYPE_CHECKING:
    from sampan.distribution.client import RegistryClient
    from sampan.distribution.transport import Exchange

log = logging.getLogger(__name__)

PUSH = "pull,push"


def push_error(ex: Exchange, *, authenticated: bool) -> errdefs.SampanError:
    """Docker's wording for a refused push step (the CLI prints the registry's code and message)."""
    status, reason, www = ex.status, ex.reason, ex.headers("WWW-Authenticate")
    err = response_error(status, reason, ex.read_all(), www)
    if err is None:
        return unexpected_status(status, reason)
    if err.code == "UNAUTHORIZED" and not authenticated:
        err = RegistryError("DENIED")
    kind: type[errdefs.SampanError] = {
        "DENIED": errdefs.Forbidden,
        "UNAUTHORIZED": errdefs.Unauthorized,
        "NAME_UNKNOWN": errdefs.NotFound,
        "BLOB_UNKNOWN": errdefs.NotFound,
        "MANIFEST_BLOB_UNKNOWN": errdefs.InvalidArgument,
        "MANIFEST_INVALID": errdefs.InvalidArgument,
        "NAME_INVALID": errdefs.InvalidArgument,
        "TAG_INVALID": errdefs.InvalidArgument,
        "DIGEST_INVALID": errdefs.InvalidArgument,
        "SIZE_INVALID": errdefs.InvalidArgument,
        "UNSUPPORTED": errdefs.NotImplementedFeature,
        "TOOMANYREQUESTS": errdefs.Unavailable,
    }.get(err.code, errdefs.System)
    return kind(str(err))


def blob_exists(client: RegistryClient, ref: Reference, digest: str) -> bool:
    ex = client.repo_request(ref, "HEAD", f"/v2/{ref.path}/blobs/{digest}", actions=PUSH)
    if ex.status == 200:
        ex.read_all()
        return True
    if ex.status == 404:
        ex.read_all()
        return False
    raise push_error(ex, authenticated=client.has_credentials(ref))


def push_blob(client: RegistryClient, ref: Reference, desc: Descriptor, data: bytes | BinaryIO,
              *, mount_from: Reference | None = None) -> bool:
    """Upload one blob; False when the registry already had it (or mounted it from `mount_from`)."""
    Digest.parse(desc.digest)
    authenticated = client.has_credentials(ref)
    if blob_exists(client, ref, desc.digest):
        log.debug("blob %s already in %s", desc.digest, ref.name)
        return False
    uploads = f"/v2/{ref.path}/blobs/uploads/"
    if mount_from is not None and mount_from.domain == ref.domain and mount_from.path != ref.path:
        uploads += "?" + urlencode({"mount": desc.digest, "from": mount_from.path})
    ex = client.repo_request(ref, "POST", uploads, {"Content-Length": "0"}, body=b"", actions=PUSH)
    if ex.status == 201:
        ex.read_all()
        log.debug("blob %s mounted from %s", desc.digest, mount_from)
        return False
    if ex.status != 202 or not ex.header("Location"):
        raise push_error(ex, authenticated=authenticated)
    location = urljoin(ex.url, ex.header("Location"))
    ex.read_all()
    target = f"{location}{'&' if '?' in location else '?'}digest={quote(desc.digest)}"
    headers = {"Content-Type": "application/octet-stream", "Content-Length": str(desc.size)}
    ex = client.repo_request(ref, "PUT", target, headers, body=data, actions=PUSH)
    if ex.status != 201:
        raise push_error(ex, authenticated=authenticated)
    stored = ex.header("Docker-Content-Digest")
    ex.read_all()
    if stored and stored != desc.digest:
        raise errdefs.DataLoss(f"registry stored blob {desc.digest} as {stored}")
    return True


def put_manifest(client: RegistryClient, ref: Reference, data: bytes, media_type: str) -> str:
    """PUT a manifest under `ref`'s tag (or its digest); returns the manifest's digest."""
    digest = str(Digest.of_bytes(data))
    target = ref.tag or ref.digest or digest
    ex = client.repo_request(ref, "PUT", f"/v2/{ref.path}/manifests/{target}",
                             {"Content-Type": media_type, "Content-Length": str(len(data))},
                             body=data, actions=PUSH)
    if ex.status != 201:
        raise push_error(ex, authenticated=client.has_credentials(ref))
    stored = ex.header("Docker-Content-Digest")
    ex.read_all()
    if stored and stored != digest:
        raise errdefs.DataLoss(f"registry stored manifest {digest} as {stored}")
    return digest
