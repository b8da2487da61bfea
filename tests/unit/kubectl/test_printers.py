"""Output formats of skiff kubectl get, pure."""

from skiff.cli.kubectl import printers
from skiff.cluster.client.paths import Resource

TABLE = {
    "kind": "Table",
    "columnDefinitions": [{"name": "Name", "priority": 0}, {"name": "Ready", "priority": 0},
                          {"name": "IP", "priority": 1}],
    "rows": [
        {"cells": ["web", "1/1", "10.0.0.5"],
         "object": {"metadata": {"name": "web", "namespace": "ns1", "labels": {"b": "2", "a": "1"}}}},
        {"cells": ["db-long-name", "0/1", None], "object": {"metadata": {"name": "db-long-name", "namespace": "ns2"}}},
    ],
}


def test_align_pads_all_but_the_last_column_by_three():
    out = printers.align([["NAME", "READY"], ["web", "1/1"], ["db-long-name", "0/1"]])
    assert out == "NAME           READY\nweb            1/1\ndb-long-name   0/1\n"


def test_table_rows_hide_wide_columns_unless_asked():
    rows = printers.table_rows(TABLE)
    assert rows[0] == ["NAME", "READY"]
    wide = printers.table_rows(TABLE, wide=True)
    assert wide[0] == ["NAME", "READY", "IP"] and wide[2][2] == "<none>"


def test_table_rows_namespace_labels_and_kind_prefix():
    rows = printers.table_rows(TABLE, with_namespace=True, show_labels=True, kind_prefix="pod")
    assert rows[0] == ["NAMESPACE", "NAME", "READY", "LABELS"]
    assert rows[1] == ["ns1", "pod/web", "1/1", "a=1,b=2"]
    assert rows[2] == ["ns2", "pod/db-long-name", "0/1", "<none>"]


def test_label_columns_and_no_headers():
    rows = printers.table_rows(TABLE, label_columns=["a", "example.com/b"], no_headers=True)
    assert rows == [["web", "1/1", "1", ""], ["db-long-name", "0/1", "", ""]]
    assert printers.table_rows(TABLE, label_columns=["example.com/tier"])[0][-1] == "TIER"


def test_names():
    deploy = Resource("apps", "v1", "deployments", "Deployment")
    assert printers.name_line(deploy, {"metadata": {"name": "front"}}) == "deployment.apps/front"
    assert printers.kind_name({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}) == "pod/x"
    assert printers.kind_name({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}}) == "job.batch/j"


def test_custom_columns_format_values_as_go_does():
    objs = [{"metadata": {"name": "a"}, "data": {"y": "2", "x": "1"}, "spec": {"ports": [80, 443]}},
            {"metadata": {"name": "b"}}]
    out = printers.custom_columns("NAME:.metadata.name,DATA:.data,PORTS:.spec.ports", objs)
    assert out.splitlines() == ["NAME   DATA           PORTS", "a      map[x:1 y:2]   [80 443]",
                                "b      <none>         <none>"]


def test_json_is_sorted_and_indented_by_four():
    assert printers.to_json({"b": 1, "a": {"d": 2, "c": 3}}) == (
        '{\n    "a": {\n        "c": 3,\n        "d": 2\n    },\n    "b": 1\n}\n')


def test_yaml_quotes_like_go_yaml():
    text = printers.to_yaml({"metadata": {"resourceVersion": "14", "creationTimestamp": "2026-11-22T18:01:28Z",
                                          "name": "x"}, "data": {"n": "14", "y": "true", "m": "a\nb", "s": "plain"}})
    assert 'resourceVersion: "14"' in text
    assert 'creationTimestamp: "2026-11-22T18:01:28Z"' in text
    assert '"y": "true"' in text and "s: plain" in text and '"n": "14"' in text
    assert "m: |-\n    a\n    b" in text
    assert text.index("data:") < text.index("metadata:")


def test_managed_fields_dropped():
    obj = {"metadata": {"name": "x", "managedFields": [{}]}}
    assert printers.without_managed_fields(obj) == {"metadata": {"name": "x"}}
    assert obj["metadata"]["managedFields"] == [{}]
