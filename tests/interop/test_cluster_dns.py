"""Cluster DNS through the real kubectl: pods resolve Services by short name, `<svc>.<ns>` and FQDN
(busybox nslookup against the cluster DNS address in their resolv.conf), headless Services list
their pods, a StatefulSet pod has its `<pod>.<svc>` name, SRV records for named ports, each
dnsPolicy's resolv.conf, hostAliases in /etc/hosts, and kube-system/kube-dns as k3s shows it."""

import json
import subprocess

import pytest
import yaml

from tests.support import agent as agent_support

cluster = agent_support.cluster  # fixtures: a server and one agent, a namespace per test

pod_ns = agent_support.pod_ns
pytestmark = [pytest.mark.root, pytest.mark.interop, pytest.mark.slow]


def apply(cluster, ns, *objects):
    r = cluster.kubectl("apply", "-n", ns, "-f", "-", input=yaml.safe_dump_all(objects))
    assert r.returncode == 0, r.stderr


def pod(name, labels=None, **spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}},
            "spec": {"terminationGracePeriodSeconds": 0, "containers": [{
                "name": "main", "image": "busybox:latest", "imagePullPolicy": "IfNotPresent",
                "command": ["sleep", "3600"]}], **spec}}


def service(name, selector, headless=False, ports=None):
    spec = {"selector": selector, "ports": ports or [{"name": "http", "port": 80, "targetPort": 8080}]}
    if headless:
        spec["clusterIP"] = "None"
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def running(cluster, ns, name):
    return cluster.wait_for(f"pod/{name}", "{.status.podIP}", lambda v: bool(v), namespace=ns) and \
        cluster.wait_for(f"pod/{name}", "{.status.phase}", lambda v: v == "Running", namespace=ns)


def run(cluster, ns, pod_name, *cmd) -> subprocess.CompletedProcess:
    return cluster.kubectl("exec", "-n", ns, pod_name, "--", *cmd)


def nslookup(cluster, ns, pod_name, *args) -> str:
    r = run(cluster, ns, pod_name, "nslookup", *args)
    return r.stdout.decode() + r.stderr.decode()


@pytest.fixture
def guestbook(cluster, pod_ns):
    """Seed 001's shape: redis-master (a ClusterIP Service with one pod) and a client pod."""
    apply(cluster, pod_ns, pod("redis-master-0", {"app": "redis"}), service("redis-master", {"app": "redis"}),
          pod("client"))
    running(cluster, pod_ns, "client")
    return cluster.jsonpath("service/redis-master", "{.spec.clusterIP}", pod_ns)


def test_service_names_resolve_to_the_cluster_ip(cluster, pod_ns, guestbook):
    ip = guestbook
    for name in ("redis-master", f"redis-master.{pod_ns}.svc.cluster.local"):
        out = nslookup(cluster, pod_ns, "client", name)
        assert f"Address: {ip}" in out, (name, out)
    # busybox nslookup applies the search list to dot-less names only; its ping resolves as libc
    # does (ndots:5), so `<svc>.<ns>` goes through the search list there
    r = run(cluster, pod_ns, "client", "ping", "-c", "1", "-W", "1", f"redis-master.{pod_ns}")
    assert f"PING redis-master.{pod_ns} ({ip})" in r.stdout.decode() + r.stderr.decode(), r
    out = nslookup(cluster, pod_ns, "client", "no-such-service.default.svc.cluster.local")
    assert "NXDOMAIN" in out, out


def test_pod_resolv_conf_is_cluster_first(cluster, pod_ns, guestbook):
    text = run(cluster, pod_ns, "client", "cat", "/etc/resolv.conf").stdout.decode()
    assert text.startswith(f"search {pod_ns}.svc.cluster.local svc.cluster.local cluster.local"), text
    assert "nameserver 10.43.0.10\n" in text and text.endswith("options ndots:5\n"), text


def test_srv_record_of_a_named_port(cluster, pod_ns, guestbook):
    out = nslookup(cluster, pod_ns, "client", "-type=srv", f"_http._tcp.redis-master.{pod_ns}.svc.cluster.local")
    assert f"80 redis-master.{pod_ns}.svc.cluster.local" in out, out


def test_headless_service_lists_pod_ips_and_statefulset_names(cluster, pod_ns):
    apply(cluster, pod_ns, service("web", {"app": "web"}, headless=True),
          {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "web"},
           "spec": {"serviceName": "web", "replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                    "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod("x")["spec"]}}},
          pod("client"))
    running(cluster, pod_ns, "client")
    ips = [running(cluster, pod_ns, f"web-{i}") and cluster.jsonpath(f"pod/web-{i}", "{.status.podIP}", pod_ns)
           for i in range(2)]
    cluster.wait_for("pod/web-1", "{.status.conditions[?(@.type=='Ready')].status}", lambda v: v == "True",
                     namespace=pod_ns)
    out = ""
    for _ in range(50):  # the endpoints follow readiness
        out = nslookup(cluster, pod_ns, "client", "web")
        if all(f"Address: {ip}" in out for ip in ips):
            break
    assert all(f"Address: {ip}" in out for ip in ips), out
    out = nslookup(cluster, pod_ns, "client", f"web-0.web.{pod_ns}.svc.cluster.local")
    assert f"Address: {ips[0]}" in out, out
    r = run(cluster, pod_ns, "client", "ping", "-c", "1", "-W", "1", "web-1.web")  # through the search list
    assert f"PING web-1.web ({ips[1]})" in r.stdout.decode(), r
    hosts = run(cluster, pod_ns, "web-1", "cat", "/etc/hosts").stdout.decode()
    assert f"{ips[1]}\tweb-1.web.{pod_ns}.svc.cluster.local\tweb-1\n" in hosts, hosts


def test_dns_policies_and_host_aliases(cluster, pod_ns):
    apply(cluster, pod_ns,
          pod("none", dnsPolicy="None", dnsConfig={"nameservers": ["192.0.2.53"], "searches": ["example.test"],
                                                   "options": [{"name": "ndots", "value": "2"}]},
              hostAliases=[{"ip": "192.0.2.7", "hostnames": ["legacy.example", "legacy"]}]),
          pod("dflt", dnsPolicy="Default"))
    running(cluster, pod_ns, "none")
    running(cluster, pod_ns, "dflt")
    text = run(cluster, pod_ns, "none", "cat", "/etc/resolv.conf").stdout.decode()
    assert text == "search example.test\nnameserver 192.0.2.53\noptions ndots:2\n", text
    hosts = run(cluster, pod_ns, "none", "cat", "/etc/hosts").stdout.decode()
    assert hosts.startswith("# Kubernetes-managed hosts file.\n")
    assert hosts.endswith("# Entries added by HostAliases.\n192.0.2.7\tlegacy.example\tlegacy\n"), hosts
    text = run(cluster, pod_ns, "dflt", "cat", "/etc/resolv.conf").stdout.decode()
    assert "10.43.0.10" not in text and "cluster.local" not in text, text


def test_kube_dns_service_and_the_nodes_endpoint(cluster):
    r = cluster.kubectl("get", "svc", "-n", "kube-system", "kube-dns")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"]
    assert lines[1].split()[:5] == ["kube-dns", "ClusterIP", "10.43.0.10", "<none>", "53/UDP,53/TCP,9153/TCP"]
    r = cluster.kubectl("get", "endpointslices", "-n", "kube-system", "-l", "kubernetes.io/service-name=kube-dns",
                        "-o", "json")
    slices = json.loads(r.stdout)["items"]
    assert [s["metadata"]["name"] for s in slices] == [f"kube-dns-{cluster.node}"]
    assert slices[0]["endpoints"][0]["nodeName"] == cluster.node
    assert [(o["kind"], o["name"]) for o in slices[0]["metadata"]["ownerReferences"]] == [("Node", cluster.node)]
