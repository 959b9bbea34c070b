"""The fault proxy itself (other areas' bad-input tests rely on each kind doing what it says)."""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator

import pytest

from tests.support.faultproxy import FaultProxy
from tests.support.images import Pusher, sha256
from tests.support.registry import LocalRegistry

pytestmark = [pytest.mark.root, pytest.mark.registry]

BLOB = bytes(range(256)) * 64


@pytest.fixture
def proxy(registry: LocalRegistry) -> Iterator[FaultProxy]:
    Pusher(registry.url).put_blob("fp/blob", BLOB)
    with FaultProxy(registry.url) as p:
        yield p


def _get(proxy: FaultProxy, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        try:
            body = resp.read()
        except http.client.IncompleteRead as e:
            body = e.partial
        return resp.status, dict(resp.getheaders()), body
    finally:
        conn.close()


def test_fault_kinds(proxy: FaultProxy) -> None:
    path = f"/v2/fp/blob/blobs/{sha256(BLOB)}"
    assert _get(proxy, path)[2] == BLOB
    proxy.set_fault(path, "truncate", after=100)
    assert _get(proxy, path)[2] == BLOB[:100]
    assert _get(proxy, path)[2] == BLOB  # fired once
    proxy.set_fault(path, "corrupt", offset=5)
    body = _get(proxy, path)[2]
    assert body[5] == BLOB[5] ^ 0xFF and body[:5] == BLOB[:5] and body[6:] == BLOB[6:]
    proxy.set_fault("/blobs/", "status", status=502, times=2, body=b"bad")
    assert [_get(proxy, path)[0] for _ in range(3)] == [502, 502, 200]
    proxy.set_fault("/blobs/", "redirect", host="localhost", times=None)
    status, headers, _ = _get(proxy, path)
    assert status == 307 and headers["Location"] == f"http://localhost:{proxy.port}/_redirect{path}"
    assert _get(proxy, "/_redirect" + path)[2] == BLOB  # never redirected twice
    proxy.clear()
    proxy.set_fault("/blobs/", "body", body=b"hello", content_type="text/plain", status=200)
    status, headers, body = _get(proxy, path)
    assert (status, headers["Content-Type"], body) == (200, "text/plain", b"hello")
    proxy.set_fault("/blobs/", "reset")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        _get(proxy, path)
    proxy.set_fault("/blobs/", "delay", seconds=0.3)
    start = time.monotonic()
    assert _get(proxy, path)[2] == BLOB
    assert time.monotonic() - start >= 0.3
    assert [m for m, _, _ in proxy.requests_matching("/blobs/")] == ["GET"] * 3  # since clear()
