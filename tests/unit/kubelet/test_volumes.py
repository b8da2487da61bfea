import base64
import os
import stat

import pytest

from skiff.cluster.kubelet.volumes import (
    VolumeError,
    check_host_path,
    downward_files,
    object_files,
    write_files,
)

CM = {"data": {"appvars": "level=info", "other": "x"}}


def test_configmap_items_modes_and_missing_keys():
    files = object_files("configmap", CM, {"name": "cm", "items": [{"key": "appvars", "path": "conf/app.conf",
                                                                     "mode": 0o600}]}, 0o644)
    assert files == {"conf/app.conf": (b"level=info", 0o600)}
    all_keys = object_files("configmap", CM, {"name": "cm", "defaultMode": 0o400}, 0o644)
    assert all_keys == {"appvars": (b"level=info", 0o400), "other": (b"x", 0o400)}
    with pytest.raises(VolumeError, match="non-existent config key: nope"):
        object_files("configmap", CM, {"name": "cm", "items": [{"key": "nope", "path": "p"}]}, 0o644)
    with pytest.raises(VolumeError, match='configmap "cm" not found'):
        object_files("configmap", None, {"name": "cm"}, 0o644)
    assert object_files("configmap", None, {"name": "cm", "optional": True}, 0o644) == {}


def test_secret_values_are_decoded():
    secret = {"data": {"password": base64.b64encode(b"s3cret").decode()}}
    assert object_files("secret", secret, {"secretName": "s"}, 0o644) == {"password": (b"s3cret", 0o644)}


def test_downward_api_files():
    pod = {"metadata": {"name": "p", "namespace": "d", "labels": {"a": "1", "b": "2"}}, "spec": {"containers": [
        {"name": "c", "resources": {"limits": {"memory": "32Mi"}}}]}}
    files = downward_files({"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                                      {"path": "mem", "resourceFieldRef": {"containerName": "c",
                                                                           "resource": "limits.memory",
                                                                           "divisor": "1Mi"}}]},
                           pod, "10.0.0.1", "", 0o644, {})
    assert files == {"labels": (b'a="1"\nb="2"', 0o644), "mem": (b"32", 0o644)}


def test_atomic_writer_replaces_content_and_drops_removed_keys(tmp_path):
    write_files(tmp_path, {"a": (b"1", 0o644), "dir/b": (b"2", 0o600)})
    assert (tmp_path / "a").read_bytes() == b"1"
    assert stat.S_IMODE(os.stat(tmp_path / "dir" / "b").st_mode) == 0o600
    first = os.readlink(tmp_path / "..data")
    write_files(tmp_path, {"a": (b"1", 0o644), "dir/b": (b"2", 0o600)})
    assert os.readlink(tmp_path / "..data") == first  # unchanged content: nothing rewritten
    write_files(tmp_path, {"a": (b"updated", 0o644)})
    assert (tmp_path / "a").read_bytes() == b"updated"
    assert not (tmp_path / "dir").exists()
    assert not (tmp_path / first).exists()


def test_host_path_types(tmp_path):
    check_host_path(str(tmp_path), "Directory")
    check_host_path(str(tmp_path / "new"), "DirectoryOrCreate")
    assert (tmp_path / "new").is_dir()
    check_host_path(str(tmp_path / "f"), "FileOrCreate")
    assert (tmp_path / "f").is_file()
    with pytest.raises(VolumeError, match="is not a directory"):
        check_host_path(str(tmp_path / "f"), "Directory")
    with pytest.raises(VolumeError, match="is not a file"):
        check_host_path(str(tmp_path), "File")
    with pytest.raises(VolumeError, match="does not exist"):
        check_host_path(str(tmp_path / "missing"), "File")
    check_host_path(str(tmp_path / "anything"), "")  # no type: no check


def test_projected_token_is_kept_until_80_percent_of_its_life_then_renewed(tmp_path):
    """The kubelet's token manager: one TokenRequest per lifetime, renewed once 80% has passed."""
    import asyncio
    from types import SimpleNamespace

    from skiff.cluster.apiserver.admission.service_account import token_volume
    from skiff.cluster.kubelet.volumes import VolumeManager

    asked: list[tuple[str, dict]] = []

    async def create(path: str, body: dict) -> dict:
        asked.append((path, body))
        return {"status": {"token": f"token-{len(asked)}"}}

    async def get_object(resource: str, ns: str, name: str) -> dict | None:
        return {"data": {"ca.crt": "CA"}} if (resource, name) == ("configmaps", "kube-root-ca.crt") else None

    kl = SimpleNamespace(client=SimpleNamespace(create=create), get_object=get_object, host_ip="10.0.0.1",
                         allocatable={})
    pod = {"metadata": {"name": "p", "namespace": "team", "uid": "u1"},
           "spec": {"serviceAccountName": "builder", "volumes": [token_volume("kube-api-access-abcde")]}}

    async def main() -> None:
        vm = VolumeManager(kl, tmp_path)
        paths = await vm.setup(pod)
        target = tmp_path / "u1" / "volumes" / "kubernetes.io~projected" / "kube-api-access-abcde"
        assert paths == {"kube-api-access-abcde": str(target)}
        files = {p.name: p.read_text() for p in target.iterdir() if not p.name.startswith("..")}
        assert files == {"token": "token-1", "ca.crt": "CA", "namespace": "team"}
        path, body = asked[0]
        assert path == "/api/v1/namespaces/team/serviceaccounts/builder/token"
        assert body["spec"]["expirationSeconds"] == 3607
        assert body["spec"]["boundObjectRef"] == {"kind": "Pod", "apiVersion": "v1", "name": "p", "uid": "u1"}
        await vm.setup(pod)
        assert len(asked) == 1  # still fresh
        (key, (token, renew_after)), = vm.tokens.items()
        now = asyncio.get_running_loop().time()
        assert now + 0.7 * 3607 < renew_after <= now + 0.8 * 3607
        vm.tokens[key] = (token, now - 1)  # 80% of its life has passed
        await vm.setup(pod)
        assert len(asked) == 2 and (target / "token").read_text() == "token-2"
    asyncio.run(main())
