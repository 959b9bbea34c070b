"""The registry client: resolve a reference to a platform manifest, fetch and stream blobs.

One client serves many threads: per-registry state (HTTP or HTTPS, auth challenges) is
learnt once by pinging /v2/, tokens are cached, connections pooled. Every failure leaves
as an errdefs kind with Docker's wording.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from sampan import errdefs
from sampan.digest import Digest
from sampan.distribution import push
from sampan.distribution.auth import AuthConfig, load_docker_config_auth
from sampan.distribution.blobs import BlobReader
from sampan.distribution.challenge import Challenge, parse_challenges
from sampan.distribution.endpoints import CERTS_DIRS, Endpoint, InsecurePolicy, endpoint_for, tls_context
from sampan.distribution.errors import (
    NetworkError,
    blob_error,
    manifest_error,
    network_error,
    unexpected_status,
)
from sampan.distribution.proxies import ProxySettings
from sampan.distribution.tokens import Authorizer
from sampan.distribution.transport import TRANSFER_ERRORS, Exchange, Transport
from sampan.oci.image import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    INDEX_TYPES,
    MANIFEST_TYPES,
    MAX_MANIFEST_SIZE,
    OCI_INDEX,
    OCI_MANIFEST,
    Descriptor,
    Index,
    Manifest,
    Platform,
    host_platform,
    parse_manifest_bytes,
)
from sampan.oci.reference import Reference

log = logging.getLogger(__name__)

#: Accept header for manifests: every type we can use, preferred first.
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
SERVER_ERROR_RETRIES = 2
SERVER_ERROR_BACKOFF = (0.1, 0.3)
_SCHEMA1_TYPES = frozenset({
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
})
_GENERIC_TYPES = frozenset({"", "application/json", "text/plain", "application/octet-stream"})


@dataclass
class Resolved:
    """A reference resolved to one platform's manifest."""

    ref: Reference
    digest: str  # digest of what the reference named (the index for a list): the repo digest
    manifest: Manifest
    manifest_bytes: bytes
    manifest_digest: str  # digest of the platform manifest
    media_type: str  # media type of the platform manifest
    index: Index | None


@dataclass
class _Host:
    endpoint: Endpoint
    scheme: str
    challenges: list[Challenge]

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.endpoint.host}"


class RegistryClient:
    """Pulls from (and pushes to) registries. Thread-safe; one instance may serve many pulls.

    Credentials: `auth` is used for every registry this client talks to (the daemon builds
    one client per request from X-Registry-Auth); without it, `docker_config` (a config.json
    path or its directory) is consulted per registry; with neither, access is anonymous.
    """

    def __init__(
        self,
        *,
        insecure_registries: Sequence[str] = (),
        auth: AuthConfig | None = None,
        docker_config: str | None = None,
        user_agent: str = "sampan/0.1",
        timeout: float = 30.0,
        certs_dirs: Sequence[str] = CERTS_DIRS,
        proxies: ProxySettings | None = None,
    ) -> None:
        """`proxies` defaults to HTTP(S)_PROXY/NO_PROXY from the environment, as dockerd."""
        self.policy = InsecurePolicy(insecure_registries)
        self.auth = auth if auth is not None and not auth.is_empty() else None
        self.docker_config = docker_config
        self.certs_dirs = tuple(certs_dirs)
        self.transport = Transport(timeout=timeout, user_agent=user_agent, tls_for=self._tls_for,
                                   proxies=proxies if proxies is not None else ProxySettings.from_environ())
        self.authorizer = Authorizer(self.transport)
        self._hosts: dict[str, _Host] = {}
        self._host_locks: dict[str, threading.Lock] = {}
        self._tls: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    # -- public API ---------------------------------------------------------------------------

    def resolve(self, ref: Reference, platform: Platform | None = None) -> Resolved:
        """Fetch the manifest `ref` names; for a list/index, the one for `platform`."""
        target = ref.digest or ref.tag or "latest"
        data, media_type, digest = self._fetch_manifest(ref, target, ref.digest)
        parsed = _parse(data, media_type)
        if isinstance(parsed, Manifest):
            return Resolved(ref, digest, parsed, data, digest, parsed.media_type, None)
        want = platform or host_platform()
        desc = parsed.select(want)
        if desc.size > MAX_MANIFEST_SIZE:
            raise errdefs.InvalidArgument(f"manifest too big: {desc.size} bytes (limit {MAX_MANIFEST_SIZE})")
        sub, sub_type, sub_digest = self._fetch_manifest(ref, desc.digest, desc.digest)
        if desc.size and len(sub) != desc.size:
            raise errdefs.DataLoss(f"manifest {desc.digest}: size {len(sub)} does not match the index ({desc.size})")
        manifest = _parse(sub, sub_type or desc.media_type)
        if not isinstance(manifest, Manifest):
            raise errdefs.InvalidArgument(f"manifest {desc.digest} for {want} is an index, not an image manifest")
        return Resolved(ref, digest, manifest, sub, sub_digest, manifest.media_type, parsed)

    def fetch_blob_bytes(self, ref: Reference, desc: Descriptor, max_size: int) -> bytes:
        """A whole (small) blob, verified against the descriptor's digest and size."""
        if desc.size > max_size:
            raise errdefs.InvalidArgument(f"blob {desc.digest} too big: {desc.size} bytes (limit {max_size})")
        expected = Digest.parse(desc.digest)
        with self.open_blob(ref, desc) as reader:
            buf = bytearray((desc.size or max_size) + 1)
            view = memoryview(buf)
            got = 0
            while got < len(buf):
                n = reader.readinto(view[got:])
                if not n:
                    break
                got += n
        if got > max_size:
            raise errdefs.InvalidArgument(f"blob {desc.digest} too big: more than {max_size} bytes")
        data = bytes(view[:got])
        if desc.size and got != desc.size:
            raise errdefs.DataLoss(f"size mismatch for {desc.digest}: got {got} bytes, expected {desc.size}")
        actual = Digest.of_bytes(data, expected.algorithm)
        if actual != expected:
            raise errdefs.DataLoss(f"digest mismatch: expected {desc.digest}, got {actual}")
        return data

    def open_blob(self, ref: Reference, desc: Descriptor, offset: int = 0) -> BlobReader:
        """Stream a blob from `offset`, resuming on broken connections; the caller verifies it."""
        Digest.parse(desc.digest)
        path = f"/v2/{ref.path}/blobs/{desc.digest}"

        def opener(pos: int) -> Exchange:
            headers = {"Range": f"bytes={pos}-"} if pos > 0 else {}
            ex = self.repo_request(ref, "GET", path, headers)
            if ex.status in (200, 206):
                return ex
            status, reason, www = ex.status, ex.reason, ex.headers("WWW-Authenticate")
            body = ex.read_all()
            raise blob_error(ref, desc.digest, status, reason, body, www, authenticated=self.has_credentials(ref))

        return BlobReader(opener, desc.digest, desc.size, offset)

    def blob_exists(self, ref: Reference, digest: str) -> bool:
        return push.blob_exists(self, ref, digest)

    def push_blob(self, ref: Reference, desc: Descriptor, data: bytes | BinaryIO,
                  *, mount_from: Reference | None = None) -> bool:
        """Upload a blob unless the repository has it; see `push.push_blob`."""
        return push.push_blob(self, ref, desc, data, mount_from=mount_from)

    def put_manifest(self, ref: Reference, data: bytes, media_type: str) -> str:
        return push.put_manifest(self, ref, data, media_type)

    def has_credentials(self, ref: Reference) -> bool:
        return self._creds(ref) is not None

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- manifests ----------------------------------------------------------------------------

    def _fetch_manifest(self, ref: Reference, target: str, expected: str | None) -> tuple[bytes, str, str]:
        """(bytes, media type, digest) of a manifest by tag or digest, verified."""
        ex = self.repo_request(ref, "GET", f"/v2/{ref.path}/manifests/{target}", {"Accept": MANIFEST_ACCEPT})
        named = ref if target == (ref.digest or ref.tag) else ref.with_digest(target)
        if ex.status != 200:
            status, reason, www = ex.status, ex.reason, ex.headers("WWW-Authenticate")
            body = ex.read_all()
            raise manifest_error(named, status, reason, body, www, authenticated=self.has_credentials(ref))
        length = ex.header("Content-Length")
        if length.isdigit() and int(length) > MAX_MANIFEST_SIZE:
            ex.close()
            raise errdefs.InvalidArgument(f"manifest too big: {length} bytes (limit {MAX_MANIFEST_SIZE})")
        try:
            data = ex.resp.read(MAX_MANIFEST_SIZE + 1)
        except TRANSFER_ERRORS as e:
            ex.close()
            raise network_error("GET", ex.url, ex.origin.netloc, e) from e
        if len(data) > MAX_MANIFEST_SIZE:
            ex.close()
            raise errdefs.InvalidArgument(f"manifest too big: more than {MAX_MANIFEST_SIZE} bytes")
        ex.release()
        media_type = ex.header("Content-Type").split(";", 1)[0].strip()
        algorithm = Digest.parse(expected).algorithm if expected else "sha256"
        digest = str(Digest.of_bytes(data, algorithm))
        if expected and digest != expected:
            raise errdefs.DataLoss(f"manifest verification failed for digest {expected}: got {digest}")
        header_digest = ex.header("Docker-Content-Digest").strip()
        if not expected and header_digest:
            try:
                hd = Digest.parse(header_digest)
            except errdefs.InvalidArgument:
                hd = None
            if hd is not None and str(Digest.of_bytes(data, hd.algorithm)) != header_digest:
                raise errdefs.DataLoss(
                    f"manifest verification failed for {ref.familiar()}: registry says {header_digest}, "
                    f"content is {digest}"
                )
        return data, media_type, digest

    # -- requests with auth, retries and per-host state ---------------------------------------

    def _creds(self, ref: Reference) -> AuthConfig | None:
        if self.auth is not None:
            return self.auth
        if self.docker_config:
            return load_docker_config_auth(ref.domain, self.docker_config)
        return None

    def repo_request(self, ref: Reference, method: str, path: str, headers: Mapping[str, str] | None = None,
                     *, body: bytes | BinaryIO | None = None, actions: str = "pull") -> Exchange:
        """A request against `ref`'s repository authorised for `actions`; retried once on 401.

        `path` is a path on the registry or an absolute URL (an upload location); credentials
        go only to the registry's own host. A streamed body is sent once (no retries).
        """
        host = self._host(ref.domain)
        creds = self._creds(ref)
        scope = f"repository:{ref.path}:{actions}"
        url = path if path.startswith(("http://", "https://")) else host.base + path
        same_host = url.split("/")[2] == host.endpoint.host
        headers = dict(headers or {})
        auth = self._authorization(method, url, host.challenges, scope, creds) if same_host else None
        retry = body is None or isinstance(body, bytes)
        ex = self._send(method, url, {**headers, **({"Authorization": auth} if auth else {})}, body, retry=retry)
        if ex.status != 401 or not same_host:
            return ex
        challenges = parse_challenges(ex.headers("WWW-Authenticate"))
        if not challenges:
            return ex
        new_auth = self._authorization(method, url, challenges, scope, creds, refresh=True)
        if new_auth is None and creds is None and any(c.scheme == "basic" for c in challenges):
            ex.read_all()
            raise errdefs.Unauthorized(f'{_verb(method)} "{url}": no basic auth credentials')
        if new_auth is None or new_auth == auth or not retry:
            return ex
        ex.read_all()
        host.challenges = challenges
        return self._send(method, url, {**headers, "Authorization": new_auth}, body)

    def _authorization(self, method: str, url: str, challenges: list[Challenge], scope: str,
                       creds: AuthConfig | None, *, refresh: bool = False) -> str | None:
        """The Authorization header; a refused login names the request, as Docker does."""
        try:
            return self.authorizer.header(challenges, scope, creds, refresh=refresh)
        except errdefs.Unauthorized as e:
            raise errdefs.Unauthorized(f'{_verb(method)} "{url}": {e}') from e

    def _send(self, method: str, url: str, headers: Mapping[str, str],
              body: bytes | BinaryIO | None = None, *, retry: bool = True) -> Exchange:
        """One request with 5xx retries; network failures become Docker-worded errors."""
        attempts = SERVER_ERROR_RETRIES + 1 if retry else 1
        for attempt in range(attempts):
            try:
                ex = self.transport.request(method, url, headers, body)
            except TRANSFER_ERRORS as e:
                raise network_error(method, url, url.split("/")[2], e) from e
            if ex.status < 500 or ex.status == 501 or attempt == attempts - 1:
                break
            log.info("%s %s: %d %s, retrying", method, url, ex.status, ex.reason)
            ex.read_all()
            time.sleep(SERVER_ERROR_BACKOFF[min(attempt, len(SERVER_ERROR_BACKOFF) - 1)])
        if ex.status >= 500:
            status, reason = ex.status, ex.reason
            ex.read_all()
            raise unexpected_status(status, reason)
        return ex

    def _host(self, domain: str) -> _Host:
        with self._lock:
            known = self._hosts.get(domain)
            if known is not None:
                return known
            lock = self._host_locks.setdefault(domain, threading.Lock())
        with lock:  # one ping per registry even when threads race
            with self._lock:
                known = self._hosts.get(domain)
            if known is None:
                known = self._ping(endpoint_for(domain, self.policy))
                with self._lock:
                    self._hosts[domain] = known
            return known

    def _ping(self, ep: Endpoint) -> _Host:
        """GET /v2/: learn the scheme (HTTPS, or HTTP for insecure ones) and auth challenges."""
        error: NetworkError | None = None
        for scheme in ("https", "http") if ep.insecure else ("https",):
            url = f"{scheme}://{ep.host}/v2/"
            try:
                ex = self._send("GET", url, {})
            except NetworkError as e:
                error = e
                log.debug("ping %s failed: %s", url, e)
                continue
            challenges = parse_challenges(ex.headers("WWW-Authenticate")) if ex.status == 401 else []
            ex.read_all()
            log.debug("registry %s speaks %s (auth: %s)", ep.host, scheme,
                      [c.scheme for c in challenges] or "none")
            return _Host(ep, scheme, challenges)
        assert error is not None
        raise error

    def _tls_for(self, netloc: str) -> ssl.SSLContext:
        with self._lock:
            ctx = self._tls.get(netloc)
        if ctx is None:
            ctx = tls_context(netloc, self.policy.is_insecure(netloc), self.certs_dirs)
            with self._lock:
                ctx = self._tls.setdefault(netloc, ctx)
        return ctx


def _verb(method: str) -> str:
    return method[:1].upper() + method[1:].lower()


def _parse(data: bytes, media_type: str) -> Manifest | Index:
    """Decode a manifest, refusing types we cannot use with a clear message."""
    if media_type in _GENERIC_TYPES:
        media_type = ""
    elif media_type not in MANIFEST_TYPES and media_type not in INDEX_TYPES and media_type not in _SCHEMA1_TYPES:
        raise errdefs.InvalidArgument(f"unsupported manifest media type: {media_type}")
    return parse_manifest_bytes(data, media_type)

