"""The layer cache's lookup: children of the parent whose probe config matches."""

import threading
from dataclasses import dataclass

from skiff.engine.build.cache import cache_key, find_cached


@dataclass
class Rec:
    id: str
    parent: str


class FakeStore:
    def __init__(self, records):
        self.lock = threading.RLock()
        self.records = {r.id: r for r in records}


class FakeImages:
    def __init__(self, configs: dict[str, tuple[str, dict]]):
        self.store = FakeStore([Rec(i, p) for i, (p, _) in configs.items()])
        self.configs = {i: c for i, (_, c) in configs.items()}

    def _config(self, image_id):
        return self.configs[image_id]


PROBE = {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh", "-c", "#(nop) ", "ENV A=1"], "Labels": {}}


def test_cache_key_ignores_empty_fields():
    assert cache_key(PROBE) == cache_key({**PROBE, "Volumes": None, "WorkingDir": "", "Labels": None})
    assert cache_key(PROBE) != cache_key({**PROBE, "User": "1"})


def test_hit_only_among_the_parents_children():
    images = FakeImages({
        "sha256:child": ("sha256:base", {"created": "2026-01-01T00:00:00Z", "container_config": PROBE}),
        "sha256:other-parent": ("sha256:else", {"created": "2026-01-02T00:00:00Z", "container_config": PROBE}),
        "sha256:loaded": ("sha256:base", {"created": "2026-01-03T00:00:00Z"}),
    })
    assert find_cached(images, "sha256:base", PROBE) == "sha256:child"
    assert find_cached(images, "sha256:base", {**PROBE, "Cmd": ["/bin/sh", "-c", "other"]}) is None
    assert find_cached(images, "sha256:nothing", PROBE) is None


def test_newest_of_several_hits_wins():
    images = FakeImages({
        "sha256:old": ("sha256:base", {"created": "2026-01-01T00:00:00Z", "container_config": PROBE}),
        "sha256:new": ("sha256:base", {"created": "2026-02-01T00:00:00Z", "container_config": PROBE}),
    })
    assert find_cached(images, "sha256:base", PROBE) == "sha256:new"
