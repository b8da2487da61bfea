from skiff.cluster.scheduler.framework import SKIP, CycleState, Snapshot
from skiff.cluster.scheduler.nodeinfo import normalize_image
from skiff.cluster.scheduler.plugins.imagelocality import ImageLocality
from tests.unit.scheduler.fakes import info, node, pod

MB = 1024 * 1024


def test_names_are_normalized():
    assert normalize_image("nginx") == "docker.io/library/nginx:latest"
    assert normalize_image("user/app:1") == "docker.io/user/app:1"
    assert normalize_image("registry.k8s.io/pause:3.10") == "registry.k8s.io/pause:3.10"
    assert normalize_image("localhost:5000/x") == "localhost:5000/x:latest"


def test_nodes_with_the_image_score_higher():
    plugin = ImageLocality()
    have = info(node("have", images=[{"names": ["docker.io/library/nginx:latest"], "sizeBytes": 500 * MB}]))
    lack = info(node("lack"))
    snap = Snapshot([have, lack])
    p = pod("p", image="nginx")
    state = CycleState()
    assert plugin.pre_score(state, p, [have, lack], snap).ok
    assert plugin.score(state, p, have) > plugin.score(state, p, lack) == 0
    assert plugin.pre_score(CycleState(), pod("q", image="redis"), [have, lack], snap).code == SKIP
