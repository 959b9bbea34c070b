"""Typed protocol messages over the wire codec; error kinds; signals; log options."""

from __future__ import annotations

import pytest

from sampan import errdefs
from sampan.shim import wire
from sampan.shim.protocol import (
    REQUEST_TYPES,
    AttachRequest,
    ExecRequest,
    ExitStatus,
    KillRequest,
    LogOptions,
    ResizeRequest,
    ShimState,
    check_response,
    parse_signal,
    request_from_wire,
)


@pytest.mark.parametrize("request_", [cls() for cls in REQUEST_TYPES.values()] + [
    KillRequest(signal=9, all=True), ResizeRequest(height=24, width=80),
    AttachRequest(stdin=True, stdout=True, stderr=False, close_stdin=False)])
def test_requests_round_trip(request_: object) -> None:
    line = request_.encode()  # type: ignore[attr-defined]
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert request_from_wire(wire.decode(line)) == request_


def test_request_wire_names() -> None:
    assert KillRequest(signal=9).to_wire() == {"op": "kill", "signal": 9, "all": False}
    assert KillRequest(signal=9, exec_id="e").to_wire() == {"op": "kill", "signal": 9, "all": False, "exec_id": "e"}
    assert ExecRequest(exec_id="e", process={"args": ["ls"]}).to_wire() == {
        "op": "exec", "exec_id": "e", "process": {"args": ["ls"]}, "stdin": False, "attach": True, "stdout": True,
        "stderr": True, "close_stdin": True}
    assert set(REQUEST_TYPES) == set(wire.OPS)


def test_unknown_op_and_fields_are_protocol_errors() -> None:
    with pytest.raises(wire.ProtocolError):
        request_from_wire({"op": "dance"})
    with pytest.raises(wire.ProtocolError):
        request_from_wire({"op": "kill", "sig": 9})


def test_exit_status_round_trip() -> None:
    status = ExitStatus(137, "2024-01-01T00:00:00.5Z", 12)
    assert ExitStatus.from_wire(status.to_wire()) == status
    with pytest.raises(wire.ProtocolError):
        ExitStatus.from_wire({"exit_code": "x"})


def test_state_round_trip() -> None:
    state = ShimState("c1", "stopped", 7, tty=True, attached=2, exit=ExitStatus(0, "2024-01-01T00:00:00Z", 7))
    assert ShimState.from_wire(wire.decode(wire.encode(state.to_wire()))) == state


@pytest.mark.parametrize(("kind", "exc"), [("Conflict", errdefs.Conflict), ("NotFound", errdefs.NotFound),
                                           ("InvalidArgument", errdefs.InvalidArgument),
                                           ("Nonsense", errdefs.System), ("status_of", errdefs.System)])
def test_error_responses_raise_their_kind(kind: str, exc: type[Exception]) -> None:
    with pytest.raises(exc, match="boom"):
        check_response({"error": "boom", "kind": kind})


def test_success_response_passes() -> None:
    assert check_response({"pid": 3}) == {"pid": 3}


@pytest.mark.parametrize(("value", "number"), [(9, 9), ("9", 9), ("KILL", 9), ("sigterm", 15), ("SIGUSR1", 10)])
def test_parse_signal(value: int | str, number: int) -> None:
    assert parse_signal(value) == number


@pytest.mark.parametrize("value", ["SIGNOPE", 0, 99, "", True])
def test_parse_signal_rejects(value: int | str) -> None:
    with pytest.raises(errdefs.InvalidArgument, match="Invalid signal"):
        parse_signal(value)


@pytest.mark.parametrize(("opts", "size", "files"), [
    (None, -1, 1), ({"max-size": "10m", "max-file": "3"}, 10 << 20, 3), ({"max-size": "512"}, 512, 1),
    ({"max-size": "1.5k"}, 1536, 1), ({"max-size": "2GB"}, 2 << 30, 1), ({"max-size": "1mib"}, 1 << 20, 1)])
def test_log_options(opts: dict[str, str] | None, size: int, files: int) -> None:
    parsed = LogOptions.parse(opts)
    assert (parsed.max_size, parsed.max_file) == (size, files)


@pytest.mark.parametrize("opts", [{"max-size": "ten"}, {"max-size": "0"}, {"max-size": "1m", "max-file": "0"},
                                  {"max-file": "x"}, {"max-file": "3"}])
def test_bad_log_options(opts: dict[str, str]) -> None:
    with pytest.raises(errdefs.InvalidArgument):
        LogOptions.parse(opts)
