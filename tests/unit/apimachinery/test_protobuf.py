"""Protobuf request bodies, as kubectl 1.32 sends them (captured from `kubectl create ...`)."""

import pytest

from skiff.cluster.apimachinery import protobuf
from skiff.cluster.apimachinery.errors import ApiError

# kubectl create configmap cfg --from-literal=a=1 --from-literal=b=two; create secret generic s1
# --from-literal=pw=hunter2; create deployment web --image=nginx:1.25 --replicas=0 --port=80; create job pi
# --image=perl -- perl -e 1; create cronjob hello --image=busybox --schedule="*/1 * * * *"; create service
# nodeport np --tcp=80:8080; create namespace dev
BODIES = {
    "configmap": (
        "6b3873000a0f0a0276311209436f6e6669674d617012270a130a0363666712001a0022002a0032003800420012060a01"
        "6112013112080a0162120374776f1a002200"
    ),
    "secret": (
        "6b3873000a0c0a027631120653656372657412250a120a02733112001a0022002a00320038004200120d0a0270771207"
        "68756e746572321a001a002200"
    ),
    "deployment": (
        "6b3873000a150a07617070732f7631120a4465706c6f796d656e7412bd010a1f0a0377656212001a0022002a00320038"
        "0042005a0a0a036170701203776562128b010800120c0a0a0a0361707012037765621a710a1c0a0012001a0022002a00"
        "3200380042005a0a0a036170701203776562125112330a056e67696e78120a6e67696e783a312e32352a00320a0a0010"
        "00185022002a0042006a007200800100880100900100a201001a00320042004a0052005800600068008201008a01009a"
        "0100c2010022020a00280038001a0c0800100018002000280038001a002200"
    ),
    "job": (
        "6b3873000a0f0a0862617463682f763112034a6f621284010a120a02706912001a0022002a0032003800420012643262"
        "0a100a0012001a0022002a00320038004200124e122b0a02706912047065726c1a047065726c1a022d651a01312a0042"
        "006a007200800100880100900100a201001a054e65766572320042004a0052005800600068008201008a01009a0100c2"
        "01001a082000280030003a001a002200"
    ),
    "cronjob": (
        "6b3873000a130a0862617463682f7631120743726f6e4a6f6212a7010a150a0568656c6c6f12001a0022002a00320038"
        "004200128b010a0b2a2f31202a202a202a202a1a002a7a0a150a0568656c6c6f12001a0022002a003200380042001261"
        "325f0a100a0012001a0022002a00320038004200124b12240a0568656c6c6f120762757379626f782a0042006a007200"
        "800100880100900100a201001a094f6e4661696c757265320042004a0052005800600068008201008a01009a0100c201"
        "001a001a002200"
    ),
    "service": (
        "6b3873000a0d0a02763112075365727669636512650a1d0a026e7012001a0022002a003200380042005a090a03617070"
        "12026e7012400a1b0a0738302d38303830120354435018502207080010903f1a00280012090a0361707012026e701a00"
        "22084e6f6465506f72743a00420052005a00600068001a020a001a002200"
    ),
    "namespace": (
        "6b3873000a0f0a02763112094e616d657370616365121b0a130a0364657612001a0022002a0032003800420012001a02"
        "0a001a002200"
    ),
}


def body(name):
    return bytes.fromhex(BODIES[name])


def test_configmap_and_secret():
    assert protobuf.decode_object(body("configmap")) == {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "creationTimestamp": None},
        "data": {"a": "1", "b": "two"}}
    secret = protobuf.decode_object(body("secret"))
    assert secret["data"] == {"pw": "aHVudGVyMg=="}  # bytes come back base64, as in JSON


def test_deployment_keeps_a_zero_pointer_field():
    obj = protobuf.decode_object(body("deployment"))
    assert (obj["apiVersion"], obj["kind"]) == ("apps/v1", "Deployment")
    assert obj["spec"]["replicas"] == 0  # --replicas=0 must not read as "unset"
    container = obj["spec"]["template"]["spec"]["containers"][0]
    assert container == {"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}], "resources": {}}
    assert obj["spec"]["selector"] == {"matchLabels": {"app": "web"}}


def test_job_cronjob_service_namespace():
    job = protobuf.decode_object(body("job"))
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["perl", "-e", "1"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    cj = protobuf.decode_object(body("cronjob"))
    assert cj["spec"]["schedule"] == "*/1 * * * *"
    svc = protobuf.decode_object(body("service"))
    assert svc["spec"]["ports"] == [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}]
    assert svc["spec"]["type"] == "NodePort" and "publishNotReadyAddresses" not in svc["spec"]
    assert protobuf.decode_object(body("namespace"))["metadata"]["name"] == "dev"


def test_bad_bodies_are_400():
    with pytest.raises(ApiError) as info:
        protobuf.decode_object(b"{}")
    assert info.value.code == 400
    with pytest.raises(ApiError):
        protobuf.decode_object(body("configmap")[:30])


def test_special_types():
    assert protobuf._duration(90 * 10**9) == "1m30s"
    assert protobuf._duration(3600 * 10**9) == "1h0m0s"
    assert protobuf._time({"seconds": 86400}, micro=False) == "1970-01-02T00:00:00Z"
    assert protobuf._time({}, micro=False) is None
