"""The pflag-style parser: docker's flag grammar, error texts and exit statuses."""

from __future__ import annotations

import pytest

from sampan.cli.errors import StatusError
from sampan.cli.flags import Flag, Spec, check_arg_count, command_help, parse_args, parse_filters

SPEC = Spec(
    "[OPTIONS] [REPOSITORY[:TAG]]",
    "List images",
    [
        Flag("all", "a", "bool", "Show all"),
        Flag("quiet", "q", "bool", "Only IDs"),
        Flag("filter", "f", "filter", "Filter"),
        Flag("format", "", "string", "Format"),
        Flag("human", "H", "bool", "Human", default=True),
        Flag("tail", "n", "int", "Lines"),
    ],
    lambda cli, o: 0,
    max_args=1,
)


def test_long_short_combined_and_values() -> None:
    o = parse_args(SPEC, "images", ["-aq", "--format={{.ID}}", "-f", "dangling=true", "-flabel=a=b", "repo"])
    assert o.all and o.quiet and o.format == "{{.ID}}"
    assert o.filter == ["dangling=true", "label=a=b"]
    assert o.args == ["repo"]
    assert o.given == {"all", "quiet", "format", "filter"}


def test_bool_values_int_and_interspersed() -> None:
    o = parse_args(SPEC, "images", ["repo", "--human=false", "-n", "5", "-a=true"])
    assert o.human is False and o.tail == 5 and o.all is True and o.args == ["repo"]
    o = parse_args(SPEC, "images", ["--", "-a"])
    assert o.args == ["-a"] and not o.all


def test_not_interspersed_stops_at_first_argument() -> None:
    spec = Spec("IMAGE [COMMAND]", "Run", [Flag("detach", "d")], lambda c, o: 0, interspersed=False)
    o = parse_args(spec, "run", ["-d", "busybox", "ls", "-l"])
    assert o.detach and o.args == ["busybox", "ls", "-l"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus"], "unknown flag: --bogus"),
        (["-aqz"], "unknown shorthand flag: 'z' in -z"),
        (["--format"], "flag needs an argument: --format"),
        (["-f"], "flag needs an argument: 'f' in -f"),
        (["--all=maybe"], 'invalid argument "maybe" for "--all" flag'),
        (["-n", "x"], 'invalid argument "x" for "-n, --tail" flag'),
        (["-f", "novalue"], "bad format of filter (expected name=value)"),
    ],
)
def test_flag_errors_exit_125(argv: list[str], message: str) -> None:
    with pytest.raises(StatusError) as info:
        parse_args(SPEC, "images", argv)
    assert info.value.status == 125
    assert message in info.value.message
    assert info.value.message.endswith("See 'sampan images --help'.")


def test_help_flag() -> None:
    assert parse_args(SPEC, "images", ["--help"]).help
    assert parse_args(SPEC, "images", ["-h"]).help


def test_arg_counts_are_worded_as_docker_28() -> None:
    check_arg_count(SPEC, "images", ["x"])
    with pytest.raises(StatusError) as info:
        check_arg_count(SPEC, "images", ["x", "y"])
    assert info.value.status == 1
    assert info.value.message == ("sampan: 'sampan images' requires at most 1 argument\n\n"
                                  f"Usage:  sampan images {SPEC.usage}\n\n"
                                  "Run 'sampan images --help' for more information")
    exact = Spec("SRC DST", "Tag", [], lambda c, o: 0, min_args=2, max_args=2)
    with pytest.raises(StatusError, match=r"^sampan: 'sampan tag' requires 2 arguments\n"):
        check_arg_count(exact, "tag", ["a"])
    least = Spec("IMAGE...", "Rm", [], lambda c, o: 0, min_args=1)
    with pytest.raises(StatusError, match=r"requires at least 1 argument\n\n.*\n\nSee 'sampan rmi --help' for more"):
        check_arg_count(least, "rmi", [])
    ranged = Spec("C [P]", "Port", [], lambda c, o: 0, min_args=1, max_args=2)
    with pytest.raises(StatusError, match="requires at least 1 and at most 2 arguments\n"):
        check_arg_count(ranged, "port", [])
    none = Spec("[OPTIONS]", "Prune", [], lambda c, o: 0, max_args=0)
    with pytest.raises(StatusError, match=r"^sampan: 'sampan container prune' accepts no arguments\n"):
        check_arg_count(none, "container prune", ["x"])


def test_filters() -> None:
    assert parse_filters(["Dangling = true", "label=a=b", "label=c"]) == {
        "dangling": ["true"], "label": ["a=b", "c"]}


def test_help_text_aligns_options() -> None:
    text = command_help(SPEC, "image ls", ["image ls", "images"])
    assert "Usage:  sampan image ls [OPTIONS] [REPOSITORY[:TAG]]" in text
    assert "Aliases:\n  sampan image ls, sampan images" in text
    assert "  -a, --all             Show all\n" in text
    assert "  -f, --filter filter   Filter\n" in text
    assert "      --format string   Format\n" in text
