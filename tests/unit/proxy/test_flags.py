"""--disable-kube-proxy, k3s's flag, on `skiff agent` and `skiff server`."""

from skiff.cluster import agent, serverflags


def test_the_proxy_runs_unless_disabled_on_the_agent():
    base = ["--server", "https://10.0.0.1:6443", "--token", "t"]
    assert agent.parse(base).disable_kube_proxy is False
    assert agent.parse([*base, "--disable-kube-proxy"]).disable_kube_proxy is True


def test_the_proxy_runs_unless_disabled_on_the_server():
    assert serverflags.parse([]).disable_kube_proxy is False
    assert serverflags.parse(["--disable-kube-proxy"]).disable_kube_proxy is True
    assert "--disable-kube-proxy" in serverflags.parser().format_help()
