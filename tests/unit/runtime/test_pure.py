"""Pure pieces of the runtime: mount options, namespaces, capabilities, cgroup writes, status."""

from __future__ import annotations

import pytest

from skiff.common.errors import InvalidArgument
from skiff.engine.runtime import caps, mountopts
from skiff.engine.runtime import syscalls as sc
from skiff.engine.runtime.api import CREATED, PAUSED, RUNNING, STOPPED, ExitStatus, RuntimeState
from skiff.engine.runtime.cgroups import base as cgbase
from skiff.engine.runtime.cgroups import v1, v2
from skiff.engine.runtime.namespaces import exec_plan, plan
from skiff.engine.runtime.state import derive_status


def test_mount_options_flags_propagation_and_data():
    o = mountopts.parse(["nosuid", "noexec", "ro", "rw", "mode=755", "size=64k", "rprivate", "rbind"])
    assert o.flags == sc.MS_NOSUID | sc.MS_NOEXEC | sc.MS_BIND | sc.MS_REC
    assert o.propagation == [sc.MS_PRIVATE | sc.MS_REC]
    assert o.data == "mode=755,size=64k"
    assert o.is_bind


def test_mount_options_later_option_wins():
    assert mountopts.parse(["rw", "ro"]).flags == sc.MS_RDONLY
    assert mountopts.parse(["ro", "rw"]).flags == 0


def test_rootfs_propagation_names():
    assert mountopts.propagation_flag("rslave") == sc.MS_SLAVE | sc.MS_REC
    with pytest.raises(ValueError):
        mountopts.propagation_flag("sideways")


def test_namespace_plan_new_and_joined():
    p = plan([{"type": "pid"}, {"type": "network", "path": "/proc/42/ns/net"}, {"type": "mount"},
              {"type": "uts"}, {"type": "ipc", "path": "/proc/42/ns/ipc"}])
    assert p.new_pid and not p.join_pid
    assert p.new == sc.CLONE_NEWNS | sc.CLONE_NEWUTS
    assert p.join == [("ipc", "/proc/42/ns/ipc"), ("network", "/proc/42/ns/net")]


def test_namespace_plan_rejects_unknown_and_duplicates():
    with pytest.raises(InvalidArgument):
        plan([{"type": "time-travel"}])
    with pytest.raises(InvalidArgument):
        plan([{"type": "pid"}, {"type": "pid"}])


def test_exec_plan_joins_all_of_inits_namespaces():
    p = exec_plan(7, {"pid", "mount", "network"})
    assert p.join == [("network", "/proc/7/ns/net"), ("mount", "/proc/7/ns/mnt")]
    assert p.join_pid == "/proc/7/ns/pid" and p.new == 0


def test_capability_masks():
    m = caps.mask(["CAP_CHOWN", "CAP_KILL", "NET_RAW", "CAP_NOT_A_THING"], 40)
    assert m == (1 << 0) | (1 << 5) | (1 << 13)
    assert caps.bits_to_names(m) == ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"]
    assert caps.to_drop(m, 5) == [1, 2, 3, 4]
    # caps above the kernel's last are skipped, as runc does
    assert caps.mask(["CAP_CHECKPOINT_RESTORE"], 39) == 0


def test_cgroup_v1_writes_in_order():
    res = {"devices": [{"allow": False, "access": "rwm"}, {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"}],
           "memory": {"limit": 1000, "swap": 2000}, "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
           "pids": {"limit": 0}}
    assert v1.resource_writes(res) == [
        ("devices", "devices.deny", "a *:* rwm"),
        ("devices", "devices.allow", "c 1:3 rwm"),
        ("memory", "memory.limit_in_bytes", "1000"),
        ("memory", "memory.memsw.limit_in_bytes", "2000"),
        ("cpu", "cpu.shares", "512"),
        ("cpu", "cpu.cfs_period_us", "100000"),
        ("cpu", "cpu.cfs_quota_us", "50000"),
        ("cpuset", "cpuset.cpus", "0"),
        ("pids", "pids.max", "max"),
    ]


def test_cgroup_v2_writes_convert_v1_units():
    res = {"memory": {"limit": 1000, "swap": 3000}, "cpu": {"shares": 1024, "quota": 25000, "period": 100000},
           "pids": {"limit": 9}}
    assert v2.resource_writes(res) == [
        ("memory.max", "1000"), ("memory.swap.max", "2000"), ("cpu.weight", "39"),
        ("cpu.max", "25000 100000"), ("pids.max", "9"),
    ]
    assert cgbase.shares_to_weight(2) == 1 and cgbase.shares_to_weight(262144) == 10000


def test_status_derivation():
    assert derive_status(True, True, False, False) == STOPPED
    assert derive_status(False, False, True, False) == STOPPED
    assert derive_status(False, True, True, False) == CREATED
    assert derive_status(False, True, False, True) == PAUSED
    assert derive_status(False, True, False, False) == RUNNING


def test_state_oci_shape_and_exit_round_trip():
    ex = ExitStatus(exit_code=137, signal=9, oom_killed=True, finished_at="2024-01-01T00:00:00.000000000Z")
    assert ExitStatus.from_dict(ex.to_dict()) == ex
    st = RuntimeState(id="a", status=STOPPED, pid=5, shim_pid=4, bundle="/b", created="t", exit=ex)
    oci = st.to_oci()
    assert oci["pid"] == 0 and oci["status"] == "stopped" and oci["id"] == "a" and oci["bundle"] == "/b"
