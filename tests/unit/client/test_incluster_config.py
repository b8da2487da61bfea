"""client-go's in-cluster config: a pod with no kubeconfig reaches the `kubernetes` Service with
its mounted token and CA, in its own namespace."""

from __future__ import annotations

import pytest

from skiff.cluster.client import kubeconfig, loader

ENV = {"KUBERNETES_SERVICE_HOST": "10.43.0.1", "KUBERNETES_SERVICE_PORT": "443"}


def test_config_from_the_service_variables():
    config = kubeconfig.in_cluster(ENV, "shop")
    assert config is not None
    conn_cfg = config["clusters"][0]["cluster"]
    assert conn_cfg == {"server": "https://10.43.0.1:443",
                        "certificate-authority": "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"}
    assert config["users"][0]["user"] == {"tokenFile": "/var/run/secrets/kubernetes.io/serviceaccount/token"}
    assert config["contexts"][0]["context"]["namespace"] == "shop"
    assert kubeconfig.in_cluster({**ENV, "POD_NAMESPACE": "env-wins"}, "shop")["contexts"][0]["context"][
        "namespace"] == "env-wins"
    v6 = kubeconfig.in_cluster({"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"})
    assert v6 is not None and v6["clusters"][0]["cluster"]["server"] == "https://[fd00::1]:443"
    assert kubeconfig.in_cluster({"KUBERNETES_SERVICE_HOST": "10.43.0.1"}) is None
    assert kubeconfig.in_cluster({}) is None


@pytest.fixture
def mounted(tmp_path, monkeypatch):
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("tok-123\n")
    (sa / "namespace").write_text("shop")
    (sa / "ca.crt").write_text("CA")
    monkeypatch.setattr(kubeconfig, "SERVICE_ACCOUNT_DIR", str(sa))
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    return tmp_path


def test_a_pod_without_kubeconfig_resolves_in_cluster(mounted):
    config = loader.read_or_in_cluster([str(mounted / "missing")])
    conn = kubeconfig.resolve(config)
    assert (conn.server, conn.token, conn.namespace) == ("https://10.43.0.1:443", "tok-123", "shop")
    assert conn.ca_file == str(mounted / "sa" / "ca.crt")


def test_a_kubeconfig_wins_and_an_explicit_one_never_falls_back(mounted):
    own = mounted / "config"
    own.write_text("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://1.2.3.4\n"
                   "contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user: {}\n"
                   "current-context: x\n")
    assert kubeconfig.resolve(loader.read_or_in_cluster([str(own)])).server == "https://1.2.3.4"
    with pytest.raises(Exception, match="no such file"):
        loader.read_or_in_cluster([str(mounted / "missing")], explicit=True)


def test_outside_a_pod_nothing_changes(mounted, monkeypatch):
    (mounted / "sa" / "token").unlink()
    assert loader.read_or_in_cluster([str(mounted / "missing")]) == loader.read([str(mounted / "missing")])
