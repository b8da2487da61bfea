import pytest

from skiff.cli.gotemplate import Template, TemplateError, go_json, go_string, render

DATA = {
    "Name": "/web",
    "State": {"Status": "running", "Pid": 42, "Running": True, "ExitCode": 0},
    "Config": {"Labels": {"b": "2", "a": "1"}, "Cmd": ["sh", "-c", "echo hi"], "Env": []},
    "Mounts": [{"Destination": "/data"}, {"Destination": "/logs"}],
}


@pytest.mark.parametrize("src, expected", [
    ("{{.Name}}", "/web"),
    ("{{.State.Status}}/{{.State.Pid}}", "running/42"),
    ("{{json .Config.Cmd}}", '["sh","-c","echo hi"]'),
    ("{{.Config.Cmd | json}}", '["sh","-c","echo hi"]'),
    ('{{index .Config.Labels "a"}}', "1"),
    ('{{index .Config.Cmd 1}}', "-c"),
    ("{{range .Mounts}}{{.Destination}} {{end}}", "/data /logs "),
    ("{{range $i, $m := .Mounts}}{{$i}}={{$m.Destination}};{{end}}", "0=/data;1=/logs;"),
    ("{{range $k, $v := .Config.Labels}}{{$k}}{{$v}}{{end}}", "a1b2"),
    ("{{range .Config.Env}}x{{else}}empty{{end}}", "empty"),
    ("{{if .State.Running}}up{{else}}down{{end}}", "up"),
    ("{{if .State.ExitCode}}bad{{else if .State.Running}}running{{else}}other{{end}}", "running"),
    ('{{if eq .State.Status "running"}}yes{{end}}', "yes"),
    ('{{if ne .State.Pid 42}}no{{else}}same{{end}}', "same"),
    ('{{join .Config.Cmd ","}}', "sh,-c,echo hi"),
    ("{{upper .State.Status}} {{lower \"ABC\"}} {{title \"hello world\"}}", "RUNNING abc Hello World"),
    ("{{println .Name}}", "/web\n"),
    ("{{.Missing}}", "<no value>"),
    ("{{.Config.Labels}}", "map[a:1 b:2]"),
    ("{{.Config.Cmd}}", "[sh -c echo hi]"),
    ("{{with .State}}{{.Pid}}{{end}}", "42"),
    ("{{len .Mounts}}", "2"),
    ('{{printf "%s:%d" .Name .State.Pid}}', "/web:42"),
    ("{{(index .Mounts 1).Destination}}", "/logs"),
    ("{{if and .State.Running (not .State.ExitCode)}}ok{{end}}", "ok"),
    ("{{if or .Missing .Name}}some{{end}}", "some"),
    ("a {{- .State.Pid -}} b", "a42b"),
    ("{{/* a comment */}}x", "x"),
    ("{{$n := .Name}}{{$n}}", "/web"),
    ('{{split "a,b" ","}}', "[a b]"),
    ("{{json .}}", '{"Name":"/web","State":{"Status":"running","Pid":42,"Running":true,"ExitCode":0},'
                   '"Config":{"Labels":{"b":"2","a":"1"},"Cmd":["sh","-c","echo hi"],"Env":[]},'
                   '"Mounts":[{"Destination":"/data"},{"Destination":"/logs"}]}'),
])
def test_render(src, expected):
    assert render(src, DATA) == expected


def test_methods_with_arguments_are_called():
    class Row:
        ID = "abc"

        def Label(self, key):
            return {"k": "v"}.get(key, "")

    assert render('{{.ID}} {{.Label "k"}}', Row()) == "abc v"


@pytest.mark.parametrize("src", ["{{.Name", "{{if .Name}}x", "{{end}}", "{{nosuchfunc .Name}}", "{{range 3.5}}{{end}}"])
def test_errors(src):
    with pytest.raises(TemplateError):
        Template(src).execute(DATA)


def test_struct_field_missing_is_an_error():
    class Row:
        ID = "x"

    with pytest.raises(TemplateError, match="can't evaluate field Nope"):
        render("{{.Nope}}", Row())


def test_go_values():
    assert go_string(True) == "true"
    assert go_string(None) == "<no value>"
    assert go_string([1, None]) == "[1 <nil>]"
    assert go_string(1e6) == "1e+06"
    assert go_string(0.5) == "0.5"
    assert go_string(123456.0) == "123456"
    assert go_json({"a": "<&>"}) == '{"a":"\\u003c\\u0026\\u003e"}'
