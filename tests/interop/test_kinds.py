"""The kinds as real clients see them: defaults, validation messages, tables, explain, patches, apply.

kubectl 1.32 and the `kubernetes` Python client against `skiff server`; the expectations are
what a real cluster answers (Kubernetes' documented defaults and messages).
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.support.procs import ok

pytestmark = pytest.mark.interop

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports:
        - containerPort: 80
"""


def kubectl(server, namespace, *args, **kw):
    return server.kubectl("-n", namespace, *args, **kw)


def failed(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode != 0, proc.stdout
    return proc.stderr.decode()


def test_defaults_read_back_as_kubernetes_shows_them(kube_server, namespace):
    ok(kubectl(kube_server, namespace, "apply", "-f", "-", input=DEPLOYMENT))
    deploy = json.loads(ok(kubectl(kube_server, namespace, "get", "deploy", "web", "-o", "json")))
    spec = deploy["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}
    assert (spec["revisionHistoryLimit"], spec["progressDeadlineSeconds"]) == (10, 600)
    pod_spec = spec["template"]["spec"]
    assert (pod_spec["restartPolicy"], pod_spec["dnsPolicy"], pod_spec["terminationGracePeriodSeconds"]) == (
        "Always", "ClusterFirst", 30)
    container = pod_spec["containers"][0]
    assert (container["imagePullPolicy"], container["terminationMessagePath"]) == ("IfNotPresent",
                                                                                  "/dev/termination-log")
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert deploy["metadata"]["generation"] == 1
    ok(kubectl(kube_server, namespace, "create", "service", "clusterip", "web", "--tcp=80"))
    svc = json.loads(ok(kubectl(kube_server, namespace, "get", "svc", "web", "-o", "json")))
    assert svc["spec"]["ports"][0]["targetPort"] == 80
    assert (svc["spec"]["type"], svc["spec"]["sessionAffinity"]) == ("ClusterIP", "None")


def test_validation_messages(kube_server, namespace):
    mismatch = DEPLOYMENT.replace("labels: {app: web}", "labels: {app: other}")
    err = failed(kubectl(kube_server, namespace, "apply", "-f", "-", input=mismatch))
    assert ('The Deployment "web" is invalid: spec.template.metadata.labels: Invalid value: '
            'map[string]string{"app":"other"}: `selector` does not match template `labels`') in err
    bad_name = DEPLOYMENT.replace("name: web\n", "name: Web_1\n", 1)
    err = failed(kubectl(kube_server, namespace, "apply", "-f", "-", input=bad_name))
    assert 'metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 subdomain' in err
    no_image = DEPLOYMENT.replace("        image: nginx:1.25\n", "")
    err = failed(kubectl(kube_server, namespace, "create", "-f", "-", input=no_image))
    assert "spec.template.spec.containers[0].image: Required value" in err
    assert ok(kubectl(kube_server, namespace, "get", "deploy", "-o", "name")) == ""  # nothing stored


def test_wide_tables(kube_server, namespace):
    ok(kubectl(kube_server, namespace, "apply", "-f", "-", input=DEPLOYMENT))
    lines = ok(kubectl(kube_server, namespace, "get", "deploy", "-o", "wide")).splitlines()
    assert lines[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]
    assert lines[1].split()[:2] == ["web", "0/2"] and lines[1].split()[-3:] == ["nginx", "nginx:1.25", "app=web"]
    ok(kubectl(kube_server, namespace, "create", "job", "pi", "--image=perl", "--", "perl", "-e", "1"))
    header = ok(kubectl(kube_server, namespace, "get", "jobs")).splitlines()[0].split()
    assert header == ["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"]
    ok(kubectl(kube_server, namespace, "create", "cronjob", "hello", "--image=busybox", "--schedule=*/5 * * * *"))
    row = ok(kubectl(kube_server, namespace, "get", "cj")).splitlines()[1].split()
    assert row[:2] == ["hello", "*/5"] and row[6:9] == ["<none>", "False", "0"]


def test_explain_reads_the_openapi_documents(kube_server):
    out = ok(kube_server.kubectl("explain", "deployment.spec.strategy"))
    assert "rollingUpdate\t<RollingUpdateDeployment>" in out and "type\t<string>" in out
    out = ok(kube_server.kubectl("explain", "pods.spec.containers.ports.containerPort"))
    assert "<integer>" in out


def test_strategic_merge_json_and_merge_patches(kube_server, namespace):
    ok(kubectl(kube_server, namespace, "apply", "-f", "-", input=DEPLOYMENT))
    sidecar = '{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"busybox"}]}}}}'
    ok(kubectl(kube_server, namespace, "patch", "deploy", "web", "-p", sidecar))
    names = ok(kubectl(kube_server, namespace, "get", "deploy", "web", "-o",
                       "jsonpath={.spec.template.spec.containers[*].name}"))
    assert names == "nginx side"  # merged by name, not replaced
    delete = '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","$patch":"delete"}]}}}}'
    ok(kubectl(kube_server, namespace, "patch", "deploy", "web", "-p", delete))
    ok(kubectl(kube_server, namespace, "patch", "deploy", "web", "--type=json",
               "-p", '[{"op":"test","path":"/spec/replicas","value":2},{"op":"replace","path":"/spec/replicas","value":4}]'))
    err = failed(kubectl(kube_server, namespace, "patch", "deploy", "web", "--type=json",
                         "-p", '[{"op":"test","path":"/spec/replicas","value":9}]'))
    assert "test failed" in err
    ok(kubectl(kube_server, namespace, "patch", "deploy", "web", "--type=merge", "-p", '{"metadata":{"labels":{"a":"b"}}}'))
    got = ok(kubectl(kube_server, namespace, "get", "deploy", "web", "-o",
                     "jsonpath={.spec.template.spec.containers[*].name} {.spec.replicas} {.metadata.labels.a}"))
    assert got == "side 4 b"


def test_server_side_apply_conflict_and_force(kube_server, namespace):
    ok(kubectl(kube_server, namespace, "apply", "--server-side", "--field-manager=alice", "-f", "-", input=DEPLOYMENT))
    changed = DEPLOYMENT.replace("replicas: 2", "replicas: 3")
    err = failed(kubectl(kube_server, namespace, "apply", "--server-side", "--field-manager=bob", "-f", "-",
                         input=changed))
    assert 'Apply failed with 1 conflict: conflict with "alice": .spec.replicas' in err
    ok(kubectl(kube_server, namespace, "apply", "--server-side", "--field-manager=bob", "--force-conflicts",
               "-f", "-", input=changed))
    deploy = json.loads(ok(kubectl(kube_server, namespace, "get", "deploy", "web", "-o", "json",
                                   "--show-managed-fields")))
    assert deploy["spec"]["replicas"] == 3
    owners = {e["manager"]: e["fieldsV1"] for e in deploy["metadata"]["managedFields"]}
    assert "f:replicas" in owners["bob"]["f:spec"] and "f:replicas" not in owners["alice"]["f:spec"]


def test_typed_creates_send_protobuf(kube_server, namespace):
    ok(kubectl(kube_server, namespace, "create", "configmap", "cfg", "--from-literal=a=1", "--from-literal=b=2"))
    ok(kubectl(kube_server, namespace, "create", "secret", "generic", "s", "--from-literal=pw=hunter2"))
    ok(kubectl(kube_server, namespace, "create", "deployment", "zero", "--image=nginx", "--replicas=0"))
    assert ok(kubectl(kube_server, namespace, "get", "cm", "cfg", "-o", "jsonpath={.data.b}")) == "2"
    assert ok(kubectl(kube_server, namespace, "get", "secret", "s", "-o", "jsonpath={.data.pw}")) == "aHVudGVyMg=="
    assert ok(kubectl(kube_server, namespace, "get", "deploy", "zero", "-o", "jsonpath={.spec.replicas}")) == "0"


def test_python_client_strict_field_validation(kube_server, namespace):
    k8s = pytest.importorskip("kubernetes")

    api = k8s.config.new_client_from_config(str(kube_server.kubeconfig))
    try:
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "redis", "label": {"app": "x"}},
                "spec": {"containers": [{"name": "redis", "image": "redis", "ports": [{"containersPort": 6379}]}]}}
        # the typed methods check fields client-side; a raw call sends the body as written
        request = api.param_serialize(
            "POST", "/api/v1/namespaces/{namespace}/pods", path_params={"namespace": namespace},
            query_params=[("fieldValidation", "Strict")], body=body, auth_settings=["BearerToken"],
            header_params={"Content-Type": "application/json", "Accept": "application/json"})
        response = api.call_api(*request)
        response.read()
        assert response.status == 400
        status = json.loads(response.data)
        assert status["reason"] == "BadRequest"
        assert status["message"].endswith('strict decoding error: unknown field "metadata.label", '
                                          'unknown field "spec.containers[0].ports[0].containersPort"')
        assert k8s.client.CoreV1Api(api).list_namespaced_pod(namespace).items == []
    finally:
        api.close()


EVERY_KIND = """apiVersion: v1
kind: LimitRange
metadata: {name: lr}
spec:
  limits:
  - type: Container
    max: {cpu: "2"}
    defaultRequest: {cpu: 100m}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: q}
spec:
  hard: {pods: "10", requests.cpu: "4", limits.memory: 8Gi}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv1}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/pv1}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot}
---
apiVersion: v1
kind: Endpoints
metadata: {name: ext}
subsets:
- addresses: [{ip: 10.1.1.1}, {ip: 10.1.1.2}]
  ports: [{port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ext-1}
addressType: IPv4
endpoints: [{addresses: [10.1.1.1]}]
ports: [{port: 80}]
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: lock}
spec: {holderIdentity: me, leaseDurationSeconds: 15}
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {nodeSelector: {no-such: node}, containers: [{name: a, image: busybox}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 0  # the quota's pod count below stays 0 whatever the server's controllers run
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: a, image: busybox}]}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc1}
spec:
  replicas: 0  # the server's controllers would make a pod, moving the quota's pod count
  template:
    metadata: {labels: {app: rc1}}
    spec: {containers: [{name: a, image: busybox}]}
---
apiVersion: v1
kind: Event
metadata: {name: ev1}
involvedObject: {kind: Pod, name: webpod}
reason: Testing
message: hello there
type: Normal
count: 2
firstTimestamp: "2026-11-22T17:00:00Z"
lastTimestamp: "2026-11-22T17:40:00Z"
source: {component: me}
"""


def test_every_kind_applies_and_prints_its_columns(kube_server, namespace):
    out = ok(kubectl(kube_server, namespace, "apply", "-f", "-", input=EVERY_KIND.replace("pv1", namespace)))
    assert out.count("created") == 14
    headers = {
        "limits": "NAME CREATED AT", "quota": "NAME AGE REQUEST LIMIT",
        "pvc": "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE",
        "sa": "NAME SECRETS AGE", "ep": "NAME ENDPOINTS AGE", "endpointslices": "NAME ADDRESSTYPE PORTS ENDPOINTS AGE",
        "leases": "NAME HOLDER AGE", "hpa": "NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE",
        "ds": "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE", "sts": "NAME READY AGE",
        "rc": "NAME DESIRED CURRENT READY AGE", "events": "LAST SEEN TYPE REASON OBJECT MESSAGE",
    }
    for kind, header in headers.items():
        lines = ok(kubectl(kube_server, namespace, "get", kind)).splitlines()
        assert " ".join(lines[0].split()) == header, kind
    assert ok(kubectl(kube_server, namespace, "get", "quota", "q", "--no-headers")).split()[2:] == [
        "pods:", "0/10,", "requests.cpu:", "0/4", "limits.memory:", "0/8Gi"]
    assert ok(kubectl(kube_server, namespace, "get", "ep", "ext", "--no-headers")).split()[1] == "10.1.1.1:80,10.1.1.2:80"
    assert ok(kubectl(kube_server, namespace, "get", "events", "--no-headers")).split()[1:4] == [
        "Normal", "Testing", "pod/webpod"]
    pv = ok(kube_server.kubectl("get", "pv", namespace, "--no-headers")).split()
    assert pv[1:5] == ["1Gi", "RWO", "Retain", "Pending"]
    ok(kube_server.kubectl("delete", "pv", namespace))
    assert ok(kube_server.kubectl("get", "pc", "high", "--no-headers")).split()[1:3] == ["1000", "false"]
    ok(kube_server.kubectl("delete", "pc", "high"))
