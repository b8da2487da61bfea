"""Decoding checks before validation: wrong types and unknown fields, with the seeds' misspellings."""

import pytest

from skiff.cluster.api import registry, strategy
from skiff.cluster.apimachinery.errors import ApiError

PODS = registry.find("", "v1", "pods")
DEPLOY = registry.find("apps", "v1", "deployments")

# seed 001's pod: `label:` under metadata and `containersPort:`
SEED_POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "redis-php", "label": {"name": "redis-php"}},
            "spec": {"containers": [
                {"name": "frontend", "image": "kubeguide/guestbook-php-frontend:localredis",
                 "ports": [{"containersPort": 80}]},
                {"name": "redis-php", "image": "kubeguide/redis-master", "ports": [{"containersPort": 6379}]}]}}


def test_unknown_fields_paths():
    assert strategy.unknown_fields(PODS, SEED_POD) == [
        "metadata.label", "spec.containers[0].ports[0].containersPort", "spec.containers[1].ports[0].containersPort"]


def test_strict_rejects_with_kubernetes_wording():
    with pytest.raises(ApiError) as info:
        strategy.decode_check(PODS, SEED_POD, "Strict")
    assert info.value.code == 400 and info.value.reason == "BadRequest"
    assert info.value.message == (
        'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "metadata.label", '
        'unknown field "spec.containers[0].ports[0].containersPort", '
        'unknown field "spec.containers[1].ports[0].containersPort"')


def test_warn_returns_warnings_and_ignore_none():
    warnings = strategy.decode_check(PODS, SEED_POD, "Warn")
    assert warnings[0] == 'unknown field "metadata.label"'
    assert strategy.decode_check(PODS, SEED_POD, "Ignore") == []


def test_seed_images_typo():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "redis-master"},
           "spec": {"containers": [{"name": "redis-master", "images": "kubeguide/redis-master"}]}}
    assert strategy.unknown_fields(PODS, pod) == ["spec.containers[0].images"]


def test_maps_and_free_form_fields_accept_any_key():
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x", "labels": {"anything": "v"},
                                                           "annotations": {"a/b": "c"}},
           "spec": {"containers": [{"name": "c", "image": "i", "resources": {"limits": {"cpu": "1"}}}],
                    "nodeSelector": {"zone": "north"}}}
    assert strategy.unknown_fields(PODS, obj) == []


@pytest.mark.parametrize("obj,message", [
    ({"spec": {"replicas": "3"}},
     "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"),
    ({"spec": {"template": {"spec": {"containers": {"name": "x"}}}}},
     "json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container"),
    ({"metadata": {"labels": {"a": 1}}},
     "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"),
])
def test_type_errors_are_400(obj, message):
    with pytest.raises(ApiError) as info:
        strategy.decode_check(DEPLOY, obj, "Ignore")
    assert info.value.code == 400
    assert info.value.message == f'Deployment in version "v1" cannot be handled as a Deployment: {message}'


def test_int_or_string_and_quantities_accept_both():
    obj = {"spec": {"strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"}},
                    "template": {"spec": {"containers": [{"name": "c", "resources": {"limits": {"cpu": 1,
                                                                                                  "memory": "1Gi"}}}]}}}}
    assert strategy.decode_check(DEPLOY, obj, "Strict") == []


def test_bad_quantity_is_a_decode_error():
    obj = {"spec": {"containers": [{"name": "c", "image": "i", "resources": {"limits": {"cpu": "lots"}}}]}}
    with pytest.raises(ApiError) as info:
        strategy.decode_check(PODS, obj, "Strict")
    assert info.value.code == 400
    assert info.value.message == ('Pod in version "v1" cannot be handled as a Pod: quantities must match the '
                                  "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
