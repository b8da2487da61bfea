"""Pure logic of the mutating commands: apply's three-way patch, edit's diff, label changes,
delete options, generators, argument forms."""

import argparse
import base64
import json

import pytest

from skiff.cli.kubectl import generators
from skiff.cli.kubectl.applypatch import merge_diff, three_way
from skiff.cli.kubectl.delete import delete_options
from skiff.cli.kubectl.label import changes_for, split_changes
from skiff.cli.kubectl.options import command_word
from skiff.cli.kubectl.session import CommandError
from skiff.cli.kubectl.targets import parse_words


def test_three_way_sets_deletes_and_leaves_defaulted_lists_alone():
    original = {"metadata": {"labels": {"a": "1", "gone": "x"}}, "spec": {"replicas": 2, "ports": [{"port": 80}]}}
    modified = {"metadata": {"labels": {"a": "2"}}, "spec": {"replicas": 2, "ports": [{"port": 80}]}}
    live = {"metadata": {"labels": {"a": "1", "gone": "x", "server": "y"}},
            "spec": {"replicas": 5, "ports": [{"port": 80, "protocol": "TCP"}]}}
    assert three_way(original, modified, live) == {"metadata": {"labels": {"a": "2", "gone": None}},
                                                   "spec": {"replicas": 2}}
    changed = {**modified, "spec": {"replicas": 2, "ports": [{"port": 81}]}}
    assert three_way(original, changed, live)["spec"]["ports"] == [{"port": 81}]
    assert three_way(modified, modified, {**live, "spec": {"replicas": 2, "ports": live["spec"]["ports"]},
                                          "metadata": {"labels": {"a": "2", "server": "y"}}}) == {}


def test_merge_diff():
    assert merge_diff({"a": 1, "b": {"c": 1, "d": 2}, "e": [1]}, {"a": 1, "b": {"c": 2}, "e": [1, 2]}) == \
        {"b": {"c": 2, "d": None}, "e": [1, 2]}
    assert merge_diff({"a": None}, {"a": None}) == {}


def test_label_changes():
    words, sets, removes = split_changes(["pods", "web", "a=1", "b-", "c="])
    assert (words, sets, removes) == (["pods", "web"], {"a": "1", "c": ""}, ["b"])
    assert changes_for({"a": "1", "b": "x"}, {"a": "1"}, ["b", "missing"], overwrite=False) == {"b": None}
    with pytest.raises(CommandError, match=r"'a' already has a value \(0\), and --overwrite is false"):
        changes_for({"a": "0"}, {"a": "1"}, [], overwrite=False)
    assert changes_for({"a": "0"}, {"a": "1"}, [], overwrite=True) == {"a": "1"}
    with pytest.raises(CommandError, match="can not both modify and remove"):
        split_changes(["pods", "web", "a=1", "a-"])


def _opts(**kw):
    base = {"cascade": "background", "grace_period": -1, "now": False, "force": False, "dry_run": "none"}
    return argparse.Namespace(**{**base, **kw})


def test_delete_options():
    assert delete_options(_opts()) == {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
    assert delete_options(_opts(cascade="orphan", now=True))["gracePeriodSeconds"] == 1
    assert delete_options(_opts(cascade="false"))["propagationPolicy"] == "Orphan"
    assert delete_options(_opts(force=True))["gracePeriodSeconds"] == 0
    assert delete_options(_opts(grace_period=0))["gracePeriodSeconds"] == 1
    assert delete_options(_opts(dry_run="server"))["dryRun"] == ["All"]
    with pytest.raises(CommandError, match="invalid cascade value"):
        delete_options(_opts(cascade="sideways"))


def test_generators(tmp_path):
    (tmp_path / "game.properties").write_text("lives=3\n")
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "one").write_text("1")
    (tmp_path / "dir" / "bin").write_bytes(b"\xff\x00")
    env = tmp_path / "app.env"
    env.write_text("# comment\n\nMODE=prod\nQUOTED='x y'\n")
    cm = generators.configmap("cfg", ["k=v", "q=\"quoted\""], [str(tmp_path / "game.properties"),
                              f"renamed={tmp_path / 'game.properties'}", str(tmp_path / "dir")], [str(env)])
    assert cm["data"] == {"k": "v", "q": '"quoted"', "game.properties": "lives=3\n", "renamed": "lives=3\n",
                          "one": "1", "MODE": "prod", "QUOTED": "'x y'"}
    assert cm["binaryData"] == {"bin": base64.b64encode(b"\xff\x00").decode()}
    with pytest.raises(CommandError, match="cannot add key \"k\", another key by that name already exists"):
        generators.configmap("cfg", ["k=1", "k=2"], [], [])
    with pytest.raises(CommandError, match="invalid literal source nokey, expected key=value"):
        generators.configmap("cfg", ["nokey"], [], [])
    with pytest.raises(CommandError, match="is not a valid key name"):
        generators.configmap("cfg", ["bad key=1"], [], [])
    secret = generators.secret_generic("s", ["pw=abc"], [], [], "Opaque")
    assert secret["data"] == {"pw": "YWJj"} and secret["type"] == "Opaque"
    reg = generators.secret_docker_registry("r", "https://reg.example", "u", "p", "e@x")
    config = json.loads(base64.b64decode(reg["data"][".dockerconfigjson"]))
    assert config == {"auths": {"https://reg.example": {"username": "u", "password": "p", "email": "e@x",
                                                         "auth": base64.b64encode(b"u:p").decode()}}}
    with pytest.raises(CommandError, match="open /nope.crt: no such file"):
        generators.secret_tls("t", "/nope.crt", "/nope.key")


def test_argument_forms():
    assert parse_words(["pods,svc", "a", "b"]) == [("pods", ["a", "b"]), ("svc", ["a", "b"])]
    assert parse_words(["pod/a", "svc/b", "pod/c"]) == [("pod", ["a", "c"]), ("svc", ["b"])]
    with pytest.raises(CommandError, match="no need to specify a resource type"):
        parse_words(["pods", "pod/a"])
    assert command_word(["-n", "x", "--kubeconfig", "k", "get", "pods"]) == 4
    assert command_word(["--insecure-skip-tls-verify", "get"]) == 1
    assert command_word(["-n", "x"]) is None


def test_unknown_command_suggestions_in_kubectl_order():
    from skiff.cli.kubectl.options import unknown_command_text

    assert unknown_command_text("gett") == ('Error: unknown command "gett" for "kubectl"\n\nDid you mean this?\n'
                                            "\tset\n\tget\n\n")
    assert unknown_command_text("xyzzy") == 'Error: unknown command "xyzzy" for "kubectl"\n'
    assert "\tapi-resources\n\tapi-versions\n" in unknown_command_text("api")
