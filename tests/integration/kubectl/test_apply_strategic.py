"""Client-side apply sends a strategic merge patch for built-in kinds: fields others set inside
list elements survive a re-apply, as with kubectl 1.32 (whose result is compared)."""

from __future__ import annotations

import json

import pytest

from tests.integration.kubectl.helpers import skiff

pytestmark = pytest.mark.interop


def _config(image: str, extra: bool) -> str:
    containers = [{"name": "c", "image": image}] + ([{"name": "side", "image": "busybox"}] if extra else [])
    return json.dumps({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                       "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web"}},
                                "template": {"metadata": {"labels": {"app": "web"}},
                                             "spec": {"containers": containers}}}})


def _run(kube_server, tool, ns):
    """Apply, let another client add env to a container, apply a new image and drop a container."""
    def call(*args, input=None):
        result = tool(*args, input=input)
        assert result.returncode == 0, result.stderr.decode()
        return result

    call("-n", ns, "apply", "-f", "-", input=_config("busybox:1", True))
    call("-n", ns, "set", "env", "deployment/web", "-c", "c", "ADDED=by-someone")
    out = call("-n", ns, "apply", "-f", "-", input=_config("busybox:2", False))
    status, dep = kube_server.json("GET", f"/apis/apps/v1/namespaces/{ns}/deployments/web")
    return out.stdout, [(c["name"], c["image"], c.get("env")) for c in dep["spec"]["template"]["spec"]["containers"]]


def test_reapply_keeps_fields_set_by_others(kube_server, namespace, request):
    ours = _run(kube_server, lambda *a, input=None: skiff(kube_server, *a, input=input), namespace)
    assert ours[1] == [("c", "busybox:2", [{"name": "ADDED", "value": "by-someone"}])]
    assert ours[0] == b"deployment.apps/web configured\n"
    # the same steps by kubectl in a second namespace end in the same object
    other = namespace + "-k"
    status, _ = kube_server.json("POST", "/api/v1/namespaces", {"metadata": {"name": other}})
    assert status == 201
    try:
        theirs = _run(kube_server, lambda *a, input=None: kube_server.kubectl(*a, input=input), other)
    finally:
        kube_server.json("DELETE", f"/api/v1/namespaces/{other}")
    assert ours == theirs
