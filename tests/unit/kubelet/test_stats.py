"""The Summary API's pure parts: rates from two samples, working set, /proc parsing, pod sums."""

from types import SimpleNamespace

from skiff.cluster.kubelet import naming
from skiff.cluster.kubelet.stats import (
    CpuSample,
    Sampler,
    SummaryProvider,
    cpu_usage_ns,
    meminfo_stats,
    memory_stats,
    nano_cores,
    proc_stat_usage_ns,
    sum_stats,
)

T = "2026-01-01T00:00:00Z"


def test_nano_cores_needs_two_ordered_samples():
    assert nano_cores(None, CpuSample(1.0, 5)) is None
    assert nano_cores(CpuSample(1.0, 0), CpuSample(3.0, 1_000_000_000)) == 500_000_000
    assert nano_cores(CpuSample(1.0, 10), CpuSample(2.0, 5)) is None  # counter reset: no rate
    assert nano_cores(CpuSample(2.0, 0), CpuSample(2.0, 5)) is None


def test_sampler_keeps_a_base_at_least_a_second_old():
    s = Sampler()
    assert s.record("c", CpuSample(0.0, 0)) is None
    assert s.record("c", CpuSample(0.5, 100)) is None  # too close to make a rate of
    assert s.record("c", CpuSample(2.0, 1_000_000_000)) == 500_000_000
    # a request right after housekeeping keeps the older base, so the span stays long
    assert s.record("c", CpuSample(2.5, 1_500_000_000)) == 600_000_000
    s.forget_except({"other"})
    assert s.samples == {}


def test_memory_working_set_is_usage_minus_inactive_file_v1_and_v2():
    v1 = memory_stats({"usage": 100 << 20, "limit": 1 << 63, "stats": {"total_inactive_file": 30 << 20,
                                                                       "total_rss": 50 << 20,
                                                                       "inactive_file": 1}}, T)
    assert v1["workingSetBytes"] == 70 << 20 and v1["rssBytes"] == 50 << 20 and v1["usageBytes"] == 100 << 20
    assert "availableBytes" not in v1  # unlimited
    v2 = memory_stats({"usage": 10 << 20, "limit": 64 << 20, "stats": {"inactive_file": 2 << 20, "anon": 7 << 20}}, T)
    assert v2["workingSetBytes"] == 8 << 20 and v2["rssBytes"] == 7 << 20
    assert v2["availableBytes"] == 56 << 20
    assert memory_stats({"usage": 1, "stats": {"inactive_file": 5}}, T)["workingSetBytes"] == 0


def test_proc_stat_busy_time_leaves_out_idle_and_iowait():
    text = "cpu  100 10 50 1000 40 5 5 2 0 0\ncpu0 1 1 1 1 1 1 1 1 0 0\n"
    assert proc_stat_usage_ns(text, clk_tck=100) == (100 + 10 + 50 + 5 + 5 + 2) * 10_000_000
    assert proc_stat_usage_ns("", clk_tck=100) == 0


def test_meminfo_working_set_and_available():
    text = ("MemTotal:       1000 kB\nMemFree:         200 kB\nMemAvailable:    600 kB\n"
            "Inactive(file):  300 kB\nAnonPages:       250 kB\n")
    m = meminfo_stats(text, T)
    assert m["usageBytes"] == 800 * 1024 and m["workingSetBytes"] == 500 * 1024
    assert m["availableBytes"] == 600 * 1024 and m["rssBytes"] == 250 * 1024


def test_pod_sum_has_a_rate_only_when_every_container_has_one():
    a = {"cpu": {"usageCoreNanoSeconds": 10, "usageNanoCores": 3}, "memory": {"workingSetBytes": 5, "usageBytes": 6}}
    b = {"cpu": {"usageCoreNanoSeconds": 20, "usageNanoCores": 4}, "memory": {"workingSetBytes": 7, "usageBytes": 8}}
    cpu, mem = sum_stats([a, b], T)
    assert cpu["usageNanoCores"] == 7 and cpu["usageCoreNanoSeconds"] == 30 and mem["workingSetBytes"] == 12
    cpu, _ = sum_stats([a, {"cpu": {"usageCoreNanoSeconds": 1}, "memory": {}}], T)
    assert "usageNanoCores" not in cpu


def test_summary_from_a_fake_kubelet():
    """Containers grouped by pod, sandboxes and stopped containers left out, a rate on the
    second sample; the pod is the containers' sum when it has no pod cgroup."""
    used = {"c1": 0}

    def raw(cid):
        return {"cpu": {"usage": {"total": used[cid]}}, "memory": {"usage": 10, "stats": {"total_inactive_file": 4}}}

    def rc(cid, container, running=True, sandbox=False):
        labels = {naming.CONTAINER_TYPE: "podsandbox"} if sandbox else {}
        return SimpleNamespace(id=cid, key=naming.ContainerKey(container, "web", "ns", "u1", 0), running=running,
                               is_sandbox=sandbox, started_at=T, labels=labels)

    listed = [rc("c1", "app"), rc("s1", "POD", sandbox=True), rc("old", "app", running=False)]
    pod = {"metadata": {"name": "web", "namespace": "ns", "uid": "u1"}, "status": {"startTime": T}}
    kubelet = SimpleNamespace(node_name="n1", workers={"u1": SimpleNamespace(pod=pod)},
                              runtime=SimpleNamespace(list=lambda: listed), pod_cgroups=SimpleNamespace(made={}),
                              engine=SimpleNamespace(containers=SimpleNamespace(runtime=SimpleNamespace(stats=raw))))
    p = SummaryProvider(kubelet)
    first = p.collect()
    assert first["node"]["nodeName"] == "n1" and first["node"]["memory"]["workingSetBytes"] > 0
    [ps] = first["pods"]
    assert ps["podRef"] == {"name": "web", "namespace": "ns", "uid": "u1"} and ps["startTime"] == T
    assert [c["name"] for c in ps["containers"]] == ["app"]
    assert "usageNanoCores" not in ps["containers"][0]["cpu"]
    assert ps["memory"]["workingSetBytes"] == 6
    base = p.sampler.samples["c1"][1]
    used["c1"] = 2_000_000_000
    p.sampler.samples["c1"] = (None, CpuSample(base.at - 4, 0))  # as if sampled 4 s earlier
    second = p.collect()["pods"][0]
    rate = second["containers"][0]["cpu"]["usageNanoCores"]
    assert 400_000_000 <= rate <= 500_000_000
    assert second["cpu"]["usageNanoCores"] == rate


def test_cpu_usage_ns_tolerates_missing_figures():
    assert cpu_usage_ns({}) == 0 and cpu_usage_ns({"cpu": {"usage": {"total": 7}}}) == 7
