"""Server-side tables: Kubernetes' columns per kind, as `kubectl get` (and -o wide) shows them."""

from datetime import UTC, datetime, timedelta

from skiff.cluster.api import printers, registry

NOW = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
R = registry.find


def ago(seconds):
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def headers(table):
    return [c["name"].upper() for c in table["columnDefinitions"]]


def cells(res, obj, wide=True):
    return printers.table(res, [obj], wide, NOW)["rows"][0]["cells"]


def test_pod_columns_and_cells():
    pods = R("", "v1", "pods")
    pod = {"metadata": {"name": "web", "creationTimestamp": ago(190)},
           "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "node-1"},
           "status": {"phase": "Running", "podIP": "10.1.0.5", "containerStatuses": [
               {"name": "a", "ready": True, "restartCount": 0, "state": {"running": {}}},
               {"name": "b", "ready": False, "restartCount": 2, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"finishedAt": ago(30)}}}]}}
    table = printers.table(pods, [pod], False, NOW)
    assert headers(table) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    assert table["rows"][0]["cells"] == ["web", "1/2", "CrashLoopBackOff", "2 (30s ago)", "3m10s"]
    assert table["rows"][0]["object"] is pod
    wide = printers.table(pods, [pod], True, NOW)
    assert headers(wide) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED NODE",
                             "READINESS GATES"]
    assert [c["priority"] for c in wide["columnDefinitions"]] == [0, 0, 0, 0, 0, 1, 1, 1, 1]
    assert wide["rows"][0]["cells"][5:] == ["10.1.0.5", "node-1", "<none>", "<none>"]


def test_pod_status_cases():
    pods = R("", "v1", "pods")
    pending = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Pending"}}
    assert cells(pods, pending, False)[1:4] == ["0/1", "Pending", "0"]
    done = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Succeeded", "containerStatuses": [
                {"state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}}
    assert cells(pods, done, False)[2] == "Completed"
    init = {"metadata": {"name": "p"}, "spec": {"initContainers": [{"name": "i"}], "containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [{"state": {"running": {}}}]}}
    assert cells(pods, init, False)[2] == "Init:0/1"
    deleting = {"metadata": {"name": "p", "deletionTimestamp": ago(1)}, "spec": {"containers": [{"name": "a"}]},
                "status": {"phase": "Running"}}
    assert cells(pods, deleting, False)[2] == "Terminating"


def test_service_columns():
    svc = {"metadata": {"name": "web", "creationTimestamp": ago(5)},
           "spec": {"type": "NodePort", "clusterIP": "10.96.0.10", "selector": {"app": "web"},
                    "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}}
    table = printers.table(R("", "v1", "services"), [svc], True, NOW)
    assert headers(table) == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"]
    assert table["rows"][0]["cells"] == ["web", "NodePort", "10.96.0.10", "<none>", "80:30080/TCP,53/UDP", "5s",
                                         "app=web"]
    lb = {"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.11",
                                               "ports": [{"port": 80}]}}
    assert cells(R("", "v1", "services"), lb)[3] == "<pending>"


def test_deployment_and_replicaset_columns():
    deploy = {"metadata": {"name": "web", "creationTimestamp": ago(49 * 3600)},
              "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                       "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}}},
              "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}}
    table = printers.table(R("apps", "v1", "deployments"), [deploy], True, NOW)
    assert headers(table) == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert table["rows"][0]["cells"] == ["web", "2/3", 3, 2, "2d1h", "nginx", "nginx:1.25", "app=web"]
    rs = dict(deploy, status={"replicas": 3, "readyReplicas": 1})
    table = printers.table(R("apps", "v1", "replicasets"), [rs], False, NOW)
    assert headers(table) == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert table["rows"][0]["cells"] == ["web", 3, 3, 1, "2d1h"]
    rc = {"metadata": {"name": "rc"}, "spec": {"replicas": 1, "selector": {"app": "web"}}}
    assert cells(R("", "v1", "replicationcontrollers"), rc)[-1] == "app=web"


def test_other_workloads():
    assert headers(printers.table(R("apps", "v1", "daemonsets"), [], False, NOW)) == [
        "NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE"]
    assert headers(printers.table(R("apps", "v1", "statefulsets"), [], False, NOW)) == ["NAME", "READY", "AGE"]
    job = {"metadata": {"name": "pi", "creationTimestamp": ago(60)}, "spec": {"completions": 1},
           "status": {"succeeded": 1, "startTime": ago(60), "completionTime": ago(50),
                      "conditions": [{"type": "Complete", "status": "True"}]}}
    table = printers.table(R("batch", "v1", "jobs"), [job], False, NOW)
    assert headers(table) == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    assert table["rows"][0]["cells"] == ["pi", "Complete", "1/1", "10s", "60s"]
    cj = {"metadata": {"name": "hello"}, "spec": {"schedule": "*/1 * * * *", "suspend": False}}
    table = printers.table(R("batch", "v1", "cronjobs"), [cj], False, NOW)
    assert headers(table) == ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE"]
    assert table["rows"][0]["cells"][:6] == ["hello", "*/1 * * * *", "<none>", "False", 0, "<none>"]


def test_core_kinds():
    node = {"metadata": {"name": "n1", "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v1.32.0"}}}
    table = printers.table(R("", "v1", "nodes"), [node], False, NOW)
    assert headers(table) == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert table["rows"][0]["cells"] == ["n1", "Ready", "control-plane", "<unknown>", "v1.32.0"]
    ns = {"metadata": {"name": "default"}, "status": {"phase": "Active"}}
    assert cells(R("", "v1", "namespaces"), ns) == ["default", "Active", "<unknown>"]
    cm = {"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}}
    assert cells(R("", "v1", "configmaps"), cm)[:2] == ["c", 2]
    secret = {"metadata": {"name": "s"}, "type": "Opaque", "data": {"a": "MQ=="}}
    assert cells(R("", "v1", "secrets"), secret)[:3] == ["s", "Opaque", 1]
    ep = {"metadata": {"name": "web"}, "subsets": [{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(5)],
                                                    "ports": [{"port": 80}]}]}
    assert cells(R("", "v1", "endpoints"), ep)[1] == "10.0.0.0:80,10.0.0.1:80,10.0.0.2:80 + 2 more..."
    pvc = {"metadata": {"name": "data"}, "spec": {"volumeName": "pv1", "storageClassName": "local"},
           "status": {"phase": "Bound", "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]}}
    assert cells(R("", "v1", "persistentvolumeclaims"), pvc, False)[:6] == ["data", "Bound", "pv1", "1Gi", "RWO",
                                                                            "local"]


def test_events_table():
    ev = {"metadata": {"name": "web.1"}, "type": "Normal", "reason": "Scheduled", "message": "Assigned ",
          "involvedObject": {"kind": "Pod", "name": "web"}, "firstTimestamp": ago(120), "lastTimestamp": ago(60),
          "count": 3, "source": {"component": "default-scheduler"}}
    table = printers.table(R("", "v1", "events"), [ev], False, NOW)
    assert headers(table) == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert table["rows"][0]["cells"] == ["60s", "Normal", "Scheduled", "pod/web", "Assigned"]
    wide = printers.table(R("", "v1", "events"), [ev], True, NOW)
    assert wide["rows"][0]["cells"][4:] == ["", "default-scheduler", "Assigned", "2m", 3, "web.1"]


def test_hpa_lease_and_default_printer():
    hpa = {"metadata": {"name": "web"}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"},
                                                 "minReplicas": 1, "maxReplicas": 5, "metrics": [
            {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                        "averageUtilization": 80}}}]},
           "status": {"currentReplicas": 1}}
    row = cells(R("autoscaling", "v2", "horizontalpodautoscalers"), hpa)
    assert row[:6] == ["web", "Deployment/web", "cpu: <unknown>/80%", "1", 5, 1]
    lease = {"metadata": {"name": "n1"}, "spec": {"holderIdentity": "n1"}}
    assert cells(R("coordination.k8s.io", "v1", "leases"), lease)[:2] == ["n1", "n1"]
