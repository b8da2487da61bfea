"""The cgroup managers against a fake hierarchy in a temp dir (plain files stand in for
the kernel's), so v2 is covered on this v1 host and nothing needs root."""

from __future__ import annotations

import os

import pytest

from skiff.common.errors import SystemError_
from skiff.engine.runtime.cgroups import is_v2, manager_for
from skiff.engine.runtime.cgroups.v1 import V1Manager
from skiff.engine.runtime.cgroups.v2 import V2Manager


def put(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def get(path):
    with open(path) as f:
        return f.read()


@pytest.fixture
def v2root(tmp_path):
    put(str(tmp_path / "cgroup.controllers"), "cpuset cpu io memory pids\n")
    put(str(tmp_path / "cgroup.subtree_control"), "")
    return tmp_path


def seed_v2_files(d, controllers="cpuset cpu io memory pids"):
    put(os.path.join(d, "cgroup.controllers"), controllers + "\n")
    put(os.path.join(d, "cgroup.subtree_control"), "")
    for f in ("memory.max", "memory.swap.max", "cpu.weight", "cpu.max", "pids.max", "cpuset.cpus", "cgroup.procs",
              "cgroup.freeze"):
        put(os.path.join(d, f), "")


def test_v2_is_detected_and_chosen(v2root):
    assert is_v2(str(v2root))
    assert isinstance(manager_for("p/c1", str(v2root)), V2Manager)
    assert manager_for("p/c1", str(v2root)).path == "/p/c1"


def test_v2_create_enables_controllers_down_the_tree(v2root):
    m = V2Manager("/p/c1", str(v2root))
    # the kernel would create these files in each new directory; the fake needs them first
    seed_v2_files(str(v2root / "p"))
    m.create()
    assert get(str(v2root / "cgroup.subtree_control")) == "+cpu +cpuset +memory +pids +io"
    assert get(str(v2root / "p" / "cgroup.subtree_control")) == "+cpu +cpuset +memory +pids +io"
    assert (v2root / "p" / "c1").is_dir()


def test_v2_apply_and_stats(v2root):
    d = str(v2root / "p" / "c1")
    seed_v2_files(d)
    m = V2Manager("/p/c1", str(v2root))
    m.apply({"memory": {"limit": 1 << 20, "swap": 2 << 20}, "cpu": {"shares": 1024, "quota": 50000, "period": 100000},
             "pids": {"limit": 10}})
    assert get(d + "/memory.max") == str(1 << 20)
    assert get(d + "/memory.swap.max") == str(1 << 20)
    assert get(d + "/cpu.weight") == "39"
    assert get(d + "/cpu.max") == "50000 100000"
    assert get(d + "/pids.max") == "10"
    put(d + "/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n")
    put(d + "/memory.current", "4096\n")
    put(d + "/memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n")
    put(d + "/pids.current", "3\n")
    put(d + "/pids.max", "max\n")
    st = m.stats()
    assert st["cpu"]["usage"]["total"] == 1_500_000 and st["cpu"]["usage"]["kernel"] == 500_000
    assert st["memory"]["usage"] == 4096 and st["memory"]["failcnt"] == 2
    assert st["pids"] == {"current": 3, "limit": 0}
    assert m.oom_killed()


def test_v2_missing_file_is_a_clear_error(v2root):
    d = str(v2root / "p" / "c1")
    os.makedirs(d)
    with pytest.raises(SystemError_, match="pids.max is not supported"):
        V2Manager("/p/c1", str(v2root)).apply({"pids": {"limit": 5}})


def test_v1_cpuset_is_copied_down_and_limits_written(tmp_path):
    root = tmp_path
    for c in ("cpu", "cpuset", "memory", "pids"):
        os.makedirs(root / c)
    put(str(root / "cpuset" / "cpuset.cpus"), "0-3\n")
    put(str(root / "cpuset" / "cpuset.mems"), "0\n")
    # pre-seed what the kernel would create in new cpuset dirs: empty cpus/mems
    for sub in ("p", "p/c1"):
        put(str(root / "cpuset" / sub / "cpuset.cpus"), "")
        put(str(root / "cpuset" / sub / "cpuset.mems"), "")
    m = V1Manager("/p/c1", str(root))
    assert manager_for("/p/c1", str(root)).__class__ is V1Manager
    m.create()
    assert get(str(root / "cpuset/p/c1/cpuset.cpus")) == "0-3"
    assert get(str(root / "cpuset/p/cpuset.mems")) == "0"
    for f in ("memory/p/c1/memory.limit_in_bytes", "cpu/p/c1/cpu.shares", "pids/p/c1/pids.max"):
        put(str(root / f), "")
    m.apply({"memory": {"limit": 12345, "swap": 99999}, "cpu": {"shares": 100}, "pids": {"limit": 7}})
    assert get(str(root / "memory/p/c1/memory.limit_in_bytes")) == "12345"
    assert get(str(root / "cpu/p/c1/cpu.shares")) == "100"
    assert get(str(root / "pids/p/c1/pids.max")) == "7"
    # no memsw file (swap accounting off): skipped, as Docker does with a warning
    assert not (root / "memory/p/c1/memory.memsw.limit_in_bytes").exists()
    assert sorted(m.procs_files()) == sorted(str(root / c / "p/c1/cgroup.procs") for c in ("cpu", "cpuset", "memory", "pids"))
    assert dict(m.container_binds())["memory"] == str(root / "memory/p/c1")
