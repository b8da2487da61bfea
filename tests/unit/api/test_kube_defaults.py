"""Defaulting, checked against the defaults Kubernetes documents for each field."""

import copy

import pytest

from skiff.cluster.api import registry, strategy

R = registry.find


def pod(image="nginx"):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
            "spec": {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}],
                                     "livenessProbe": {"httpGet": {"port": 80}}}]}}


def template():
    return {"metadata": {"labels": {"app": "web"}}, "spec": pod()["spec"]}


def test_pod_defaults():
    obj = pod()
    strategy.prepare_for_create(R("", "v1", "pods"), obj)
    spec, c = obj["spec"], obj["spec"]["containers"][0]
    assert (spec["restartPolicy"], spec["dnsPolicy"], spec["terminationGracePeriodSeconds"],
            spec["schedulerName"], spec["enableServiceLinks"]) == ("Always", "ClusterFirst", 30,
                                                                   "default-scheduler", True)
    assert (c["terminationMessagePath"], c["terminationMessagePolicy"], c["imagePullPolicy"]) == (
        "/dev/termination-log", "File", "Always")
    assert c["ports"][0]["protocol"] == "TCP"
    assert c["livenessProbe"] == {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
                                  "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
    assert obj["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


@pytest.mark.parametrize("image,policy", [("nginx", "Always"), ("nginx:latest", "Always"),
                                          ("nginx:1.25", "IfNotPresent"), ("localhost:5000/app", "Always"),
                                          ("localhost:5000/app:v1", "IfNotPresent"),
                                          ("nginx@sha256:" + "a" * 64, "IfNotPresent")])
def test_image_pull_policy(image, policy):
    obj = pod(image)
    strategy.prepare_for_create(R("", "v1", "pods"), obj)
    assert obj["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_user_values_are_kept():
    obj = pod()
    obj["spec"]["restartPolicy"] = "Never"
    obj["spec"]["containers"][0]["imagePullPolicy"] = "Never"
    strategy.prepare_for_create(R("", "v1", "pods"), obj)
    assert obj["spec"]["restartPolicy"] == "Never"
    assert obj["spec"]["containers"][0]["imagePullPolicy"] == "Never"


def test_qos_classes():
    limits = {"cpu": "1", "memory": "1Gi"}
    assert strategy.qos_class({"containers": [{"resources": {"limits": limits, "requests": limits}}]}) == "Guaranteed"
    assert strategy.qos_class({"containers": [{"resources": {"requests": {"cpu": "1"}}}]}) == "Burstable"
    assert strategy.qos_class({"containers": [{}]}) == "BestEffort"


def test_service_defaults():
    obj = {"metadata": {"name": "web", "namespace": "default"},
           "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}, {"port": 443, "targetPort": "https"}]}}
    strategy.prepare_for_create(R("", "v1", "services"), obj)
    spec = obj["spec"]
    assert (spec["type"], spec["sessionAffinity"], spec["internalTrafficPolicy"]) == ("ClusterIP", "None", "Cluster")
    assert spec["ports"][0] == {"port": 80, "protocol": "TCP", "targetPort": 80}
    assert spec["ports"][1]["targetPort"] == "https"
    assert obj["status"] == {"loadBalancer": {}}
    node_port = {"metadata": {"name": "np"}, "spec": {"type": "NodePort", "ports": [{"port": 80}]}}
    strategy.prepare_for_create(R("", "v1", "services"), node_port)
    assert node_port["spec"]["externalTrafficPolicy"] == "Cluster"


def test_deployment_defaults_and_generation():
    obj = {"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template()},
           "status": {"replicas": 9}}
    res = R("apps", "v1", "deployments")
    strategy.prepare_for_create(res, obj)
    spec = obj["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert (spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (10, 600)
    assert spec["template"]["spec"]["restartPolicy"] == "Always"
    assert obj["status"] == {} and obj["metadata"]["generation"] == 1
    new = copy.deepcopy(obj)
    new["status"] = {"replicas": 5}
    new["spec"]["replicas"] = 3
    strategy.prepare_for_update(res, new, obj)
    assert new["metadata"]["generation"] == 2 and new["status"] == {}
    same = copy.deepcopy(new)
    same["metadata"]["labels"] = {"x": "y"}
    strategy.prepare_for_update(res, same, new)
    assert same["metadata"]["generation"] == 2


def test_recreate_strategy_gets_no_rolling_update():
    obj = {"spec": {"strategy": {"type": "Recreate"}, "template": template()}}
    strategy.prepare_for_create(R("apps", "v1", "deployments"), obj)
    assert obj["spec"]["strategy"] == {"type": "Recreate"}


def test_replication_controller_selector_and_labels_from_template():
    obj = {"metadata": {"name": "rc"}, "spec": {"template": template()}}
    strategy.prepare_for_create(R("", "v1", "replicationcontrollers"), obj)
    assert obj["spec"]["selector"] == {"app": "web"}
    assert obj["metadata"]["labels"] == {"app": "web"}
    assert obj["spec"]["replicas"] == 1


def test_workload_defaults():
    ds = {"spec": {"template": template()}}
    strategy.prepare_for_create(R("apps", "v1", "daemonsets"), ds)
    assert ds["spec"]["updateStrategy"] == {"type": "RollingUpdate",
                                            "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}
    sts = {"spec": {"template": template()}}
    strategy.prepare_for_create(R("apps", "v1", "statefulsets"), sts)
    assert (sts["spec"]["podManagementPolicy"], sts["spec"]["replicas"]) == ("OrderedReady", 1)
    assert sts["spec"]["updateStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}


def test_job_defaults_and_generated_selector():
    job = {"metadata": {"name": "pi", "uid": "1234"},
           "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl"}], "restartPolicy": "Never"}}}}
    strategy.prepare_for_create(R("batch", "v1", "jobs"), job)
    spec = job["spec"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"], spec["completionMode"],
            spec["suspend"]) == (1, 1, 6, "NonIndexed", False)
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "1234"}}
    labels = spec["template"]["metadata"]["labels"]
    assert labels["job-name"] == "pi" and labels["batch.kubernetes.io/job-name"] == "pi"
    assert labels["controller-uid"] == "1234"
    assert strategy.validate(R("batch", "v1", "jobs"), {**job, "metadata": {**job["metadata"],
                                                                           "namespace": "default"}}) == []


def test_cronjob_namespace_secret_pv_defaults():
    cj = {"spec": {"schedule": "*/1 * * * *", "jobTemplate": {"spec": {"template": {"spec": {
        "containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "OnFailure"}}}}}}
    strategy.prepare_for_create(R("batch", "v1", "cronjobs"), cj)
    assert (cj["spec"]["concurrencyPolicy"], cj["spec"]["successfulJobsHistoryLimit"],
            cj["spec"]["failedJobsHistoryLimit"], cj["spec"]["suspend"]) == ("Allow", 3, 1, False)
    ns = {"metadata": {"name": "dev"}}
    strategy.prepare_for_create(R("", "v1", "namespaces"), ns)
    assert ns["spec"] == {"finalizers": ["kubernetes"]} and ns["status"] == {"phase": "Active"}
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "dev"}
    secret = {"metadata": {"name": "s"}}
    strategy.prepare_for_create(R("", "v1", "secrets"), secret)
    assert secret["type"] == "Opaque"
    pv = {"metadata": {"name": "pv"}, "spec": {}}
    strategy.prepare_for_create(R("", "v1", "persistentvolumes"), pv)
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain" and pv["status"] == {"phase": "Pending"}


def test_hpa_v2_default_metric():
    hpa = {"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5}}
    strategy.prepare_for_create(R("autoscaling", "v2", "horizontalpodautoscalers"), hpa)
    assert hpa["spec"]["minReplicas"] == 1
    assert hpa["spec"]["metrics"][0]["resource"] == {"name": "cpu", "target": {"type": "Utilization",
                                                                              "averageUtilization": 80}}


def test_status_update_changes_only_status():
    res = R("apps", "v1", "deployments")
    old = {"metadata": {"name": "web", "labels": {"a": "b"}, "resourceVersion": "5"}, "spec": {"replicas": 1},
           "status": {}}
    new = {"metadata": {"name": "web", "labels": {}, "resourceVersion": "5"}, "spec": {"replicas": 9},
           "status": {"replicas": 1}}
    strategy.prepare_for_status_update(res, new, old)
    assert new == {"metadata": {"name": "web", "labels": {"a": "b"}, "resourceVersion": "5"},
                   "spec": {"replicas": 1}, "status": {"replicas": 1}}


def test_scale_subresource():
    res = R("apps", "v1", "deployments")
    obj = {"metadata": {"name": "web", "namespace": "default", "resourceVersion": "7", "generation": 1},
           "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}}, "status": {"replicas": 1}}
    scale = strategy.scale_of(res, obj)
    assert scale == {"kind": "Scale", "apiVersion": "autoscaling/v1",
                     "metadata": {"name": "web", "namespace": "default", "resourceVersion": "7"},
                     "spec": {"replicas": 2}, "status": {"replicas": 1, "selector": "app=web"}}
    strategy.apply_scale(res, obj, 4)
    assert obj["spec"]["replicas"] == 4 and obj["metadata"]["generation"] == 2
    rc = {"metadata": {"name": "rc"}, "spec": {"replicas": 1, "selector": {"app": "web"}}}
    assert strategy.scale_of(R("", "v1", "replicationcontrollers"), rc)["status"]["selector"] == "app=web"


def test_field_sets():
    pods = R("", "v1", "pods")
    fields = strategy.field_set(pods, {"metadata": {"name": "a", "namespace": "ns"}, "spec": {"nodeName": "n1"},
                                       "status": {"phase": "Running"}})
    assert fields["spec.nodeName"] == "n1" and fields["status.phase"] == "Running"
    assert fields["metadata.namespace"] == "ns"
    assert set(strategy.field_set(R("", "v1", "nodes"), {})) == {"metadata.name", "spec.unschedulable"}
    assert "involvedObject.name" in strategy.field_set(R("", "v1", "events"), {})


def test_quantities_are_stored_canonical():
    obj = pod()
    obj["spec"]["containers"][0]["resources"] = {"limits": {"cpu": 0.5, "memory": "1024Mi"},
                                                 "requests": {"cpu": "1000m"}}
    strategy.prepare_for_create(R("", "v1", "pods"), obj)
    assert obj["spec"]["containers"][0]["resources"] == {"limits": {"cpu": "500m", "memory": "1Gi"},
                                                         "requests": {"cpu": "1", "memory": "1Gi"}}
    pvc = {"metadata": {"name": "d"}, "spec": {"resources": {"requests": {"storage": "2048Mi"}}}}
    strategy.prepare_for_create(R("", "v1", "persistentvolumeclaims"), pvc)
    assert pvc["spec"]["resources"]["requests"]["storage"] == "2Gi"


def test_service_update_keeps_allocated_ip_and_node_ports():
    res = R("", "v1", "services")
    old = {"metadata": {"name": "web", "namespace": "default"},
           "spec": {"type": "NodePort", "clusterIP": "10.96.0.7", "clusterIPs": ["10.96.0.7"],
                    "ports": [{"port": 80, "protocol": "TCP", "nodePort": 30080, "targetPort": 80}]}}
    new = {"metadata": {"name": "web", "namespace": "default"},
           "spec": {"type": "NodePort", "ports": [{"port": 80}]}}
    strategy.prepare_for_update(res, new, old)
    assert new["spec"]["clusterIP"] == "10.96.0.7" and new["spec"]["clusterIPs"] == ["10.96.0.7"]
    assert new["spec"]["ports"][0]["nodePort"] == 30080
    assert strategy.validate(res, new, old) == []


def test_a_node_registers_with_its_status():
    node = {"metadata": {"name": "n1"}, "status": {"capacity": {"cpu": "2"}, "nodeInfo": {"kubeletVersion": "v1"}}}
    strategy.prepare_for_create(R("", "v1", "nodes"), node)
    assert node["status"]["capacity"] == {"cpu": "2"}


def test_endpointslice_generation_counts_endpoint_changes():
    res = R("discovery.k8s.io", "v1", "endpointslices")
    old = {"kind": "EndpointSlice", "metadata": {"name": "s"}, "addressType": "IPv4",
           "endpoints": [{"addresses": ["10.0.0.1"]}]}
    strategy.prepare_for_create(res, old)
    assert old["metadata"]["generation"] == 1
    new = copy.deepcopy(old)
    new["endpoints"].append({"addresses": ["10.0.0.2"]})
    strategy.prepare_for_update(res, new, old)
    assert new["metadata"]["generation"] == 2


def test_secret_string_data_lands_in_data():
    secret = {"metadata": {"name": "s"}, "data": {"a": "eA==", "b": "eQ=="}, "stringData": {"b": "hunter2"}}
    strategy.prepare_for_create(R("", "v1", "secrets"), secret)
    assert secret["data"] == {"a": "eA==", "b": "aHVudGVyMg=="}
    assert "stringData" not in secret


def test_service_account_alias():
    obj = pod()
    obj["spec"]["serviceAccountName"] = "robot"
    strategy.prepare_for_create(R("", "v1", "pods"), obj)
    assert obj["spec"]["serviceAccount"] == "robot"
    old_style = pod()
    old_style["spec"]["serviceAccount"] = "robot"
    strategy.prepare_for_create(R("", "v1", "pods"), old_style)
    assert old_style["spec"]["serviceAccountName"] == "robot"


@pytest.mark.parametrize("group,plural,expected", [
    ("apps", "replicasets", {"replicas": 0}),
    ("", "replicationcontrollers", {"replicas": 0}),
    ("apps", "statefulsets", {"replicas": 0, "availableReplicas": 0}),
    ("apps", "daemonsets", {"currentNumberScheduled": 0, "numberMisscheduled": 0,
                            "desiredNumberScheduled": 0, "numberReady": 0}),
])
def test_new_workloads_carry_the_status_fields_go_always_serializes(group, plural, expected):
    obj = {"metadata": {"name": "w"}, "spec": {"template": {"metadata": {"labels": {"a": "b"}},
                                                            "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    strategy.prepare_for_create(R(group, "v1", plural), obj)
    assert obj["status"] == expected
