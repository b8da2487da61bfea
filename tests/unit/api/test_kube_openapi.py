"""The OpenAPI documents kubectl reads (explain, apply, field validation support)."""

from skiff.cluster.api import openapi


def _patch_ops(doc, gvk):
    for path, item in doc["paths"].items():
        op = item.get("patch")
        if op and op.get("x-kubernetes-group-version-kind") == gvk:
            yield path, op


def test_v3_index_lists_every_group_version():
    index = openapi.openapi_v3_index()["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/batch/v1", "apis/autoscaling/v1", "apis/autoscaling/v2",
            "apis/coordination.k8s.io/v1", "apis/discovery.k8s.io/v1", "apis/events.k8s.io/v1",
            "apis/scheduling.k8s.io/v1"} <= set(index)
    url = index["apis/apps/v1"]["serverRelativeURL"]
    assert url.startswith("/openapi/v3/apis/apps/v1?hash=")


def test_v3_document_has_kinds_and_field_validation():
    doc = openapi.openapi_v3("apis/apps/v1")
    assert doc["openapi"].startswith("3.")
    schemas = doc["components"]["schemas"]
    deploy = schemas["io.k8s.api.apps.v1.Deployment"]
    assert deploy["x-kubernetes-group-version-kind"] == [{"group": "apps", "kind": "Deployment", "version": "v1"}]
    assert deploy["properties"]["spec"]["allOf"] == [{"$ref": "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec"}]
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in schemas  # referenced types come along
    ops = list(_patch_ops(doc, {"group": "apps", "kind": "Deployment", "version": "v1"}))
    assert ops and ops[0][0] == "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"
    assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in ops[0][1]["parameters"])
    assert openapi.openapi_v3("/openapi/v3/api/v1") is not None
    assert openapi.openapi_v3("apis/nothing/v1") is None


def test_v3_keeps_patch_strategies_and_types():
    schemas = openapi.openapi_v3("api/v1")["components"]["schemas"]
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["type"] == "array"
    port = schemas["io.k8s.api.core.v1.ContainerPort"]["properties"]["containerPort"]
    assert port == {"description": port["description"], "format": "int32", "type": "integer"}
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] == {"oneOf": [{"type": "integer"},
                                                                                    {"type": "string"}]}
    assert schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"] == {"oneOf": [{"type": "string"},
                                                                                 {"type": "number"}]}
    v2 = openapi.openapi_v2()["definitions"]
    assert v2["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] == {"type": "string", "format": "int-or-string"}
    assert v2["io.k8s.apimachinery.pkg.api.resource.Quantity"] == {"type": "string"}
    assert "enum" not in schemas["io.k8s.api.core.v1.Pod"]["properties"]["apiVersion"]


def test_v2_document():
    doc = openapi.openapi_v2()
    assert doc["swagger"] == "2.0"
    assert doc["definitions"]["io.k8s.api.core.v1.Pod"]["properties"]["spec"]["$ref"] == \
        "#/definitions/io.k8s.api.core.v1.PodSpec"
    ops = list(_patch_ops(doc, {"group": "", "kind": "Pod", "version": "v1"}))
    assert ops[0][0] == "/api/v1/namespaces/{namespace}/pods/{name}"
    assert "/api/v1/nodes/{name}" in doc["paths"]
    assert "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale" in doc["paths"]


def test_patch_operations_accept_strategic_merge():
    # kubectl's client-side apply uses the v3 schema only where PATCH takes strategic merge patches
    doc = openapi.openapi_v3("apis/apps/v1")
    op = dict(_patch_ops(doc, {"group": "apps", "kind": "Deployment", "version": "v1"}))[
        "/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    assert "application/strategic-merge-patch+json" in op["requestBody"]["content"]
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.Patch" in doc["components"]["schemas"]
