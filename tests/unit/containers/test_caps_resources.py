import pytest

from skiff.common.errors import InvalidArgument
from skiff.engine.containers import caps, resources


def test_default_set():
    assert caps.effective_caps(None, None, False) == caps.DEFAULT_CAPS
    assert len(caps.DEFAULT_CAPS) == 14


def test_add_and_drop_with_or_without_prefix():
    got = caps.effective_caps(["net_admin", "CAP_SYS_TIME"], ["chown", "CAP_KILL"], False)
    assert "CAP_NET_ADMIN" in got and "CAP_SYS_TIME" in got
    assert "CAP_CHOWN" not in got and "CAP_KILL" not in got


def test_all():
    assert caps.effective_caps(["ALL"], ["NET_RAW"], False) == [c for c in caps.ALL_CAPS if c != "CAP_NET_RAW"]
    assert caps.effective_caps(["CHOWN"], ["all"], False) == ["CAP_CHOWN"]
    assert caps.effective_caps(None, ["ALL"], False) == []
    assert caps.effective_caps(None, ["ALL"], True) == caps.ALL_CAPS


def test_unknown_capability():
    with pytest.raises(InvalidArgument, match="unknown capability"):
        caps.effective_caps(["NOPE"], None, False)


@pytest.mark.parametrize("hc,msg", [
    ({"Memory": 1024}, "Minimum memory limit allowed is 6MB"),
    ({"Memory": 64 << 20, "MemorySwap": 32 << 20}, "Minimum memoryswap limit"),
    ({"NanoCpus": 10**9, "CpuQuota": 50000}, "Conflicting options: Nano CPUs and CPU Period"),
    ({"NanoCpus": 64 * 10**9}, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available"),
    ({"CpuPeriod": 10}, "CPU cfs period"),
])
def test_validation_messages(hc, msg):
    with pytest.raises(InvalidArgument, match=msg):
        resources.validate(hc, ncpu=2)


def test_unlimited_swap_and_pids():
    r = resources.linux_resources({"Memory": 64 << 20, "MemorySwap": -1, "PidsLimit": -1})
    assert r["memory"] == {"limit": 64 << 20, "swap": -1}
    assert "pids" not in r
    assert r["devices"][0] == {"allow": False, "access": "rwm"}
