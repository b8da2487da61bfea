"""Pod-level cgroup layout and limits (Kubernetes' cgroupfs layout and ResourceConfigForPod)."""

from skiff.cluster.kubelet.podcgroup import pod_cgroup, pod_resources


def pod(*containers, init=()):
    return {"metadata": {"uid": "u1", "name": "p"},
            "spec": {"containers": [{"name": f"c{i}", "resources": r} for i, r in enumerate(containers)],
                     "initContainers": [{"name": f"i{i}", "resources": r} for i, r in enumerate(init)]}}


def test_layout_by_qos_class():
    full = {"limits": {"cpu": "1", "memory": "64Mi"}}
    assert pod_cgroup("skx", pod(full)) == "/skx/kubepods/podu1"
    assert pod_cgroup("skx", pod({"requests": {"cpu": "100m"}})) == "/skx/kubepods/burstable/podu1"
    assert pod_cgroup("skx", pod({})) == "/skx/kubepods/besteffort/podu1"


def test_limits_are_summed_when_every_container_has_them():
    res = pod_resources(pod({"limits": {"cpu": "200m", "memory": "32Mi"}},
                            {"requests": {"cpu": "100m"}, "limits": {"cpu": "300m", "memory": "16Mi"}}))
    assert res == {"cpu": {"shares": 307, "period": 100_000, "quota": 50_000}, "memory": {"limit": 48 * 2**20}}


def test_one_unlimited_container_leaves_the_pod_unlimited():
    res = pod_resources(pod({"limits": {"cpu": "200m", "memory": "32Mi"}}, {"requests": {"cpu": "250m"}}))
    assert res == {"cpu": {"shares": 460}}


def test_a_larger_init_container_sets_the_pod_limits_and_best_effort_gets_the_least_weight():
    res = pod_resources(pod({"limits": {"cpu": "100m", "memory": "16Mi"}},
                            init=[{"limits": {"cpu": "1", "memory": "128Mi"}}]))
    assert res["cpu"]["quota"] == 100_000 and res["memory"] == {"limit": 128 * 2**20}
    assert pod_resources(pod({}, {})) == {"cpu": {"shares": 2}}
