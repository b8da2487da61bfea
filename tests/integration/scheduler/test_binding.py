"""pods/binding as the scheduler uses it: read from the watch cache, confirmed from storage before a refusal."""

from __future__ import annotations

import pytest

from tests.integration.scheduler.test_scheduling import create, get_pod, pod
from tests.support.server import Server

pytestmark = [pytest.mark.interop, pytest.mark.slow]


def bind(srv: Server, name: str, node: str, uid: str = "") -> tuple[int, dict]:
    meta = {"name": name, **({"uid": uid} if uid else {})}
    return srv.json("POST", f"/api/v1/namespaces/default/pods/{name}/binding",
                    {"apiVersion": "v1", "kind": "Binding", "metadata": meta,
                     "target": {"apiVersion": "v1", "kind": "Node", "name": node}})


def test_binding_checks_uid_and_current_node(tmp_path):
    srv = Server(tmp_path / "srv", extra_args=["--disable-scheduler", "--disable-controller-manager"]).start()
    try:
        create(srv, pod("web"))
        uid = get_pod(srv, "web")["metadata"]["uid"]
        status, body = bind(srv, "web", "n1", uid="not-" + uid)
        assert status == 409 and body["message"] == (
            f'Operation cannot be fulfilled on pods/binding "web": Precondition failed: UID in precondition: '
            f'not-{uid}, UID in object meta: {uid}'), body
        status, body = bind(srv, "web", "n1", uid=uid)  # right after create: the cache may lag, storage answers
        assert status == 201, body
        bound = get_pod(srv, "web")
        assert bound["spec"]["nodeName"] == "n1"
        assert [c["status"] for c in bound["status"]["conditions"] if c["type"] == "PodScheduled"] == ["True"]
        status, body = bind(srv, "web", "n2")
        assert status == 409 and body["message"].endswith('pod web is already assigned to node "n1"'), body
        status, body = bind(srv, "ghost", "n1")
        assert status == 404 and body["reason"] == "NotFound", body
        # kubectl sees the pod on its node
        out = srv.kubectl("get", "pod", "web", "-o", "jsonpath={.spec.nodeName}")
        assert out.returncode == 0 and out.stdout == b"n1", out
    finally:
        srv.cleanup()
