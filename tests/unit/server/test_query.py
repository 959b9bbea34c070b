from __future__ import annotations

import pytest

from sampan.api.filters import decode_filters, encode_filters
from sampan.api.versions import compare
from sampan.errdefs import InvalidArgument
from sampan.server.request import Body, Request


def req(target: str) -> Request:
    path, query = Request.parse_target(target)
    return Request("GET", target, path, "HTTP/1.1", {}, Body(None), query)


@pytest.mark.parametrize("value,expected", [
    ("1", True), ("true", True), ("True", True), ("yes", True), ("anything", True),
    ("0", False), ("false", False), ("False", False), ("", False), ("no", False), ("none", False),
])
def test_bools_like_docker(value: str, expected: bool) -> None:
    assert req(f"/x?all={value}").query_bool("all") is expected


def test_missing_bool_uses_default() -> None:
    assert req("/x").query_bool("all") is False
    assert req("/x").query_bool("all", default=True) is True


def test_int_query() -> None:
    assert req("/x?n=12").query_int("n") == 12
    assert req("/x").query_int("n", 3) == 3
    with pytest.raises(InvalidArgument, match="invalid value for n"):
        req("/x?n=abc").query_int("n")


def test_filters_current_and_legacy_forms() -> None:
    assert decode_filters('{"dangling":{"true":true},"label":{"a=b":true,"c":true}}') == {
        "dangling": ["true"], "label": ["a=b", "c"]}
    assert decode_filters('{"reference":["busybox","alpine"]}') == {"reference": ["busybox", "alpine"]}
    assert decode_filters("") == {}
    assert decode_filters("{}") == {}


@pytest.mark.parametrize("text", ["{", "[]", '{"a": 1}', '{"a": [1]}', "null"])
def test_invalid_filters(text: str) -> None:
    with pytest.raises(InvalidArgument, match="invalid filter"):
        decode_filters(text)


def test_filters_round_trip() -> None:
    f = {"label": ["a", "b"], "dangling": ["true"]}
    assert decode_filters(encode_filters(f)) == f


def test_filters_from_query_string() -> None:
    r = req('/x?filters=%7B%22dangling%22%3A%5B%22true%22%5D%7D')
    assert r.query_filters() == {"dangling": ["true"]}


def test_version_compare() -> None:
    assert compare("1.9", "1.10") == -1
    assert compare("1.44", "1.44.0") == 0
    assert compare("1.45", "1.44") == 1
