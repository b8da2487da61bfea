"""ServiceAccount admission's token volume, as Kubernetes 1.32 adds it (pure part)."""

from __future__ import annotations

import copy
import re

from skiff.cluster.apiserver.admission.service_account import (
    TOKEN_MOUNT_PATH,
    add_pull_secrets,
    mount_token,
    random_suffix,
    should_automount,
    token_volume,
)

MOUNT = {"name": "kube-api-access-abcde", "readOnly": True, "mountPath": TOKEN_MOUNT_PATH}


def fixed(*names: str):
    it = iter(names)
    return lambda: next(it)


def test_the_volume_has_upstreams_shape():
    assert token_volume("kube-api-access-x2b9z") == {"name": "kube-api-access-x2b9z", "projected": {
        "defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                          "fieldPath": "metadata.namespace"}}]}}]}}


def test_suffix_is_five_characters_of_the_kubernetes_alphabet():
    for _ in range(50):
        assert re.fullmatch(r"[bcdfghjklmnpqrstvwxz2456789]{5}", random_suffix())


def test_every_container_kind_gets_the_mount_and_the_pod_one_volume():
    spec = {"volumes": [{"name": "data", "emptyDir": {}}],
            "initContainers": [{"name": "init"}],
            "containers": [{"name": "a", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}, {"name": "b"}],
            "ephemeralContainers": [{"name": "debug"}]}
    mount_token(spec, fixed("abcde"))
    assert [v["name"] for v in spec["volumes"]] == ["data", "kube-api-access-abcde"]
    assert spec["volumes"][1] == token_volume("kube-api-access-abcde")
    assert spec["initContainers"][0]["volumeMounts"] == [MOUNT]
    assert spec["containers"][0]["volumeMounts"] == [{"name": "data", "mountPath": "/data"}, MOUNT]
    assert spec["containers"][1]["volumeMounts"] == [MOUNT]
    assert spec["ephemeralContainers"][0]["volumeMounts"] == [MOUNT]


def test_a_container_that_mounts_the_path_itself_keeps_its_own():
    own = {"name": "mine", "mountPath": TOKEN_MOUNT_PATH, "readOnly": True}
    spec = {"volumes": [{"name": "mine", "secret": {"secretName": "s"}}],
            "containers": [{"name": "a", "volumeMounts": [own]}]}
    before = copy.deepcopy(spec)
    mount_token(spec, fixed("abcde"))
    assert spec == before  # no container needed it: no volume either
    spec["containers"].append({"name": "b"})
    mount_token(spec, fixed("abcde"))
    assert spec["containers"][0]["volumeMounts"] == [own]
    assert spec["containers"][1]["volumeMounts"] == [MOUNT]
    assert [v["name"] for v in spec["volumes"]] == ["mine", "kube-api-access-abcde"]


def test_an_existing_kube_api_access_volume_is_reused_and_a_taken_name_is_not():
    spec = {"volumes": [{"name": "kube-api-access-zzzzz", "emptyDir": {}}], "containers": [{"name": "a"}]}
    mount_token(spec, fixed("abcde"))
    assert [v["name"] for v in spec["volumes"]] == ["kube-api-access-zzzzz"]
    assert spec["containers"][0]["volumeMounts"][0]["name"] == "kube-api-access-zzzzz"
    spec = {"volumes": [{"name": "kube-api-access", "emptyDir": {}}], "containers": [{"name": "a"}]}
    mount_token(spec, fixed("abcde"))
    assert spec["volumes"][1]["name"] == "kube-api-access-abcde"


def test_pod_setting_wins_over_the_accounts():
    assert should_automount({}, None) is True
    assert should_automount({}, {"automountServiceAccountToken": False}) is False
    assert should_automount({"automountServiceAccountToken": True}, {"automountServiceAccountToken": False}) is True
    assert should_automount({"automountServiceAccountToken": False}, {"automountServiceAccountToken": True}) is False
    assert should_automount({"automountServiceAccountToken": False}, None) is False


def test_the_accounts_pull_secrets_only_when_the_pod_names_none():
    account = {"imagePullSecrets": [{"name": "regcred"}]}
    spec: dict = {}
    add_pull_secrets(spec, account)
    assert spec["imagePullSecrets"] == [{"name": "regcred"}]
    own = {"imagePullSecrets": [{"name": "mine"}]}
    add_pull_secrets(own, account)
    assert own["imagePullSecrets"] == [{"name": "mine"}]
    bare: dict = {}
    add_pull_secrets(bare, {})
    assert "imagePullSecrets" not in bare
