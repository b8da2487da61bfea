"""dockerd's network flags on `skiff engine` (parsing only)."""

import pytest

from skiff.engine.daemon import parse_args


def test_defaults():
    o = parse_args([])
    assert (o.bip, o.bridge, o.fixed_cidr, o.mtu) == ("", "", "", 0)
    assert o.icc and o.iptables and o.ip_forward and o.ip_masq


@pytest.mark.parametrize("argv, field, value", [
    (["--icc=false"], "icc", False),
    (["--icc", "false"], "icc", False),
    (["--icc"], "icc", True),
    (["--iptables=0"], "iptables", False),
    (["--ip-masq=f"], "ip_masq", False),
    (["--ip-forward=true"], "ip_forward", True),
    (["-b=br0"], "bridge", "br0"),
    (["-b", "br1"], "bridge", "br1"),
    (["--bridge=none"], "bridge", "none"),
    (["--bip", "10.9.0.1/24"], "bip", "10.9.0.1/24"),
    (["--fixed-cidr", "10.9.0.128/25"], "fixed_cidr", "10.9.0.128/25"),
    (["--mtu", "1400"], "mtu", 1400),
])
def test_network_flags(argv, field, value):
    assert getattr(parse_args(argv), field) == value


def test_bad_boolean_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        parse_args(["--icc=maybe"])
    assert e.value.code == 2 and "invalid boolean value 'maybe'" in capsys.readouterr().err
