import base64

import pytest

from skiff.cluster.kubelet.env import ConfigError, build_env, referenced

POD = {"metadata": {"name": "p", "namespace": "ns", "uid": "u", "labels": {"tier": "db"}},
       "spec": {"nodeName": "n1", "serviceAccountName": "default"}}
CM = {"data": {"APPLOGLEVEL": "info", "APPDATADIR": "/var/data", "bad-name!": "x"}}
SECRET = {"data": {"password": base64.b64encode(b"s3cret").decode()}}


def test_value_from_configmap_secret_and_fields():
    c = {"env": [
        {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "cm-appvars", "key": "APPLOGLEVEL"}}},
        {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "TIER", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['tier']"}}},
        {"name": "MSG", "value": "level=$(LEVEL) on $(NODE)"}]}
    assert referenced(c) == ({"cm-appvars"}, {"db"})
    env = build_env(c, POD, {"cm-appvars": CM}, {"db": SECRET}, "10.0.0.1", "172.17.0.5")
    assert env == {"LEVEL": "info", "PW": "s3cret", "NODE": "n1", "IP": "172.17.0.5", "TIER": "db",
                   "MSG": "level=info on n1"}


def test_env_from_with_prefix_skips_invalid_names_and_env_wins():
    c = {"envFrom": [{"configMapRef": {"name": "cm"}, "prefix": "CFG_"}],
         "env": [{"name": "CFG_APPLOGLEVEL", "value": "debug"}]}
    env = build_env(c, POD, {"cm": CM}, {})
    assert env == {"CFG_APPLOGLEVEL": "debug", "CFG_APPDATADIR": "/var/data"}


def test_missing_objects_and_keys():
    c = {"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k"}}}]}
    with pytest.raises(ConfigError, match='configmap "nope" not found'):
        build_env(c, POD, {"nope": None}, {})
    c = {"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}]}
    with pytest.raises(ConfigError, match="couldn't find key k in ConfigMap ns/cm"):
        build_env(c, POD, {"cm": CM}, {})
    optional = {"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k", "optional": True}}}],
                "envFrom": [{"secretRef": {"name": "gone", "optional": True}}]}
    assert build_env(optional, POD, {"cm": CM}, {"gone": None}) == {}


def test_resource_field_ref_divisor_rounds_up_and_defaults_to_allocatable():
    c = {"resources": {"limits": {"memory": "64Mi"}, "requests": {"cpu": "250m"}},
         "env": [{"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
                 {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu"}}},
                 {"name": "CPUM", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu", "divisor": "1m"}}},
                 {"name": "LCPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}]}
    env = build_env(c, POD, {}, {}, node_allocatable={"cpu": "4", "memory": "8Gi"})
    assert env == {"MEM": "64", "CPU": "1", "CPUM": "250", "LCPU": "4"}
