"""A pod's resolv.conf and /etc/hosts per dnsPolicy, dnsConfig, hostname/subdomain and hostAliases."""

from __future__ import annotations

from skiff.cluster.kubelet import poddns

HOST = "# the node's\nnameserver 192.168.1.1\nnameserver 192.168.1.2\nsearch corp.example. .\noptions edns0\n"


def pod(ns="web", **spec):
    return {"metadata": {"name": "front-1", "namespace": ns, "uid": "u1"}, "spec": {"containers": [], **spec}}


def resolv(p, cluster_dns=("10.43.0.10",), host=HOST):
    cfg, warnings = poddns.dns_config(p, list(cluster_dns), "cluster.local", host)
    return poddns.resolv_conf(cfg, host), warnings


def test_cluster_first():
    text, warnings = resolv(pod())
    assert text == ("search web.svc.cluster.local svc.cluster.local cluster.local corp.example\n"
                    "nameserver 10.43.0.10\noptions ndots:5\n")
    assert warnings == []


def test_cluster_first_on_the_host_network_is_the_hosts():
    text, _ = resolv(pod(hostNetwork=True))
    assert text == "search corp.example\nnameserver 192.168.1.1\nnameserver 192.168.1.2\noptions edns0\n"


def test_cluster_first_with_host_net():
    text, _ = resolv(pod(hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet"))
    assert text.startswith("search web.svc.cluster.local") and "nameserver 10.43.0.10\n" in text


def test_default_policy_is_the_nodes_resolv_conf():
    text, _ = resolv(pod(dnsPolicy="Default"))
    assert "nameserver 192.168.1.1\n" in text and "cluster.local" not in text


def test_no_cluster_dns_falls_back_to_default_with_a_warning():
    text, warnings = resolv(pod(), cluster_dns=())
    assert "nameserver 192.168.1.1" in text
    assert warnings and poddns.warn_reason(warnings[0]) == "MissingClusterDNS"


def test_none_with_dns_config():
    p = pod(dnsPolicy="None", dnsConfig={"nameservers": ["1.1.1.1", "1.1.1.1"], "searches": ["a.example"],
                                         "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]})
    text, _ = resolv(p)
    assert text == "search a.example\nnameserver 1.1.1.1\noptions ndots:2 edns0\n"


def test_dns_config_merges_into_cluster_first():
    p = pod(dnsConfig={"nameservers": ["1.1.1.1"], "searches": ["svc.cluster.local", "b.example"],
                       "options": [{"name": "ndots", "value": "1"}, {"name": "single-request-reopen"}]})
    text, _ = resolv(p)
    assert text == ("search web.svc.cluster.local svc.cluster.local cluster.local corp.example b.example\n"
                    "nameserver 10.43.0.10\nnameserver 1.1.1.1\noptions ndots:1 single-request-reopen\n")


def test_limits_trim_with_the_kubelets_warnings():
    p = pod(dnsConfig={"nameservers": ["1.1.1.1", "2.2.2.2", "3.3.3.3"],
                       "searches": [f"d{i}.example" for i in range(40)]})
    cfg, warnings = poddns.dns_config(p, ["10.43.0.10"], "cluster.local", HOST)
    assert cfg.servers == ["10.43.0.10", "1.1.1.1", "2.2.2.2"]
    assert len(cfg.searches) == 32
    assert [poddns.warn_reason(w) for w in warnings] == ["DNSConfigForming", "DNSConfigForming"]
    assert warnings[0].endswith("the applied nameserver line is: 10.43.0.10 1.1.1.1 2.2.2.2")
    long = pod(dnsPolicy="None", dnsConfig={"nameservers": ["1.1.1.1"],
                                            "searches": [("x" * 60 + f".{i}.example") for i in range(31)]})
    cfg, _ = poddns.dns_config(long, [], "cluster.local", HOST)
    assert len(" ".join(cfg.searches)) <= 2048 and len(cfg.searches) < 31


def test_none_without_anything_copies_the_hosts_file():
    assert poddns.resolv_conf(poddns.DnsConfig(), HOST) == HOST


def test_hosts_with_hostname_subdomain_and_aliases():
    p = pod(hostname="web-0", subdomain="nginx",
            hostAliases=[{"ip": "10.1.2.3", "hostnames": ["foo.local", "bar.local"]}])
    text = poddns.hosts_file(p, ["10.42.0.9"], "cluster.local")
    assert text.startswith("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n")
    assert "10.42.0.9\tweb-0.nginx.web.svc.cluster.local\tweb-0\n" in text
    assert text.endswith("\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n")


def test_hosts_plain_pod_and_host_network():
    assert poddns.hosts_file(pod(), ["10.42.0.9"], "cluster.local").endswith("fe00::2\tip6-allrouters\n"
                                                                              "10.42.0.9\tfront-1\n")
    text = poddns.hosts_file(pod(hostNetwork=True), ["192.168.1.5"], "cluster.local", "127.0.0.1 localhost\n")
    assert text == "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n"


def test_pod_dns_writes_files_and_binds(tmp_path):
    resolv_path = tmp_path / "resolv.conf"
    resolv_path.write_text(HOST)
    pd = poddns.PodDns(tmp_path / "pods", ["10.43.0.10"], "cluster.local", str(resolv_path))
    binds, warnings = pd.write(pod(), "10.42.0.9")
    assert binds == [f"{tmp_path}/pods/u1/etc-hosts:/etc/hosts", f"{tmp_path}/pods/u1/resolv.conf:/etc/resolv.conf"]
    assert (tmp_path / "pods/u1/resolv.conf").read_text().startswith("search web.svc.cluster.local")
    assert "10.42.0.9\tfront-1" in (tmp_path / "pods/u1/etc-hosts").read_text()
    # a volume mounted over /etc/hosts wins, as the kubelet leaves it alone
    assert poddns.add_binds(["/data/hosts:/etc/hosts:ro"], binds) == ["/data/hosts:/etc/hosts:ro", binds[1]]
