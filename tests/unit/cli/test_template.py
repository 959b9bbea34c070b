"""The Go-template subset behind --format: outputs as Go's text/template prints them."""

from __future__ import annotations

from typing import Any

import pytest

from sampan.cli.template import Template, TemplateError

DATA: dict[str, Any] = {
    "Id": "sha256:abc",
    "RepoTags": ["a:1", "b:2"],
    "Empty": [],
    "Config": {"Env": ["A=1", "B=2"], "Labels": {"x": "y", "a": "b"}, "Cmd": None, "Nothing": None,
               "Labels2": None},
    "Size": 1239828,
    "Float": 1239828.0,
    "Half": 0.5,
    "Flag": True,
    "Off": False,
    "Name": "web",
}


def run(src: str, data: Any = DATA) -> str:
    return Template(src).execute(data)


@pytest.mark.parametrize(
    ("src", "want"),
    [
        ("plain text", "plain text"),
        ("{{.Id}}", "sha256:abc"),
        ("{{.Config.Env}}", "[A=1 B=2]"),
        ("{{.Config.Labels}}", "map[a:b x:y]"),
        ("{{.Config.Cmd}}", "[]"),
        ("{{.Config.Nothing}}", "<nil>"),
        ("{{.Config.Labels2}}", "<nil>"),
        ("{{json .Config.Cmd}} {{len .Config.Cmd}}", "null 0"),
        ("{{if .Config.Cmd}}y{{else}}n{{end}}{{range .Config.Cmd}}x{{end}}", "n"),
        ("{{.Missing}}", "<no value>"),
        ("{{.Missing.Deeper}}", "<no value>"),
        ("{{.Size}}", "1239828"),
        ("{{.Float}}", "1.239828e+06"),
        ("{{.Half}}", "0.5"),
        ("{{.Flag}} {{.Off}}", "true false"),
        ("{{.}}", None),
        ("{{json .Config.Env}}", '["A=1","B=2"]'),
        ("{{json .Config.Env}}{{json .Config.Labels}}", '["A=1","B=2"]{"x":"y","a":"b"}'),
        ("{{.Config.Env | json}}", '["A=1","B=2"]'),
        ('{{json "<&>"}}', '"<&>"'),
        ('{{index .Config.Labels "x"}}', "y"),
        ('{{index .Config.Labels "nope"}}', "<nil>"),
        ("{{index .RepoTags 1}}", "b:2"),
        ("{{range .RepoTags}}[{{.}}]{{end}}", "[a:1][b:2]"),
        ("{{range .Empty}}x{{else}}none{{end}}", "none"),
        ("{{range $i, $t := .RepoTags}}{{$i}}={{$t}};{{end}}", "0=a:1;1=b:2;"),
        ("{{range $k, $v := .Config.Labels}}{{$k}}{{$v}};{{end}}", "ab;xy;"),
        ("{{range $t := .RepoTags}}{{$t}}{{end}}", "a:1b:2"),
        ("{{range .RepoTags}}{{.}}{{break}}{{end}}", "a:1"),
        ("{{range .RepoTags}}{{if eq . \"a:1\"}}{{continue}}{{end}}{{.}}{{end}}", "b:2"),
        ("{{if .Empty}}yes{{else}}no{{end}}", "no"),
        ("{{if .Flag}}yes{{end}}", "yes"),
        ("{{if .Off}}a{{else if .Flag}}b{{else}}c{{end}}", "b"),
        ("{{if not .Off}}ok{{end}}", "ok"),
        ("{{if and .Flag .Name}}both{{end}}", "both"),
        ("{{or .Off .Name}}", "web"),
        ('{{if eq .Name "db" "web"}}match{{end}}', "match"),
        ('{{if ne .Name "db"}}ne{{end}}', "ne"),
        ("{{if gt .Size 1000}}big{{end}}", "big"),
        ("{{if lt (len .RepoTags) 3}}few{{end}}", "few"),
        ("{{with .Config}}{{.Env}}{{end}}", "[A=1 B=2]"),
        ("{{with .Empty}}x{{else}}empty{{end}}", "empty"),
        ('{{printf "%s-%d" .Name .Size}}', "web-1239828"),
        ('{{printf "%-5s|%5s|" .Name .Name}}', "web  |  web|"),
        ('{{printf "%q" .Name}}', '"web"'),
        ('{{printf "%v %t" .RepoTags .Flag}}', "[a:1 b:2] true"),
        ('{{printf "%x" 255}}', "ff"),
        ('{{printf "%.2f" .Half}}', "0.50"),
        ('{{printf "%s %s" .Name}}', "web %!s(MISSING)"),
        ('{{printf "100%%"}}', "100%"),
        ("{{.Name | printf \"<%s>\"}}", "<web>"),
        ("{{upper .Name}}", "WEB"),
        ('{{lower "ABC"}}', "abc"),
        ('{{title "hello world"}}', "Hello World"),
        ('{{join .RepoTags ", "}}', "a:1, b:2"),
        ('{{split "a,b,c" ","}}', "[a b c]"),
        ('{{len .RepoTags}} {{len .Name}} {{len .Config.Labels}}', "2 3 2"),
        ("{{println .Name}}x", "web\nx"),
        ('{{print "a" "b" 1 2}}', "ab1 2"),
        ('{{pad .Name 2 1}}|', "  web |"),
        ('{{truncate .Id 6}}', "sha256"),
        ('{{slice .Name 1}}', "eb"),
        ("a  {{- .Name -}}  b", "awebb"),
        ("a\n\t{{- .Name}}\n", "aweb\n"),
        ("{{.Name -}}\n\n  !", "web!"),
        ("{{/* a comment */}}x", "x"),
        ("{{- /* trimmed comment */ -}} x", "x"),
        ("{{$x := .Name}}{{$x}}{{$x = \"db\"}}{{$x}}", "webdb"),
        ("{{$}}", None),
        ("{{range .RepoTags}}{{$.Name}}{{end}}", "webweb"),
        ('{{$x := 1}}{{if .Flag}}{{$x = 2}}{{$y := 3}}{{$y}}{{end}}{{$x}}', "32"),
        ("{{(index .RepoTags 0)}}", "a:1"),
        ('{{(index .Config "Labels").x}}', "y"),
        ("{{`raw \\n`}}", "raw \\n"),
        ('{{"esc\\t"}}', "esc\t"),
        ("{{3}} {{-2}} {{1.5}} {{true}} {{nil}}", "3 -2 1.5 true <nil>"),
        ("{{range 3}}{{.}}{{end}}", "012"),
        ('{{"}}"}}', "}}"),
    ],
)
def test_render(src: str, want: str | None) -> None:
    got = run(src)
    if want is None:  # whole-object printing: Go's map syntax, keys sorted
        assert got.startswith("map[Config:map[Cmd:<nil> Env:[A=1 B=2]")  # untyped: a raw map
    else:
        assert got == want


class Row:
    """A formatter row: fields are methods, like docker's formatter contexts."""

    go_type = "*formatter.testContext"

    def ID(self) -> str:
        return "abc"

    def to_template_json(self) -> dict[str, str]:
        return {"ID": "abc"}


class NoneRow:
    def to_template_json(self) -> dict[str, str]:
        return {"Tag": "<none>"}


def test_object_fields_and_json() -> None:
    assert run("{{.ID}}", Row()) == "abc"
    assert run("{{json .}}", Row()) == '{"ID":"abc"}'
    assert run("{{json .}}", NoneRow()) == '{"Tag":"\\u003cnone\\u003e"}'
    with pytest.raises(TemplateError, match=r"can't evaluate field Nope in type \*formatter.testContext"):
        run("{{.Nope}}", Row())
    with pytest.raises(TemplateError, match="can't evaluate field _private"):
        run("{{._private}}", Row())


def test_header_mode_makes_text_functions_identities() -> None:
    tmpl = Template("{{upper .Name}}\t{{json .ID}}\t{{truncate .ID 2}}")
    assert tmpl.execute({"Name": "NAME", "ID": "IMAGE ID"}, header=True) == "NAME\tIMAGE ID\tIMAGE ID"
    assert tmpl.execute({"Name": "web", "ID": "x"}) == 'WEB\t"x"\tx'


def test_template_is_reusable() -> None:
    tmpl = Template("{{$n := .Name}}{{$n}}")
    assert [tmpl.execute({"Name": n}) for n in ("a", "b")] == ["a", "b"]


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ("{{bogus}}", 'function "bogus" not defined'),
        ("{{.A", "unclosed action"),
        ("{{if .A}}x", "unexpected EOF"),
        ("{{end}}", "unexpected {{end}}"),
        ("{{.A .B}}", "can't give argument to non-function"),
        ("{{$nope}}", "undefined variable: \\$nope"),
        ("{{if .Flag}}{{$y := 3}}{{end}}{{$y}}", "undefined variable: \\$y"),
        ("{{template \"x\"}}", "not supported"),
        ("{{(.A}}", "unclosed left paren"),
        ("{{index .Config.Env 9}}", "index out of range"),
        ("{{len 3}}", "len of type int"),
        ("{{range .Id}}{{end}}", "range can't iterate over sha256:abc"),
        ("{{join .Name \",\"}}", "wrong type for value"),
    ],
)
def test_errors(src: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        run(src)


def test_execution_errors_carry_go_positions() -> None:
    with pytest.raises(TemplateError) as info:
        run("{{.Nope}}", Row())
    assert str(info.value) == (
        'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.testContext')
    with pytest.raises(TemplateError, match=r"^template: :2:6: executing \"\" at <\.Name\.X>: .* in type string$"):
        run("ab\ncd {{ .Name.X }}")
