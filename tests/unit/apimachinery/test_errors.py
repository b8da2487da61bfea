"""Status errors worded as kube-apiserver words them."""

from skiff.cluster.apimachinery import errors
from skiff.cluster.apimachinery import fielderrors as fe


def test_not_found_core_and_group():
    err = errors.not_found("pods", "web")
    assert (err.code, err.reason, err.message) == (404, "NotFound", 'pods "web" not found')
    assert err.status()["details"] == {"name": "web", "kind": "pods"}
    err = errors.not_found("deployments", "web", "apps")
    assert err.message == 'deployments.apps "web" not found'
    assert err.status()["details"] == {"name": "web", "group": "apps", "kind": "deployments"}


def test_status_shape():
    body = errors.already_exists("configmaps", "cfg").status()
    assert body == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": 'configmaps "cfg" already exists', "reason": "AlreadyExists",
                    "details": {"name": "cfg", "kind": "configmaps"}, "code": 409}


def test_conflict_message():
    err = errors.conflict("deployments", "web", group="apps")
    assert err.message == ('Operation cannot be fulfilled on deployments.apps "web": the object has been '
                           'modified; please apply your changes to the latest version and try again')
    assert err.code == 409 and err.reason == "Conflict"


def test_invalid_one_and_many_causes():
    one = errors.invalid("Pod", "web", [fe.required("spec.containers[0].image")])
    assert one.code == 422 and one.reason == "Invalid"
    assert one.message == 'Pod "web" is invalid: spec.containers[0].image: Required value'
    assert one.status()["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.containers[0].image"}]
    many = errors.invalid("Deployment", "web", [fe.required("spec.selector"),
                                                fe.invalid("spec.replicas", -1, "must be greater than or equal to 0")],
                          group="apps")
    assert many.message == ('Deployment.apps "web" is invalid: [spec.selector: Required value, '
                            'spec.replicas: Invalid value: -1: must be greater than or equal to 0]')


def test_field_error_bodies():
    assert fe.not_supported("spec.restartPolicy", "Sometimes", ["Always", "OnFailure", "Never"])["message"] == \
        'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'
    assert fe.invalid("metadata.name", "Web", "bad")["message"] == 'Invalid value: "Web": bad'
    assert fe.forbidden("spec", "nope")["message"] == "Forbidden: nope"
    assert fe.duplicate("spec.containers[1].name", "a")["message"] == 'Duplicate value: "a"'


def test_apply_conflict_message():
    err = errors.apply_conflict([('"kubectl-scale" using apps/v1', ".spec.replicas")])
    assert err.code == 409 and err.reason == "Conflict"
    assert err.message == 'Apply failed with 1 conflict: conflict with "kubectl-scale" using apps/v1: .spec.replicas'
    assert err.status()["details"]["causes"][0] == {
        "reason": "FieldManagerConflict", "message": 'conflict with "kubectl-scale" using apps/v1',
        "field": ".spec.replicas"}
    many = errors.apply_conflict([('"entry" using apiextensions.k8s.io/v1', ".spec.versions"),
                                  ('"entry" using apiextensions.k8s.io/v1', ".metadata.annotations.x")])
    assert many.message == ('Apply failed with 2 conflicts: conflicts with "entry" using apiextensions.k8s.io/v1:\n'
                            '- .spec.versions\n- .metadata.annotations.x')


def test_other_codes():
    assert errors.bad_request("x").code == 400
    assert errors.expired("too old resource version: 1 (5)").status()["reason"] == "Expired"
    assert errors.gone("x").code == 410
    assert errors.unauthorized().status()["message"] == "Unauthorized"
    assert errors.forbidden("pods", "", "unable to create new content in namespace x because it is being "
                            "terminated").message.startswith("pods is forbidden: unable")
    assert errors.method_not_supported("pods", "deletecollection").code == 405
    assert errors.too_large("limit is 3145728").code == 413
    assert errors.unsupported_media_type().code == 415
