"""HTTP(S)_PROXY handling: NO_PROXY rules, and a pull through a forward proxy."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from sampan.distribution import RegistryClient
from sampan.distribution.proxies import ProxySettings, parse_proxy
from sampan.oci.reference import parse
from tests.unit.distribution.fakeregistry import FakeRegistry
from tests.unit.distribution.test_client_http import add_image


def test_parse_proxy() -> None:
    p = parse_proxy("http://us%40r:pw@proxy.corp:3128")
    assert p is not None and (p.host, p.port) == ("proxy.corp", 3128)
    assert p.authorization == "Basic dXNAcjpwdw=="  # us@r:pw
    q = parse_proxy("proxy.corp")
    assert q is not None and (q.port, q.authorization) == (80, "")
    assert parse_proxy("") is None


def test_no_proxy_rules() -> None:
    s = ProxySettings.from_environ({
        "HTTPS_PROXY": "http://p:3128", "http_proxy": "http://p:8080",
        "NO_PROXY": "internal.corp, .example.org,10.0.0.0/8,reg.io:5000,192.168.1.1",
    })
    assert s.proxy_for("https", "registry-1.docker.io") == parse_proxy("http://p:3128")
    assert s.proxy_for("http", "other.test:5000") == parse_proxy("http://p:8080")
    for netloc in ("127.0.0.1:5000", "localhost:5000", "[::1]:5000", "internal.corp",
                   "a.internal.corp", "x.example.org", "10.2.3.4:5000", "reg.io:5000", "192.168.1.1:80"):
        assert s.proxy_for("https", netloc) is None, netloc
    assert s.proxy_for("https", "reg.io:6000") is not None
    assert s.proxy_for("https", "notinternal.corp") is not None
    assert ProxySettings.from_environ({"HTTPS_PROXY": "p:1", "NO_PROXY": "*"}).proxy_for("https", "x") is None
    assert ProxySettings.from_environ({}).proxy_for("https", "x") is None


class _ForwardProxy(BaseHTTPRequestHandler):
    """Forwards absolute-form GETs to `target`; refuses CONNECT (so HTTPS falls back to HTTP)."""

    target: str
    seen: list[tuple[str, str, str]]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_CONNECT(self) -> None:
        self.seen.append(("CONNECT", self.path, ""))
        self.send_response(502)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self.seen.append(("GET", self.path, self.headers.get("Proxy-Authorization", "")))
        url = urlsplit(self.path)
        up = http.client.HTTPConnection(self.target, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-authorization", "host")}
        up.request("GET", url.path + (f"?{url.query}" if url.query else ""), headers=headers)
        resp = up.getresponse()
        body = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        up.close()


@pytest.fixture
def reg() -> Iterator[FakeRegistry]:
    r = FakeRegistry().start()
    try:
        yield r
    finally:
        r.stop()


def test_pull_through_forward_proxy(reg: FakeRegistry) -> None:
    digest, _ = add_image(reg, "a/b", "v1")
    seen: list[tuple[str, str, str]] = []

    class Handler(_ForwardProxy):
        pass

    Handler.target, Handler.seen = reg.host, seen
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        proxy = f"http://u:p@127.0.0.1:{server.server_address[1]}"
        settings = ProxySettings.from_environ({"HTTP_PROXY": proxy, "HTTPS_PROXY": proxy})
        with RegistryClient(insecure_registries=["registry.test:5000"], proxies=settings) as c:
            r = c.resolve(parse("registry.test:5000/a/b:v1"))
            assert r.digest == digest
            assert c.fetch_blob_bytes(r.ref, r.manifest.layers[0], 1 << 20) == b"layer-bytes"
    finally:
        server.shutdown()
        server.server_close()
    assert seen[0] == ("CONNECT", "registry.test:5000", "")
    gets = [s for s in seen if s[0] == "GET"]
    assert gets[0][1] == "http://registry.test:5000/v2/"
    assert all(s[2] == "Basic dTpw" for s in gets)
    assert any(s[1] == "http://registry.test:5000/v2/a/b/manifests/v1" for s in gets)
