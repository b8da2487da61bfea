"""Discovery on disk between invocations."""

from skiff.cli.kubectl import discovery_cache
from skiff.cluster.client.paths import Resource

RES = [Resource("apps", "v1", "deployments", "Deployment", True, "deployment", ("deploy",), ("get", "list"),
                ("all",), ("scale", "status")),
       Resource("", "v1", "nodes", "Node", False)]


def test_round_trip_and_expiry(tmp_path):
    path = discovery_cache.cache_file("https://127.0.0.1:6443", {"KUBECACHEDIR": str(tmp_path)})
    assert path == str(tmp_path / "skiff-discovery" / "127.0.0.1_6443.json")
    assert discovery_cache.load(path) is None
    discovery_cache.store(path, RES)
    assert discovery_cache.load(path) == RES
    assert discovery_cache.load(path, now=__import__("time").time() + discovery_cache.TTL_SECONDS + 1) is None


def test_damaged_or_foreign_files_are_ignored(tmp_path):
    path = tmp_path / "x.json"
    for text in ("not json", '{"version": 99}', '{"version": 1, "written": 9e99, "resources": [[1]]}', "[]"):
        path.write_text(text)
        assert discovery_cache.load(str(path)) is None


def test_unwritable_cache_is_no_cache(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    discovery_cache.store(str(blocker / "sub" / "x.json"), RES)  # no exception
    assert discovery_cache.cache_dir({"HOME": "/h"}) == "/h/.kube/cache"
