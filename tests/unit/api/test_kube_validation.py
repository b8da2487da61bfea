"""Semantic validation: field paths and messages as kube-apiserver reports them."""

import copy

import pytest

from skiff.cluster.api import registry, strategy
from skiff.cluster.apimachinery.errors import invalid

R = registry.find
PODS = R("", "v1", "pods")


def pod(**spec):
    base = {"containers": [{"name": "web", "image": "nginx"}]}
    base.update(spec)
    return {"metadata": {"name": "web", "namespace": "default"}, "spec": base}


def fields(causes):
    return [c["field"] for c in causes]


def test_valid_pod():
    assert strategy.validate(PODS, pod()) == []


@pytest.mark.parametrize("name", ["Web", "web_1", "-web", "a" * 254])
def test_invalid_names(name):
    obj = pod()
    obj["metadata"]["name"] = name
    causes = strategy.validate(PODS, obj)
    assert fields(causes)[0] == "metadata.name"
    assert causes[0]["message"].startswith(f'Invalid value: "{name}": ')


def test_name_required_unless_generate_name():
    obj = pod()
    del obj["metadata"]["name"]
    assert strategy.validate(PODS, obj)[0]["message"] == "Required value: name or generateName is required"
    obj["metadata"]["generateName"] = "web-"
    assert strategy.validate(PODS, obj) == []


def test_namespace_names_are_labels_and_services_dns1035():
    ns = R("", "v1", "namespaces")
    assert strategy.validate(ns, {"metadata": {"name": "a.b"}}) != []
    assert strategy.validate(ns, {"metadata": {"name": "dev"}}) == []
    svc = {"metadata": {"name": "1web", "namespace": "default"}, "spec": {"ports": [{"port": 80}]}}
    assert fields(strategy.validate(R("", "v1", "services"), svc)) == ["metadata.name"]


def test_pod_required_fields_message():
    obj = pod(containers=[{"name": "web"}])
    causes = strategy.validate(PODS, obj)
    err = invalid("Pod", "web", causes)
    assert err.message == 'Pod "web" is invalid: spec.containers[0].image: Required value'
    assert fields(strategy.validate(PODS, pod(containers=[]))) == ["spec.containers"]


def test_pod_enums_and_ports():
    causes = strategy.validate(PODS, pod(restartPolicy="Sometimes", dnsPolicy="Nope"))
    assert causes[0] == {"type": "FieldValueNotSupported", "field": "spec.restartPolicy",
                         "message": 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'}
    assert fields(causes)[1] == "spec.dnsPolicy"
    bad_port = pod(containers=[{"name": "web", "image": "nginx", "ports": [{"containerPort": 70000,
                                                                           "protocol": "tcp"}]}])
    causes = strategy.validate(PODS, bad_port)
    assert causes[0]["message"] == "Invalid value: 70000: must be between 1 and 65535, inclusive"
    assert causes[1]["message"] == 'Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"'


def test_duplicate_container_and_unknown_volume():
    obj = pod(containers=[{"name": "a", "image": "x", "volumeMounts": [{"name": "data", "mountPath": "/d"}]},
                          {"name": "a", "image": "y"}])
    causes = strategy.validate(PODS, obj)
    assert ("spec.containers[0].volumeMounts[0].name", 'Not found: "data"') in [(c["field"], c["message"])
                                                                                for c in causes]
    assert ("spec.containers[1].name", 'Duplicate value: "a"') in [(c["field"], c["message"]) for c in causes]


def test_requests_above_limits():
    obj = pod(containers=[{"name": "a", "image": "x", "resources": {"limits": {"cpu": "500m"},
                                                                     "requests": {"cpu": "1"}}}])
    causes = strategy.validate(PODS, obj)
    assert causes[0]["field"] == "spec.containers[0].resources.requests"
    assert causes[0]["message"] == 'Invalid value: "1": must be less than or equal to cpu limit of 500m'


def test_pod_update_only_image_may_change():
    old = pod()
    strategy.prepare_for_create(PODS, old)  # stored pods are defaulted (imagePullPolicy fixed at create)
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "nginx:2"
    assert strategy.validate(PODS, new, old) == []
    new["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    causes = strategy.validate(PODS, new, old)
    assert causes[0]["field"] == "spec"
    assert causes[0]["message"].startswith("Forbidden: pod updates may not change fields other than "
                                           "`spec.containers[*].image`")
    bound = copy.deepcopy(old)
    bound["spec"]["nodeName"] = "node-1"
    assert strategy.validate(PODS, bound, old) == []


def deployment(selector=None, labels=None):
    return {"metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"matchLabels": selector or {"app": "web"}},
                     "template": {"metadata": {"labels": labels or {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}}


def test_selector_must_match_template():
    res = R("apps", "v1", "deployments")
    assert strategy.validate(res, deployment()) == []
    causes = strategy.validate(res, deployment(labels={"app": "other"}))
    err = invalid("Deployment", "web", causes, "apps")
    assert err.message == ('Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: '
                           'map[string]string{"app":"other"}: `selector` does not match template `labels`')


def test_selector_required_and_immutable():
    res = R("apps", "v1", "deployments")
    obj = deployment()
    del obj["spec"]["selector"]
    assert fields(strategy.validate(res, obj))[0] == "spec.selector"
    old = deployment()
    new = deployment(selector={"app": "web", "x": "y"}, labels={"app": "web", "x": "y"})
    causes = strategy.validate(res, new, old)
    assert [c["message"].endswith("field is immutable") for c in causes if c["field"] == "spec.selector"] == [True]


def test_negative_replicas_and_restart_policy():
    res = R("apps", "v1", "deployments")
    obj = deployment()
    obj["spec"]["replicas"] = -1
    obj["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    causes = strategy.validate(res, obj)
    assert ("spec.replicas", "Invalid value: -1: must be greater than or equal to 0") in [
        (c["field"], c["message"]) for c in causes]
    assert ("spec.template.spec.restartPolicy", 'Unsupported value: "Never": supported values: "Always"') in [
        (c["field"], c["message"]) for c in causes]


def test_job_restart_policy_and_immutable_template():
    res = R("batch", "v1", "jobs")
    job = {"metadata": {"name": "pi", "namespace": "default", "uid": "u"},
           "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}}}
    strategy.prepare_for_create(res, job)
    causes = strategy.validate(res, job)  # restartPolicy defaulted to Always: not allowed for a job
    assert causes[0]["field"] == "spec.template.spec.restartPolicy"
    job["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert strategy.validate(res, job) == []
    new = copy.deepcopy(job)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:2"
    assert "spec.template" in fields(strategy.validate(res, new, job))


def test_service_rules():
    res = R("", "v1", "services")
    svc = {"metadata": {"name": "web", "namespace": "default"},
           "spec": {"type": "ClusterIP", "clusterIP": "10.0.0.5", "ports": [{"port": 80}, {"port": 443}]}}
    causes = strategy.validate(res, svc)
    assert ("spec.ports[0].name", "Required value") in [(c["field"], c["message"]) for c in causes]
    svc["spec"]["ports"] = [{"port": 80, "nodePort": 30080}]
    assert fields(strategy.validate(res, svc)) == ["spec.ports[0].nodePort"]
    svc["spec"]["ports"] = [{"port": 80}]
    changed = copy.deepcopy(svc)
    changed["spec"]["clusterIP"] = "10.0.0.6"
    assert fields(strategy.validate(res, changed, svc)) == ["spec.clusterIPs[0]"]
    svc["spec"]["type"] = "Balanced"
    assert fields(strategy.validate(res, svc)) == ["spec.type"]


def test_configmap_and_secret_keys():
    cm = {"metadata": {"name": "c", "namespace": "default"}, "data": {"good.key": "1", "bad key": "2"}}
    assert fields(strategy.validate(R("", "v1", "configmaps"), cm)) == ["data[bad key]"]
    secret = {"metadata": {"name": "s", "namespace": "default"}, "type": "Opaque", "data": {"a": "not base64!"}}
    assert fields(strategy.validate(R("", "v1", "secrets"), secret)) == ["data[a]"]
    immutable = {"metadata": {"name": "c", "namespace": "default"}, "data": {"a": "1"}, "immutable": True}
    changed = copy.deepcopy(immutable)
    changed["data"]["a"] = "2"
    assert fields(strategy.validate(R("", "v1", "configmaps"), changed, immutable)) == ["data"]


def test_labels_and_metadata_immutables():
    obj = pod()
    obj["metadata"]["labels"] = {"bad key": "v", "ok": "bad value"}
    assert fields(strategy.validate(PODS, obj)) == ["metadata.labels", "metadata.labels"]
    old = pod()
    old["metadata"]["uid"] = "a"
    new = copy.deepcopy(old)
    new["metadata"]["uid"] = "b"
    assert fields(strategy.validate(PODS, new, old)) == ["metadata.uid"]


@pytest.mark.parametrize("schedule,ok", [("*/1 * * * *", True), ("0 0 * * 0", True), ("@hourly", True),
                                         ("61 * * * *", False), ("* * *", False), ("hello", False)])
def test_cron_schedules(schedule, ok):
    res = R("batch", "v1", "cronjobs")
    cj = {"metadata": {"name": "c", "namespace": "default"},
          "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {
              "containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "OnFailure"}}}}}}
    assert (strategy.validate(res, cj) == []) is ok


def test_cluster_scoped_rejects_namespace():
    node = {"metadata": {"name": "n1", "namespace": "default"}}
    assert fields(strategy.validate(R("", "v1", "nodes"), node)) == ["metadata.namespace"]


def test_image_with_surrounding_whitespace():
    causes = strategy.validate(PODS, pod(containers=[{"name": "a", "image": " nginx"}]))
    assert causes == [{"type": "FieldValueInvalid", "field": "spec.containers[0].image",
                       "message": 'Invalid value: " nginx": must not have leading or trailing whitespace'}]


def test_generate_name_prefix_and_finalizers():
    obj = pod()
    del obj["metadata"]["name"]
    obj["metadata"]["generateName"] = "web-"
    assert strategy.validate(PODS, obj) == []
    obj["metadata"]["generateName"] = "Web-"
    assert fields(strategy.validate(PODS, obj)) == ["metadata.generateName"]
    obj = pod()
    obj["metadata"]["finalizers"] = ["example.com/cleanup", "bad finalizer"]
    assert fields(strategy.validate(PODS, obj)) == ["metadata.finalizers[1]"]


def test_pod_update_tolerates_the_derived_service_account_field():
    old = pod()
    strategy.prepare_for_create(PODS, old)
    old["spec"]["serviceAccountName"] = "default"  # set by admission, after defaulting: no alias
    new = copy.deepcopy(old)
    strategy.prepare_for_update(PODS, new, old)
    assert new["spec"]["serviceAccount"] == "default"
    assert strategy.validate(PODS, new, old) == []
