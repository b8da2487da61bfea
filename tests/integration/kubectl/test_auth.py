"""`skiff kubectl auth can-i` / `whoami` against the real kubectl, as a service account and as the admin."""

from __future__ import annotations

import time

import yaml

from tests.integration.kubectl.helpers import assert_same, both
from tests.support.procs import ok


def _as_account(kube_server, namespace, tmp_path) -> dict[str, str]:
    token = ok(kube_server.kubectl("create", "token", "default", "-n", namespace)).strip()
    cfg = yaml.safe_load(kube_server.kubeconfig.read_text())
    cfg["users"][0]["user"] = {"token": token}
    path = tmp_path / "sa.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return {"KUBECONFIG": str(path)}


def test_can_i_and_whoami_agree_with_kubectl(kube_server, namespace, tmp_path):
    env = _as_account(kube_server, namespace, tmp_path)
    ok(kube_server.kubectl("create", "rolebinding", "sa-view", "--clusterrole=view", "-n", namespace,
                           f"--serviceaccount={namespace}:default"))
    deadline = time.monotonic() + 60  # the binding reaches the authorizer through the watch
    while kube_server.kubectl("auth", "can-i", "list", "pods", "-n", namespace, env=env).returncode != 0:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    ns = ("-n", namespace)
    for args in (("auth", "can-i", "list", "pods", *ns), ("auth", "can-i", "create", "pods", *ns),
                 ("auth", "can-i", "get", "secrets/x", *ns), ("auth", "can-i", "list", "deploy", "-A"),
                 ("auth", "can-i", "get", "pods", "--subresource=log", *ns), ("auth", "can-i", "get", "/healthz"),
                 ("auth", "can-i", "list", "nosuchthings", *ns), ("auth", "can-i", "--list", *ns),
                 ("auth", "can-i", "--list", "--no-headers", "-n", "kube-system"), ("auth", "can-i", "get"),
                 ("auth", "whoami"), ("auth", "whoami", "-o", "json"), ("auth", "whoami", "-o", "yaml")):
        ours, theirs = both(kube_server, *args, env=env)
        assert (ours.stdout, ours.stderr, ours.returncode) == (theirs.stdout, theirs.stderr, theirs.returncode), args
    assert_same(kube_server, "auth", "whoami", mask=False)
    assert_same(kube_server, "auth", "can-i", "delete", "nodes", mask=False)
    assert_same(kube_server, "auth", "can-i", "--list", *ns, mask=False)


def test_impersonation_flags_agree_with_kubectl(kube_server, namespace):
    sa = f"--as=system:serviceaccount:{namespace}:default"
    for args in (("auth", "whoami", "--as=alice", "--as-group=devs", "--as-group=ops"),
                 ("auth", "can-i", "list", "pods", "-n", namespace, sa),
                 ("get", "pods", "-n", "kube-system", sa),
                 ("auth", "whoami", "--as-group=devs")):
        assert_same(kube_server, *args, mask=False)

