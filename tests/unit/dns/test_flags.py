"""--cluster-dns, --cluster-domain and --resolv-conf on `skiff agent` and `skiff server`."""

import pytest

from skiff.cluster import agent, serverflags


def test_defaults_are_k3s_ones():
    opts = agent.parse(["--server", "https://127.0.0.1:6443", "--token", "t"])
    assert (opts.dns.cluster_dns, opts.dns.cluster_domain, opts.dns.resolv_conf) == \
        ("10.43.0.10", "cluster.local", "/etc/resolv.conf")
    assert serverflags.parse([]).dns.cluster_dns == "10.43.0.10"


def test_given_values():
    opts = serverflags.parse(["--cluster-dns", "10.96.0.10", "--cluster-domain", "Corp.Example.",
                              "--resolv-conf", "/run/resolv.conf"])
    assert (opts.dns.cluster_dns, opts.dns.cluster_domain, opts.dns.resolv_conf) == \
        ("10.96.0.10", "corp.example", "/run/resolv.conf")


@pytest.mark.parametrize("args, message", [
    (["--cluster-dns", "ten"], "--cluster-dns: 'ten' is not an IPv4 address"),
    (["--cluster-domain", "a..b"], "--cluster-domain: 'a..b' is not a DNS domain"),
])
def test_bad_values_are_refused(args, message, capsys):
    with pytest.raises(SystemExit) as e:
        agent.parse(["--server", "https://127.0.0.1:6443", "--token", "t", *args])
    assert e.value.code == 2 and message in capsys.readouterr().err
