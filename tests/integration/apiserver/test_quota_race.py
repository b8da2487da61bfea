"""ResourceQuota under racing creates: counting and storing are one step, so `hard` holds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor


def test_racing_creates_cannot_pass_the_quota(kube_server, namespace):
    base = f"/api/v1/namespaces/{namespace}"
    status, existing = kube_server.json("GET", f"{base}/configmaps")
    assert status == 200
    hard = len(existing["items"]) + 3
    quota = {"metadata": {"name": "cms"}, "spec": {"hard": {"configmaps": str(hard)}}}
    assert kube_server.json("POST", f"{base}/resourcequotas", quota)[0] == 201
    kube_server.wait_for(f"{base}/resourcequotas/cms")

    def create(i: int) -> int:
        return kube_server.json("POST", f"{base}/configmaps", {"metadata": {"name": f"cm-{i}"}, "data": {}})[0]

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(create, range(16)))
    assert sorted(codes).count(201) == 3, codes
    assert set(codes) == {201, 403}
    status, after = kube_server.json("GET", f"{base}/configmaps")
    assert len(after["items"]) == hard
    assert kube_server.ready()
