"""Validation of volumes, claims, quotas, limits, nodes, endpoints, leases and events."""

import copy

import pytest

from skiff.cluster.api import registry, strategy

R = registry.find


def check(group, plural, obj, old=None):
    res = R(group, "v1", plural)
    meta = obj.setdefault("metadata", {"name": "x"})
    if res.namespaced:
        meta.setdefault("namespace", "default")
    return [(c["field"], c["message"]) for c in strategy.validate(res, obj, old)]


def test_pvc():
    ok = {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    assert check("", "persistentvolumeclaims", ok) == []
    assert check("", "persistentvolumeclaims", {"spec": {}}) == [
        ("spec.accessModes", "Required value: at least 1 access mode is required"),
        ("spec.resources[storage]", "Required value")]
    bad = {"spec": {"accessModes": ["ReadWriteSometimes"], "resources": {"requests": {"storage": "0"}}}}
    assert check("", "persistentvolumeclaims", bad) == [
        ("spec.accessModes", 'Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", '
                             '"ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"'),
        ("spec.resources.requests[storage]", 'Invalid value: "0": must be greater than zero')]
    grown = copy.deepcopy(ok)
    grown["spec"]["resources"]["requests"]["storage"] = "2Gi"
    assert check("", "persistentvolumeclaims", grown, copy.deepcopy(ok)) == []
    changed = copy.deepcopy(ok)
    changed["spec"]["accessModes"] = ["ReadWriteMany"]
    assert check("", "persistentvolumeclaims", changed, copy.deepcopy(ok))[0][0] == "spec"


def test_pv():
    ok = {"spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/d"}}}
    assert check("", "persistentvolumes", ok) == []
    assert check("", "persistentvolumes", {"spec": {"accessModes": ["ReadWriteOnce"]}}) == [
        ("spec.capacity", "Required value"), ("spec", "Required value: must specify a volume type")]
    ok["spec"]["persistentVolumeReclaimPolicy"] = "Keep"
    assert check("", "persistentvolumes", ok)[0][0] == "spec.persistentVolumeReclaimPolicy"


def test_quota_and_limits():
    assert check("", "resourcequotas", {"spec": {"hard": {"cpu": "-1", "pods": "10"}}}) == [
        ("spec.hard[cpu]", 'Invalid value: "-1": must be greater than or equal to 0')]
    limits = {"spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}, "default": {"cpu": "2"}}]}}
    assert check("", "limitranges", limits) == [
        ("spec.limits[0].default[cpu]", 'Invalid value: "2": default value 2 is greater than max value 1')]
    assert check("", "limitranges", {"spec": {"limits": [{"type": "Machine"}]}})[0][0] == "spec.limits[0].type"


def test_node_taints():
    node = {"spec": {"taints": [{"key": "dedicated", "effect": "NoSchedule"}, {"key": "x", "effect": "Never"}]}}
    assert check("", "nodes", node) == [
        ("spec.taints[1].effect", 'Unsupported value: "Never": supported values: "NoExecute", "NoSchedule", '
                                  '"PreferNoSchedule"')]


def test_endpoints_and_slices():
    ep = {"subsets": [{"addresses": [{"ip": "10.0.0.1"}, {"ip": "nope"}], "ports": [{"port": 0}]}]}
    assert [f for f, _ in check("", "endpoints", ep)] == ["subsets[0].addresses[1].ip", "subsets[0].ports[0].port"]
    res = R("discovery.k8s.io", "v1", "endpointslices")
    bad = {"metadata": {"name": "s", "namespace": "default"}, "endpoints": [{"addresses": []}]}
    assert [c["field"] for c in strategy.validate(res, bad)] == ["addressType", "endpoints[0].addresses"]


def test_lease_and_event():
    res = R("coordination.k8s.io", "v1", "leases")
    lease = {"metadata": {"name": "n1", "namespace": "kube-node-lease"}, "spec": {"leaseDurationSeconds": 0}}
    assert strategy.validate(res, lease)[0]["message"] == "Invalid value: 0: must be greater than 0"
    ev = {"involvedObject": {"kind": "Pod", "name": "p", "namespace": "other"}}
    assert check("", "events", ev) == [("involvedObject.namespace", 'Invalid value: "other": does not match '
                                                                    'event.namespace')]


@pytest.mark.parametrize("toleration,field", [
    ({"key": "a", "operator": "Exists", "value": "x"}, "spec.tolerations[0].operator"),
    ({"key": "a", "operator": "Maybe"}, "spec.tolerations[0].operator"),
    ({"key": "a", "effect": "Sometimes"}, "spec.tolerations[0].effect"),
    ({"key": "a", "effect": "NoSchedule", "tolerationSeconds": 5}, "spec.tolerations[0].effect"),
    ({"operator": "Equal", "value": "x"}, "spec.tolerations[0].operator"),
])
def test_pod_tolerations(toleration, field):
    pod = {"spec": {"containers": [{"name": "c", "image": "i"}], "tolerations": [toleration]}}
    assert [f for f, _ in check("", "pods", pod)] == [field]


def test_pod_tolerations_valid():
    pod = {"spec": {"containers": [{"name": "c", "image": "i"}], "nodeSelector": {"zone": "north"},
                    "tolerations": [{"operator": "Exists"}, {"key": "node.kubernetes.io/not-ready",
                                                             "operator": "Exists", "effect": "NoExecute",
                                                             "tolerationSeconds": 300}]}}
    assert check("", "pods", pod) == []
