"""skiff kubectl get against a real skiff server, output compared with the real kubectl's."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from tests.integration.kubectl.helpers import assert_same, skiff

pytestmark = pytest.mark.interop


def _cm(name, labels=None, data=None):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels or {}},
            "data": data or {"k": "v"}}


@pytest.fixture
def objects(kube_server, namespace):
    for name, labels in (("alpha", {"app": "web", "tier": "front"}), ("beta", {"app": "db"}), ("gamma", None)):
        status, body = kube_server.json("POST", f"/api/v1/namespaces/{namespace}/configmaps", _cm(name, labels))
        assert status == 201, body
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "websvc", "labels": {"app": "web"}},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "name": "http"}]}}
    status, body = kube_server.json("POST", f"/api/v1/namespaces/{namespace}/services", svc)
    assert status == 201, body
    return namespace


@pytest.mark.parametrize("args", [
    ["get", "configmaps"], ["get", "cm", "-o", "wide"], ["get", "cm", "--show-labels"], ["get", "cm", "-l", "app=web"],
    ["get", "cm", "-l", "app"], ["get", "cm", "-L", "app,tier"], ["get", "cm", "--no-headers"],
    ["get", "cm,svc"], ["get", "all"], ["get", "configmap", "alpha", "beta"], ["get", "cm/alpha", "svc/websvc"],
    ["get", "ConfigMap", "alpha"], ["get", "configmaps.v1.", "alpha"], ["get", "svc", "-o", "wide"],
    ["get", "cm", "-o", "name"], ["get", "cm,svc", "-o", "name"],
    ["get", "cm", "-o", "jsonpath={.items[*].metadata.name}"],
    ["get", "cm", "alpha", "-o", "jsonpath={.metadata.labels}"],
    ["get", "cm", "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\t\"}{.data.k}{\"\\n\"}{end}"],
    ["get", "cm", "-o", "custom-columns=NAME:.metadata.name,LABELS:.metadata.labels,DATA:.data.k"],
    ["get", "cm", "alpha", "-o", "json"], ["get", "cm", "alpha", "-o", "yaml"], ["get", "cm", "-o", "json"],
    ["get", "cm", "-o", "yaml"], ["get", "svc", "websvc", "-o", "yaml"],
    ["get", "secrets"], ["get", "cm", "nope"], ["get", "cm", "alpha", "nope"], ["get", "nosuchkind"],
    ["get", "cm", "nope", "--ignore-not-found"], ["get", "pods"], ["get", "pods", "-o", "json"],
])
def test_get_matches_kubectl(kube_server, objects, args):
    assert_same(kube_server, *args, "-n", objects)


def test_all_namespaces_and_cluster_scoped(kube_server, objects):
    assert_same(kube_server, "get", "cm", "-A", "-l", "tier=front")
    assert_same(kube_server, "get", "cm", "-A", "-l", "tier=front", "-o", "wide", "--show-labels")
    assert_same(kube_server, "get", "namespaces", objects, "default")
    assert_same(kube_server, "get", "ns", objects, "-o", "name")
    assert_same(kube_server, "get", "priorityclasses")


def test_namespace_from_the_context(kube_server, objects, tmp_path):
    """`-n` absent: the context's namespace, as kubectl takes it."""
    config = kube_server.kubeconfig.read_text().replace("    user: default\n",
                                                        f"    user: default\n    namespace: {objects}\n")
    path = tmp_path / "kubeconfig"
    path.write_text(config)
    result = skiff(kube_server, "get", "cm", "-o", "name", "--kubeconfig", str(path))
    assert result.returncode == 0, result.stderr
    assert _ours(result.stdout.decode().split()) == ["configmap/alpha", "configmap/beta", "configmap/gamma"]


def test_chunked_list(kube_server, objects):
    result = skiff(kube_server, "get", "cm", "-n", objects, "--chunk-size", "1", "-o", "name")
    assert _ours(result.stdout.decode().split()) == ["configmap/alpha", "configmap/beta", "configmap/gamma"]
    table = skiff(kube_server, "get", "cm", "-n", objects, "--chunk-size", "2").stdout.decode().splitlines()
    assert _ours([line.split()[0] for line in table]) == ["NAME", "alpha", "beta", "gamma"]


def _ours(names: list[str]) -> list[str]:
    """Without the CA bundle configmap the server's controllers put in every namespace."""
    return [n for n in names if "kube-root-ca.crt" not in n]


def _read_until(proc, needle: bytes, timeout: float = 20) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{needle!r} not seen in {seen!r}"
        ready, _, _ = select.select([proc.stdout], [], [], left)
        if ready:
            chunk = os.read(proc.stdout.fileno(), 65536)
            assert chunk, f"stream ended before {needle!r}: {seen!r} / {proc.stderr.read()!r}"
            seen += chunk
    return seen


@pytest.mark.parametrize("extra,expect_first,expect_event", [
    ([], b"alpha", b"delta"),
    (["-o", "name"], b"configmap/alpha", b"configmap/delta"),
    (["--output-watch-events"], b"ADDED", b"ADDED      delta"),
    (["-o", "json"], b'"name": "alpha"', b'"name": "delta"'),
])
def test_watch_prints_the_list_then_the_changes(kube_server, objects, extra, expect_first, expect_event):
    proc = subprocess.Popen([sys.executable, "-m", "skiff", "kubectl", "get", "cm", "-n", objects, "-w", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=kube_server.env, start_new_session=True)
    try:
        first = _read_until(proc, expect_first)
        status, _ = kube_server.json("POST", f"/api/v1/namespaces/{objects}/configmaps", _cm("delta"))
        assert status == 201
        later = _read_until(proc, expect_event)
        if not extra:
            assert first.splitlines()[0].split() == [b"NAME", b"DATA", b"AGE"]
            assert later.split()[:2] == [b"delta", b"1"]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
        proc.stdout.close()
        proc.stderr.close()


def test_raw(kube_server):
    result = skiff(kube_server, "get", "--raw", "/version")
    assert result.returncode == 0
    assert json.loads(result.stdout)["gitVersion"].startswith("v1.")
