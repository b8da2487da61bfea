"""Platform selection in manifest lists / OCI indexes (pure)."""

import pytest

from skiff.common.errors import InvalidArgument, NotFound
from skiff.engine.registry.client import choose_manifest, host_platform, parse_platform
from skiff.oci import mediatypes as mt

INDEX = {"manifests": [
    {"mediaType": mt.OCI_MANIFEST, "digest": "sha256:arm7", "size": 1,
     "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
    {"mediaType": mt.OCI_MANIFEST, "digest": "sha256:arm6", "size": 1,
     "platform": {"os": "linux", "architecture": "arm", "variant": "v6"}},
    {"mediaType": mt.DOCKER_MANIFEST, "digest": "sha256:amd", "size": 1,
     "platform": {"os": "linux", "architecture": "amd64"}},
    {"mediaType": "application/vnd.in-toto+json", "digest": "sha256:att", "size": 1,
     "platform": {"os": "linux", "architecture": "amd64"}},
]}


def test_choose_by_arch_and_variant():
    assert choose_manifest(INDEX, ("linux", "amd64", ""))["digest"] == "sha256:amd"
    assert choose_manifest(INDEX, ("linux", "arm", "v6"))["digest"] == "sha256:arm6"
    assert choose_manifest(INDEX, ("linux", "arm", ""))["digest"] == "sha256:arm7"


def test_no_match_says_so():
    with pytest.raises(NotFound, match="no matching manifest for linux/s390x"):
        choose_manifest(INDEX, ("linux", "s390x", ""))


def test_parse_platform():
    assert parse_platform("") == host_platform()
    assert parse_platform("linux/arm64/v8") == ("linux", "arm64", "v8")
    assert parse_platform("Linux/AMD64") == ("linux", "amd64", "")
    with pytest.raises(InvalidArgument):
        parse_platform("linux//x")
