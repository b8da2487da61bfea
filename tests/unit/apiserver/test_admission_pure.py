from skiff.cluster.apiserver.admission.default_toleration import add_default_tolerations
from skiff.cluster.apiserver.admission.limit_ranger import apply_defaults, violations
from skiff.cluster.apiserver.admission.resource_quota import count_names, pod_usage


def _pod(resources=None):
    return {"spec": {"containers": [{"name": "c", "image": "busybox", "resources": resources or {}}]}}


def test_limit_range_defaults_fill_only_whats_missing():
    pod = _pod({"limits": {"cpu": "2"}})
    apply_defaults(pod, {"type": "Container", "default": {"cpu": "1", "memory": "512Mi"},
                         "defaultRequest": {"cpu": "100m"}})
    res = pod["spec"]["containers"][0]["resources"]
    assert res["limits"] == {"cpu": "2", "memory": "512Mi"}
    assert res["requests"] == {"cpu": "100m", "memory": "512Mi"}


def test_limit_range_min_max_messages():
    pod = _pod({"limits": {"cpu": "2"}, "requests": {"cpu": "10m"}})
    msgs = violations(pod, {"type": "Container", "max": {"cpu": "1"}, "min": {"cpu": "50m"}})
    assert "maximum cpu usage per Container is 1, but limit is 2" in msgs
    assert "minimum cpu usage per Container is 50m, but request is 10m" in msgs


def test_default_tolerations_added_once():
    pod = {"spec": {"tolerations": [{"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                                     "effect": "NoExecute", "tolerationSeconds": 10}]}}
    add_default_tolerations(pod)
    add_default_tolerations(pod)
    keys = [t["key"] for t in pod["spec"]["tolerations"]]
    assert sorted(keys) == ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]
    unreachable = [t for t in pod["spec"]["tolerations"] if t["key"].endswith("unreachable")][0]
    assert unreachable["tolerationSeconds"] == 10


def test_quota_names_and_pod_usage():
    assert count_names("", "pods") == ["count/pods", "pods"]
    assert count_names("apps", "deployments") == ["count/deployments.apps"]
    pod = {"spec": {"containers": [{"resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}},
                                   {"resources": {"requests": {"cpu": "250m"}, "limits": {"cpu": "1"}}}]}}
    usage = pod_usage(pod)
    assert usage["requests.cpu"] == usage["cpu"] == 0.5
    assert usage["limits.cpu"] == 1
    assert pod_usage({**pod, "status": {"phase": "Succeeded"}}) == {}
