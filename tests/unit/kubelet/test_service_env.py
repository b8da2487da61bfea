"""Service environment variables, as the kubelet gives them (names per Kubernetes' docs:
upper case, dashes as underscores; Docker-link style variables alongside)."""

from __future__ import annotations

from skiff.cluster.kubelet.env import build_env, service_env

POD = {"metadata": {"name": "p", "namespace": "shop", "uid": "u"}, "spec": {}}


def svc(name: str, ns: str, ip: str, *ports: dict, **spec) -> dict:
    return {"metadata": {"name": name, "namespace": ns}, "spec": {"clusterIP": ip, "ports": list(ports), **spec}}


KUBERNETES = svc("kubernetes", "default", "10.43.0.1", {"name": "https", "port": 443, "protocol": "TCP"})
REDIS = svc("redis-primary", "shop", "10.43.0.11", {"port": 6379})
WEB = svc("web", "shop", "10.43.0.12", {"name": "http", "port": 80}, {"name": "dns", "port": 53, "protocol": "UDP"})
HEADLESS = svc("db", "shop", "None", {"port": 5432})
EXTERNAL = svc("ext", "shop", "", {"port": 443}, type="ExternalName", externalName="example.com")
OTHER_NS = svc("elsewhere", "other", "10.43.0.13", {"port": 8080})


def test_the_documented_variables_of_one_service():
    assert service_env([REDIS], "shop") == {
        "REDIS_PRIMARY_SERVICE_HOST": "10.43.0.11", "REDIS_PRIMARY_SERVICE_PORT": "6379",
        "REDIS_PRIMARY_PORT": "tcp://10.43.0.11:6379",
        "REDIS_PRIMARY_PORT_6379_TCP": "tcp://10.43.0.11:6379",
        "REDIS_PRIMARY_PORT_6379_TCP_PROTO": "tcp",
        "REDIS_PRIMARY_PORT_6379_TCP_PORT": "6379",
        "REDIS_PRIMARY_PORT_6379_TCP_ADDR": "10.43.0.11"}


def test_named_ports_and_protocols_and_the_first_port_as_the_default():
    env = service_env([WEB], "shop")
    assert env["WEB_SERVICE_PORT"] == "80" and env["WEB_SERVICE_PORT_HTTP"] == "80"
    assert env["WEB_SERVICE_PORT_DNS"] == "53"
    assert env["WEB_PORT"] == "tcp://10.43.0.12:80"
    assert env["WEB_PORT_53_UDP"] == "udp://10.43.0.12:53" and env["WEB_PORT_53_UDP_PROTO"] == "udp"


def test_kubernetes_service_always_and_other_namespaces_and_headless_never():
    every = [KUBERNETES, REDIS, WEB, HEADLESS, EXTERNAL, OTHER_NS]
    env = service_env(every, "shop")
    assert env["KUBERNETES_SERVICE_HOST"] == "10.43.0.1"
    assert env["KUBERNETES_SERVICE_PORT"] == "443" and env["KUBERNETES_SERVICE_PORT_HTTPS"] == "443"
    assert env["KUBERNETES_PORT"] == "tcp://10.43.0.1:443"
    assert "REDIS_PRIMARY_SERVICE_HOST" in env and "WEB_SERVICE_HOST" in env
    assert not [k for k in env if k.startswith(("DB_", "EXT_", "ELSEWHERE_"))]
    off = service_env(every, "shop", enable_service_links=False)
    assert {k.split("_")[0] for k in off} == {"KUBERNETES"}
    assert off == service_env([KUBERNETES], "anything")


def test_a_namespaces_own_kubernetes_service_wins_with_links():
    own = svc("kubernetes", "shop", "10.43.0.99", {"port": 8443})
    assert service_env([KUBERNETES, own], "shop")["KUBERNETES_SERVICE_HOST"] == "10.43.0.99"
    assert service_env([own, KUBERNETES], "shop")["KUBERNETES_SERVICE_HOST"] == "10.43.0.99"
    assert service_env([own, KUBERNETES], "shop", False)["KUBERNETES_SERVICE_HOST"] == "10.43.0.1"


def test_ipv6_cluster_ips_are_bracketed_in_urls():
    env = service_env([svc("v6", "shop", "fd00::1", {"port": 80})], "shop")
    assert env["V6_SERVICE_HOST"] == "fd00::1" and env["V6_PORT"] == "tcp://[fd00::1]:80"


def test_user_env_wins_and_expansion_sees_service_variables():
    services = service_env([KUBERNETES, REDIS], "shop")
    c = {"env": [{"name": "REDIS_PRIMARY_SERVICE_PORT", "value": "1"},
                 {"name": "URL", "value": "redis://$(REDIS_PRIMARY_SERVICE_HOST):$(REDIS_PRIMARY_SERVICE_PORT)"},
                 {"name": "API", "value": "https://$(KUBERNETES_SERVICE_HOST)"}]}
    env = build_env(c, POD, {}, {}, services=services)
    assert env["REDIS_PRIMARY_SERVICE_PORT"] == "1"
    assert env["URL"] == "redis://10.43.0.11:1"  # the container's own value came first
    assert env["API"] == "https://10.43.0.1"
    assert env["KUBERNETES_SERVICE_HOST"] == "10.43.0.1" and env["REDIS_PRIMARY_PORT_6379_TCP_ADDR"] == "10.43.0.11"
    assert list(env)[:3] == ["REDIS_PRIMARY_SERVICE_PORT", "URL", "API"]  # service variables come after
