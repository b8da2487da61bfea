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
