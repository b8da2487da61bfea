"""skiff kubectl cordon, uncordon, drain and taint against simulated (kwok) nodes, beside kubectl."""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from tests.integration.kubectl.helpers import assert_same, both, masked, skiff
from tests.support.kwok import Kwok

pytestmark = pytest.mark.interop


@pytest.fixture
def node(kube_server):
    name = f"kc-drain-{os.getpid()}-{time.monotonic_ns() % 100000}"
    kwok = Kwok(kube_server).start([name])
    try:
        yield name
    finally:  # the node goes even when kwok's stop fails: later tests share this server
        try:
            kwok.stop()
        finally:
            kube_server.json("DELETE", f"/api/v1/nodes/{name}")


def _ok(result):
    assert result.returncode == 0, result.stderr.decode()
    return result


def _pod(name: str, node: str, **spec) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}], **spec}})


def _errors_in_any_order(text: bytes) -> str:
    """kubectl drain groups refused pods by reason in a Go map, so with two reasons the order of
    `[cannot delete A, cannot delete B]`, and of the lines that repeat them after the list, changes
    from run to run: compare the reasons, and those lines, as sets."""
    out = masked(text)
    head, sep, rest = out.partition("[")
    inner, sep2, tail = rest.rpartition("]")
    if not (sep and sep2):
        return out
    reasons = sorted(r for r in re.split(r"(?:^|, )cannot delete ", inner) if r)
    return head + "[" + " | ".join(reasons) + "]" + "\n".join(sorted(tail.split("\n")))


def _assert_same_any_order(server, *args: str) -> None:
    ours, theirs = both(server, *args)
    assert masked(ours.stdout) == masked(theirs.stdout), (args, ours.stdout, theirs.stdout)
    assert _errors_in_any_order(ours.stderr) == _errors_in_any_order(theirs.stderr), (args, ours.stderr, theirs.stderr)
    assert ours.returncode == theirs.returncode


def _node(server, name):
    return server.json("GET", f"/api/v1/nodes/{name}")[1]


def test_cordon_uncordon(kube_server, node):
    assert _ok(skiff(kube_server, "cordon", node)).stdout.decode() == f"node/{node} cordoned\n"
    assert _node(kube_server, node)["spec"]["unschedulable"] is True
    assert_same(kube_server, "cordon", node)
    assert _ok(skiff(kube_server, "uncordon", node)).stdout.decode() == f"node/{node} uncordoned\n"
    assert not _node(kube_server, node)["spec"].get("unschedulable")
    assert_same(kube_server, "uncordon", node)
    assert_same(kube_server, "cordon", "no-such-node")
    assert_same(kube_server, "cordon", node, "--dry-run=client")


def test_drain_refuses_then_evicts(kube_server, namespace, node):
    ns = ("-n", namespace)
    _ok(skiff(kube_server, *ns, "create", "-f", "-", input=_pod("bare", node)))
    _ok(skiff(kube_server, *ns, "create", "-f", "-",
              input=_pod("scratch", node, volumes=[{"name": "v", "emptyDir": {}}])))
    _ok(skiff(kube_server, "cordon", node))
    # unmanaged pods and local storage: both refuse, worded as kubectl words it
    _assert_same_any_order(kube_server, "drain", node)
    assert_same(kube_server, "drain", node, "--force")
    ours = _ok(skiff(kube_server, "drain", node, "--force", "--delete-emptydir-data", "--ignore-daemonsets"))
    out = ours.stdout.decode()
    assert f"evicting pod {namespace}/bare" in out and "pod/bare evicted" in out and "pod/scratch evicted" in out
    assert out.endswith(f"node/{node} drained\n")
    status, _ = kube_server.json("GET", f"/api/v1/namespaces/{namespace}/pods/bare")
    assert status == 404


def test_taint(kube_server, node):
    ours = _ok(skiff(kube_server, "taint", "nodes", node, "dedicated=special:NoSchedule", "other:NoExecute"))
    assert ours.stdout.decode() == f"node/{node} tainted\n"
    taints = _node(kube_server, node)["spec"]["taints"]
    assert {(t["key"], t.get("value"), t["effect"]) for t in taints} >= {("dedicated", "special", "NoSchedule"),
                                                                         ("other", None, "NoExecute")}
    assert_same(kube_server, "taint", "nodes", node, "dedicated=x:NoSchedule")  # no --overwrite
    _ok(skiff(kube_server, "taint", "node", node, "dedicated=x:NoSchedule", "--overwrite"))
    values = {t["key"]: t.get("value") for t in _node(kube_server, node)["spec"]["taints"]}
    assert values["dedicated"] == "x"
    assert _ok(skiff(kube_server, "taint", "nodes", node, "dedicated-", "other:NoExecute-")).stdout.decode() \
        == f"node/{node} untainted\n"
    assert_same(kube_server, "taint", "nodes", node, "dedicated-")
    assert_same(kube_server, "taint", "nodes", node, "bad=spec:Sometimes")
