"""skiff kubectl's client-side schema check (kube-openapi's messages) over the server's /openapi/v2 definitions."""

import pytest

from skiff.cli.kubectl import schemacheck
from skiff.cluster.api import openapi

SSAR = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": "list", "resource": "pods"}}}


@pytest.fixture(scope="module")
def definitions():
    return openapi.openapi_v2()["definitions"]


def test_a_valid_review_passes(definitions):
    assert schemacheck.validate(definitions, SSAR) == []


def test_unknown_missing_and_mistyped_fields(definitions):
    bad = {**SSAR, "specs": {}, "spec": None}
    assert schemacheck.validate(definitions, bad) == [
        'ValidationError(SelfSubjectAccessReview): unknown field "specs" in '
        'io.k8s.api.authorization.v1.SelfSubjectAccessReview',
        'ValidationError(SelfSubjectAccessReview): missing required field "spec" in '
        'io.k8s.api.authorization.v1.SelfSubjectAccessReview']
    sar = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
           "spec": {"user": "alice", "groups": "devs", "extra": {"k": "v"}, "resourceAttributes": {"bogus": 1}}}
    assert schemacheck.validate(definitions, sar) == [
        'ValidationError(SubjectAccessReview.spec.extra.k): invalid type for '
        'io.k8s.api.authorization.v1.SubjectAccessReviewSpec.extra: got "string", expected "array"',
        'ValidationError(SubjectAccessReview.spec.groups): invalid type for '
        'io.k8s.api.authorization.v1.SubjectAccessReviewSpec.groups: got "string", expected "array"',
        'ValidationError(SubjectAccessReview.spec.resourceAttributes): unknown field "bogus" in '
        'io.k8s.api.authorization.v1.ResourceAttributes']


def test_scalar_types_and_references(definitions):
    """The messages kubectl 1.32 prints for this Pod inside a List (checked side by side)."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": "web",
           "spec": {"containers": [{"name": "c", "image": "x", "tty": "yes", "ports": [{"containerPort": 8.5}],
                                    "args": [None]}], "nodeSelector": {"a": 1},
                    "priority": True}}
    assert schemacheck.validate(definitions, pod) == [
        'ValidationError(Pod.metadata): invalid type for io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta: '
        'got "string", expected "map"',
        'ValidationError(Pod.spec.containers[0].args): unknown object type "nil" in Pod.spec.containers[0].args[0]',
        'ValidationError(Pod.spec.containers[0].tty): invalid type for io.k8s.api.core.v1.Container.tty: '
        'got "string", expected "boolean"',
        'ValidationError(Pod.spec.priority): invalid type for io.k8s.api.core.v1.PodSpec.priority: '
        'got "boolean", expected "integer"']


def test_unknown_kinds_are_not_checked(definitions):
    assert schemacheck.validate(definitions, {"apiVersion": "example.com/v1", "kind": "Widget", "x": 1}) == []


def test_message_aggregates_like_go():
    one = schemacheck.message("sar.yaml", ["ValidationError(X): a"])
    assert one == ('error validating "sar.yaml": error validating data: ValidationError(X): a; '
                   "if you choose to ignore these errors, turn validation off with --validate=false")
    assert ": [ValidationError(X): a, ValidationError(X): b];" in schemacheck.message("f", ["ValidationError(X): a",
                                                                                          "ValidationError(X): b"])
