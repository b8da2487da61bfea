import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skiff.common.errors import Conflict, Forbidden, InvalidArgument
from skiff.engine.network.ipam import Pool, check_no_overlap, parse_subnet, pick_default_subnet


def test_defaults_gateway_first_host_and_skips_reserved():
    pool = Pool.create("10.0.0.0/29")
    assert str(pool.gateway) == "10.0.0.1"
    got = [str(pool.allocate(f"c{i}")) for i in range(5)]
    assert got == ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]
    with pytest.raises(Conflict, match="full"):
        pool.allocate("c6")


def test_release_and_round_robin_reuse():
    pool = Pool.create("10.0.0.0/29")
    a = pool.allocate("a")
    pool.allocate("b")
    pool.release(a)
    # Docker goes round the range before reusing a freed address.
    assert str(pool.allocate("c")) == "10.0.0.4"
    pool.release_owner("b")
    assert "10.0.0.3" not in pool.allocated


def test_preferred_address_rules():
    pool = Pool.create("172.20.0.0/16", gateway="172.20.0.254", ip_range="172.20.5.0/24")
    assert str(pool.allocate("a", "172.20.5.9")) == "172.20.5.9"
    with pytest.raises(Conflict, match="already in use"):
        pool.allocate("b", "172.20.5.9")
    with pytest.raises(Conflict):
        pool.allocate("b", "172.20.0.254")
    with pytest.raises(InvalidArgument, match="no configured subnet"):
        pool.allocate("b", "10.1.1.1")
    with pytest.raises(InvalidArgument, match="not an IPv4"):
        pool.allocate("b", "nonsense")
    assert pool.allocate("c") in ipaddress.ip_network("172.20.5.0/24")


def test_bad_input():
    with pytest.raises(InvalidArgument, match="invalid CIDR"):
        parse_subnet("10.0.0.300/24")
    with pytest.raises(InvalidArgument, match="not contained"):
        Pool.create("10.0.0.0/24", ip_range="10.0.1.0/25")
    with pytest.raises(InvalidArgument, match="gateway"):
        Pool.create("10.0.0.0/24", gateway="10.0.1.1")


def test_overlap_and_default_subnets():
    existing = [("skiff0", parse_subnet("172.17.0.0/16")), ("a", parse_subnet("172.18.0.0/16"))]
    with pytest.raises(Forbidden, match="Pool overlaps with other one on this address space"):
        check_no_overlap(parse_subnet("172.18.3.0/24"), existing)
    check_no_overlap(parse_subnet("10.9.0.0/24"), existing)
    assert str(pick_default_subnet(n for _, n in existing)) == "172.19.0.0/16"


def test_persistence_round_trip():
    pool = Pool.create("10.3.0.0/24")
    for i in range(3):
        pool.allocate(f"c{i}")
    again = Pool.from_dict(pool.to_dict())
    assert again.allocated == pool.allocated
    assert str(again.allocate("next")) == "10.3.0.5"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 40)), max_size=120))
def test_never_hands_out_an_address_twice(ops):
    pool = Pool.create("10.7.0.0/26")
    held: dict[str, str] = {}
    for alloc, k in ops:
        if alloc:
            try:
                ip = str(pool.allocate(f"o{k}-{len(held)}"))
            except Conflict:
                assert len(held) == 61  # /26 minus network, broadcast, gateway
                continue
            assert ip not in held and ip != "10.7.0.1"
            held[ip] = "x"
        elif held:
            ip = sorted(held)[k % len(held)]
            pool.release(ip)
            del held[ip]
    assert set(pool.allocated) == set(held)
