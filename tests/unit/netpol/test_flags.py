"""--disable-network-policy, k3s's flag, on `skiff agent` and `skiff server`."""

from skiff.cluster import agent, serverflags


def test_enforced_unless_disabled_on_the_agent():
    base = ["--server", "https://10.0.0.1:6443", "--token", "t"]
    assert agent.parse(base).disable_network_policy is False
    assert agent.parse([*base, "--disable-network-policy"]).disable_network_policy is True
    assert "--disable-network-policy" in agent.parser().format_help()


def test_enforced_unless_disabled_on_the_server():
    assert serverflags.parse([]).disable_network_policy is False
    assert serverflags.parse(["--disable-network-policy"]).disable_network_policy is True
    assert "--disable-network-policy" in serverflags.parser().format_help()
