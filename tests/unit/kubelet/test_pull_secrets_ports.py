import base64
import json

from skiff.cluster.kubelet.images import pull_auth
from skiff.cluster.kubelet.runtime import host_ports


def dockerconfigjson(auths: dict) -> dict:
    return {"type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(json.dumps({"auths": auths}).encode()).decode()}}


def test_pull_auth_picks_the_image_registry():
    secret = dockerconfigjson({
        "registry.example:5000": {"auth": base64.b64encode(b"alice:pw1").decode()},
        "https://index.docker.io/v1/": {"username": "bob", "password": "pw2"}})
    auth = pull_auth("registry.example:5000/team/app:1", [secret])
    assert (auth.username, auth.password) == ("alice", "pw1")
    hub = pull_auth("busybox", [secret])
    assert (hub.username, hub.password) == ("bob", "pw2")
    assert pull_auth("other.example/app", [secret]) is None
    assert pull_auth("busybox", [{"data": {}}]) is None


def test_legacy_dockercfg():
    legacy = {"data": {".dockercfg": base64.b64encode(json.dumps(
        {"reg.example": {"auth": base64.b64encode(b"u:p").decode()}}).encode()).decode()}}
    auth = pull_auth("reg.example/x", [legacy])
    assert (auth.username, auth.password) == ("u", "p")


def test_host_ports_become_the_sandbox_bindings():
    pod = {"spec": {"containers": [
        {"name": "web", "ports": [{"containerPort": 80, "hostPort": 8080},
                                  {"containerPort": 53, "hostPort": 5353, "protocol": "UDP", "hostIP": "127.0.0.1"},
                                  {"containerPort": 9090}]}]}}
    exposed, bindings = host_ports(pod)
    assert exposed == {"80/tcp": {}, "53/udp": {}}
    assert bindings == {"80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                        "53/udp": [{"HostIp": "127.0.0.1", "HostPort": "5353"}]}
