from skiff.cluster.scheduler.framework import CycleState
from skiff.cluster.scheduler.nodeinfo import pod_requests
from skiff.cluster.scheduler.plugins.noderesources import NodeResourcesFit, least_allocated
from tests.unit.scheduler.fakes import info, node, pod

fit = NodeResourcesFit()


def test_fits_until_cpu_runs_out():
    n = info(node("n", cpu="2"), pod("a", cpu="1500m"))
    assert fit.filter(CycleState(), pod("b", cpu="500m"), n).ok
    st = fit.filter(CycleState(), pod("c", cpu="600m"), n)
    assert st.reasons == ["Insufficient cpu"] and st.code == "Unschedulable"


def test_memory_and_cpu_reasons_in_kubernetes_order():
    n = info(node("n", cpu="1", memory="1Gi"))
    assert fit.filter(CycleState(), pod("p", cpu="2", memory="2Gi"), n).reasons == [
        "Insufficient cpu", "Insufficient memory"]


def test_too_many_pods():
    n = info(node("n", pods="1"), pod("a"))
    assert fit.filter(CycleState(), pod("b"), n).reasons == ["Too many pods"]


def test_extended_resources():
    n = info(node("n", extra={"example.com/gpu": "1"}))
    gpu = pod("g", containers=[{"name": "c", "image": "x", "resources": {"requests": {"example.com/gpu": "1"}}}])
    assert fit.filter(CycleState(), gpu, n).ok
    assert fit.filter(CycleState(), gpu, info(node("m"))).reasons == ["Insufficient example.com/gpu"]


def test_init_containers_count_as_their_maximum_plus_overhead():
    spec = {"containers": [{"resources": {"requests": {"cpu": "100m"}}}, {"resources": {"requests": {"cpu": "200m"}}}],
            "initContainers": [{"resources": {"requests": {"cpu": "500m", "memory": "1Mi"}}}],
            "overhead": {"cpu": "50m"}}
    assert pod_requests(spec) == {"cpu": 550, "memory": 1024 * 1024}


def test_least_allocated_prefers_the_emptier_node():
    busy = info(node("busy", cpu="4", memory="8Gi"), pod("a", cpu="3", memory="6Gi"))
    idle = info(node("idle", cpu="4", memory="8Gi"))
    p = pod("p", cpu="500m", memory="1Gi")
    assert fit.score(CycleState(), p, idle) > fit.score(CycleState(), p, busy)
    assert least_allocated(0, 100) == 100 and least_allocated(150, 100) == 0


def test_pods_without_requests_score_as_defaults():
    n = info(node("n", cpu="1", memory="1000Mi"))
    # 100m of 1 cpu and 200Mi of 1000Mi used: (90 + 80) / 2
    assert fit.score(CycleState(), pod("p"), n) == 85
