"""explain's page from OpenAPI schemas (v3 components or v2 definitions), pure."""

import pytest

from skiff.cli.kubectl.explain import ExplainError, render, type_name

V2 = {
    "io.k8s.api.apps.v1.Deployment": {
        "description": "Deployment enables declarative updates for Pods and ReplicaSets.",
        "x-kubernetes-group-version-kind": [{"group": "apps", "kind": "Deployment", "version": "v1"}],
        "properties": {"spec": {"$ref": "#/definitions/io.k8s.api.apps.v1.DeploymentSpec",
                                "description": "Specification of the desired behavior of the Deployment."},
                       "kind": {"type": "string", "description": "Kind is a string value."}}},
    "io.k8s.api.apps.v1.DeploymentSpec": {
        "description": "DeploymentSpec is the specification of the desired behavior of the Deployment.",
        "required": ["selector"],
        "properties": {"replicas": {"type": "integer", "format": "int32", "description": "Number of desired pods."},
                       "selector": {"type": "object", "description": "Label selector.",
                                    "additionalProperties": {"type": "string"}},
                       "ports": {"type": "array", "items": {"type": "integer"}, "description": "Ports."},
                       "created": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Time",
                                   "description": "When."}}},
    "io.k8s.apimachinery.pkg.apis.meta.v1.Time": {"type": "string", "format": "date-time"},
}


def test_v2_definitions_render_like_v3():
    page = render(V2, "io.k8s.api.apps.v1.Deployment", "apps", "v1", "Deployment", ["spec"])
    assert page.startswith("GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n\nFIELD: spec <DeploymentSpec>\n\n")
    assert "    Specification of the desired behavior of the Deployment.\n    DeploymentSpec is the" in page
    assert "  selector\t<map[string]string> -required-\n    Label selector.\n" in page
    assert "  replicas\t<integer>\n" in page and "  ports\t<[]integer>\n" in page
    assert "  created\t<string>\n" in page
    with pytest.raises(ExplainError, match='field "nope" does not exist'):
        render(V2, "io.k8s.api.apps.v1.Deployment", "apps", "v1", "Deployment", ["spec", "nope"])


def test_type_names():
    assert type_name(V2, {"allOf": [{"$ref": "#/components/schemas/x.Foo"}]}) == "Foo"
    assert type_name(V2, {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}) \
        == "map[string][]string"
    assert type_name(V2, {"x-kubernetes-int-or-string": True}) == "IntOrString"
