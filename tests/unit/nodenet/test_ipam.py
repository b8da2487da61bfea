"""Node IPAM's range allocation and the server's join token file."""

import pytest

from skiff.cluster.nodenet.ipam import next_pod_cidr
from skiff.cluster.server import join_token


def test_first_free_block_in_order():
    assert next_pod_cidr("10.42.0.0/16", []) == "10.42.0.0/24"
    assert next_pod_cidr("10.42.0.0/16", ["10.42.0.0/24", "10.42.2.0/24"]) == "10.42.1.0/24"


def test_overlapping_and_foreign_cidrs_count_as_taken_where_they_overlap():
    assert next_pod_cidr("10.42.0.0/16", ["10.42.0.0/23", "192.168.0.0/24", "fd00::/64", "junk"]) == "10.42.2.0/24"


def test_exhausted_and_unsplittable_ranges():
    assert next_pod_cidr("10.42.0.0/23", ["10.42.0.0/24", "10.42.1.0/24"]) is None
    with pytest.raises(ValueError, match="cannot be split"):
        next_pod_cidr("10.42.0.0/25", [])


def test_join_token_is_kept_across_restarts_and_given_one_wins(tmp_path):
    first = join_token(tmp_path, "")
    assert len(first) >= 32 and (tmp_path / "token").stat().st_mode & 0o777 == 0o600
    assert join_token(tmp_path, "") == first
    assert join_token(tmp_path, "mine") == "mine"
    assert (tmp_path / "token").read_text() == "mine\n"


def test_free_pod_cidrs_serves_a_whole_round_in_one_pass():
    from skiff.cluster.nodenet.ipam import free_pod_cidrs
    free = free_pod_cidrs("10.42.0.0/22", ["10.42.1.0/24", "10.42.2.0/25"])
    assert list(free) == ["10.42.0.0/24", "10.42.3.0/24"]


def test_the_allocator_fills_the_cluster_cidr_then_stops_asking():
    import asyncio

    from skiff.cluster.nodenet.allocator import NodeIpam

    class Client:
        def __init__(self, n):
            self.nodes = [{"metadata": {"name": f"n{i}"}, "spec": {}} for i in range(n)]
            self.patches = 0

        async def get(self, path):
            return {"items": self.nodes}

        async def merge_patch(self, path, body):
            self.patches += 1
            name = path.rsplit("/", 1)[1]
            next(n for n in self.nodes if n["metadata"]["name"] == name)["spec"].update(body["spec"])

    client = Client(1000)
    ipam = NodeIpam(client, "10.42.0.0/16")
    asyncio.run(ipam.allocate_once())
    cidrs = [n["spec"].get("podCIDR") for n in client.nodes]
    assert len({c for c in cidrs if c}) == 256 and client.patches == 256
    assert len(ipam.exhausted_for) == 744
    asyncio.run(ipam.allocate_once())  # a second round: nothing more to give, nothing patched
    assert client.patches == 256
