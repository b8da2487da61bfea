from skiff.engine.containers import etcfiles

HOST = "nameserver 127.0.0.53\nnameserver 10.1.1.1\nsearch corp.example\noptions edns0\n"


def test_hosts_with_links_extra_hosts_and_host_gateway():
    text = etcfiles.hosts_file("abc123", ip="172.17.0.4", extra_hosts=["gw:host-gateway", "db=10.0.0.9", "v6:[::1]"],
                               links=[("172.17.0.2", "database 0123456789ab db")], host_gateway="172.17.0.1")
    tail = text[len(etcfiles.HOSTS_BASE):].splitlines()
    assert tail == ["172.17.0.1\tgw", "10.0.0.9\tdb", "::1\tv6", "172.17.0.2\tdatabase 0123456789ab db",
                    "172.17.0.4\tabc123"]


def test_hosts_domainname():
    assert text_tail(etcfiles.hosts_file("web", "example.org", ip="10.0.0.2")) == ["10.0.0.2\tweb.example.org\tweb"]


def text_tail(text):
    return text[len(etcfiles.HOSTS_BASE):].splitlines()


def test_resolv_default_bridge_drops_loopback():
    assert etcfiles.resolv_conf(HOST) == "nameserver 10.1.1.1\nsearch corp.example\noptions edns0\n"


def test_resolv_user_network_points_at_embedded_dns():
    text = etcfiles.resolv_conf(HOST, dns=["192.0.2.53"], search=["a.example"], internal=True)
    assert text == "nameserver 127.0.0.11\nsearch a.example\noptions edns0 ndots:0\n"
    kept = etcfiles.resolv_conf(HOST, options=["ndots:3"], internal=True)
    assert kept.splitlines()[-1] == "options ndots:3"


def test_upstreams_keep_loopback_and_prefer_dns_flags():
    assert etcfiles.upstreams(HOST) == ["127.0.0.53", "10.1.1.1"]
    assert etcfiles.upstreams(HOST, ["9.9.9.9"]) == ["9.9.9.9"]


def test_dns_search_dot_clears_search():
    assert "search" not in etcfiles.resolv_conf(HOST, search=["."])
