"""kubectl's client-side validation of create-only kinds, which reads /openapi/v2 as protobuf.

kubectl asks the v3 document whether the kind's PATCH takes fieldValidation; review kinds have no
PATCH, so it falls back to /openapi/v2 (protobuf), finds no PATCH there either, lists CRDs to
rule out a custom kind, and validates the object itself against the v2 schema.
"""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml

from tests.integration.kubectl.helpers import assert_same, skiff
from tests.support.procs import ok

pytestmark = pytest.mark.interop

KUBECTL_V2 = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
VALIDATING = 'error: error validating "STDIN": error validating data: '
IGNORE_HINT = "; if you choose to ignore these errors, turn validation off with --validate=false\n"

SSAR = """apiVersion: authorization.k8s.io/v1
kind: SelfSubjectAccessReview
spec:
  resourceAttributes:
    verb: list
    resource: pods
"""
SAR = """apiVersion: authorization.k8s.io/v1
kind: SubjectAccessReview
spec:
  user: alice
  resourceAttributes:
    verb: get
    resource: pods
    namespace: default
"""
LSAR = SAR.replace("kind: SubjectAccessReview\n", "kind: LocalSubjectAccessReview\nmetadata:\n  namespace: default\n")
SSRR = """apiVersion: authorization.k8s.io/v1
kind: SelfSubjectRulesReview
spec:
  namespace: default
"""
SSR = """apiVersion: authentication.k8s.io/v1
kind: SelfSubjectReview
"""
REVIEWS = [
    ("selfsubjectaccessreview.authorization.k8s.io", SSAR, lambda s: s["allowed"] is True),
    ("subjectaccessreview.authorization.k8s.io", SAR, lambda s: s["allowed"] is False),
    ("localsubjectaccessreview.authorization.k8s.io", LSAR, lambda s: s["allowed"] is False),
    ("selfsubjectrulesreview.authorization.k8s.io", SSRR,
     lambda s: {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]} in s["resourceRules"]),
    ("selfsubjectreview.authentication.k8s.io", SSR, lambda s: s["userInfo"]["username"] == "system:admin"),
]


@pytest.mark.parametrize(("resource", "manifest", "status_ok"), REVIEWS, ids=[r[0].split(".")[0] for r in REVIEWS])
def test_review_kinds_create_as_against_kube_apiserver(kube_server, resource, manifest, status_ok):
    done = kube_server.kubectl("create", "-f", "-", input=manifest)
    assert (done.returncode, done.stdout.decode(), done.stderr) == (0, f"{resource}/<unknown> created\n", b"")
    shown = yaml.safe_load(ok(kube_server.kubectl("create", "-f", "-", "-o", "yaml", input=manifest)))
    assert status_ok(shown["status"]), shown
    assert shown["metadata"] == ({"creationTimestamp": None, "namespace": "default"} if "metadata:" in manifest
                                 else {"creationTimestamp": None})
    for output in ((), ("-o", "yaml"), ("-o", "json"), ("-o", "name")):
        assert_same(kube_server, "create", "-f", "-", *output, input=manifest, mask=False)


@pytest.mark.parametrize(("manifest", "message"), [
    (SSAR + "    bogus: 1\n", 'ValidationError(SelfSubjectAccessReview.spec.resourceAttributes): unknown field '
                                 '"bogus" in io.k8s.api.authorization.v1.ResourceAttributes'),
    (SSAR.replace("spec:", "specs:"), 'ValidationError(SelfSubjectAccessReview): unknown field "specs" in '
                                      'io.k8s.api.authorization.v1.SelfSubjectAccessReview, ValidationError('
                                      'SelfSubjectAccessReview): missing required field "spec" in '
                                      'io.k8s.api.authorization.v1.SelfSubjectAccessReview'),
    (SAR.replace("  user: alice\n", "  user: alice\n  groups: devs\n"),
     'ValidationError(SubjectAccessReview.spec.groups): invalid type for '
     'io.k8s.api.authorization.v1.SubjectAccessReviewSpec.groups: got "string", expected "array"'),
], ids=["unknown-field", "missing-required", "wrong-type"])
def test_client_side_validation_refuses_bad_review(kube_server, manifest, message):
    for validate in ((), ("--validate=strict",), ("--validate=true",)):
        assert_same(kube_server, "create", "-f", "-", *validate, input=manifest, mask=False)  # skiff kubectl too
        refused = kube_server.kubectl("create", "-f", "-", *validate, input=manifest)
        assert refused.returncode == 1 and refused.stdout == b"", refused
        got = refused.stderr.decode()
        assert got.startswith(VALIDATING) and got.endswith(IGNORE_HINT), got
        # several errors come as a [list], in kube-openapi's map order: compare them as a set
        errors = got[len(VALIDATING):-len(IGNORE_HINT)]
        expected = message.split(", ValidationError")
        if len(expected) > 1:
            assert errors.startswith("[") and errors.endswith("]"), got
            errors = errors[1:-1]
        assert set(errors.split(", ValidationError")) == set(expected), got


def test_validate_false_sends_the_object_as_written(kube_server):
    done = kube_server.kubectl("create", "-f", "-", "--validate=false", "-o", "yaml", input=SSAR + "    bogus: 1\n")
    shown = yaml.safe_load(ok(done))
    assert shown["status"]["allowed"] is True
    for validate in ("--validate=false", "--validate=ignore", "--validate=warn"):
        ours = skiff(kube_server, "create", "-f", "-", validate, input=SSAR + "    bogus: 1\n")
        assert (ours.returncode, ours.stdout) == (0, b"selfsubjectaccessreview.authorization.k8s.io/<unknown> created\n")


def test_kubectl_downloads_the_protobuf_document(kube_server, tmp_path):
    env = {"KUBECACHEDIR": str(tmp_path / "cache")}
    done = kube_server.kubectl("create", "-f", "-", "-v=7", input=SSAR + "    bogus: 1\n", env=env)
    log = done.stderr.decode()
    at = log.index(f"GET {kube_server.url}/openapi/v2")
    request, response = log[at:].split("Response Status:", 1)
    assert f"Accept: {KUBECTL_V2}" in request and response.lstrip().startswith("200 OK"), log
    assert "failed to download openapi" not in log and "unknown field \"bogus\"" in log
    assert f"GET {kube_server.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions" in log


def test_apply_of_ordinary_kinds_stays_on_v3(kube_server, namespace, tmp_path):
    env = {"KUBECACHEDIR": str(tmp_path / "cache")}
    manifest = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n  namespace: {namespace}\ndata:\n  a: b\n"
    done = kube_server.kubectl("apply", "-f", "-", "-v=7", input=manifest, env=env)
    assert done.returncode == 0 and done.stdout == b"configmap/plain created\n", done.stderr[-3000:]
    log = done.stderr.decode()
    assert "/openapi/v3/api/v1?hash=" in log and "/openapi/v2" not in log
    refused = kube_server.kubectl("apply", "-f", "-", input=manifest.replace("\ndata:", "\nbogus: 1\ndata:"))
    assert refused.returncode == 1 and b'strict decoding error: unknown field "bogus"' in refused.stderr


def test_openapi_v2_negotiation_and_caching(kube_server):
    status, headers, proto = kube_server.request("GET", "/openapi/v2", headers={"Accept": KUBECTL_V2})
    assert status == 200
    assert headers["Content-Type"] == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    assert proto.startswith(b"\n\x032.0")  # Document.swagger, field 1
    status, json_headers, body = kube_server.request("GET", "/openapi/v2")
    assert status == 200 and json_headers["Content-Type"] == "application/json"
    assert json.loads(body)["swagger"] == "2.0"
    etag = '"' + hashlib.sha512(body).hexdigest().upper() + '"'
    assert headers["Etag"] == json_headers["Etag"] == etag  # one ETag for both forms, from the JSON
    assert headers["Vary"] == "Accept" and "Last-Modified" in headers
    status, _, empty = kube_server.request("GET", "/openapi/v2", headers={"Accept": KUBECTL_V2, "If-None-Match": etag})
    assert (status, empty) == (304, b"")
    status, _, _ = kube_server.request("GET", "/openapi/v2", headers={"Accept": "text/html"})
    assert status == 406


def test_crds_are_listed_but_cannot_be_made(kube_server):
    listed = kube_server.kubectl("get", "crd")
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, b"", b"No resources found\n")
    crd = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n"
           "spec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n"
           "  versions: [{name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object}}}]\n")
    refused = kube_server.kubectl("create", "-f", "-", input=crd)
    assert refused.returncode == 1 and b"(MethodNotAllowed)" in refused.stderr, refused.stderr


def test_a_list_file_is_validated_client_side_and_round_trips(kube_server, namespace):
    """kubectl validates a `kind: List` (what `get -o yaml` writes) itself, item by item, with /openapi/v2."""
    ns = ("-n", namespace)
    listed = f"""apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {{name: a, namespace: {namespace}}}
  data: {{x: "1"}}
- apiVersion: v1
  kind: Service
  metadata: {{name: s, namespace: {namespace}}}
  spec:
    ports:
    - port: 80
"""
    done = kube_server.kubectl("create", "-f", "-", input=listed)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"configmap/a created\nservice/s created\n", b"")
    refused = kube_server.kubectl("create", "-f", "-", input=listed.replace("- port: 80", "- prot: 80"))
    message = refused.stderr.decode()
    assert refused.returncode == 1 and message.startswith(VALIDATING + "["), message
    assert 'ValidationError(Service.spec.ports[0]): unknown field "prot" in io.k8s.api.core.v1.ServicePort' in message
    assert 'ValidationError(Service.spec.ports[0]): missing required field "port" in io.k8s.api.core.v1.ServicePort' \
        in message
    exported = ok(kube_server.kubectl("get", "configmap/a", "service/s", "-o", "yaml", *ns))
    again = kube_server.kubectl("apply", "-f", "-", input=exported)
    assert again.returncode == 0 and again.stdout == b"configmap/a configured\nservice/s configured\n", again.stderr
