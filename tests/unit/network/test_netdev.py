from skiff.engine.network.netdev import bridge_mac, mac_for


def test_bridge_mac_is_locally_administered_unicast_and_random():
    macs = {bridge_mac() for _ in range(20)}
    assert len(macs) == 20
    for mac in macs:
        first = int(mac.split(":")[0], 16)
        assert first & 0x02 and not first & 0x01
        assert len(mac.split(":")) == 6


def test_mac_for_ip_is_dockers():
    assert mac_for("172.17.0.2") == "02:42:ac:11:00:02"
