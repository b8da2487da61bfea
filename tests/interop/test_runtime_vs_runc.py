"""The same bundles through LinuxRuntime and runc: what a process can observe must match."""

from __future__ import annotations

import signal

import pytest

from skiff.engine.runtime.api import IOSpec
from skiff.engine.runtime.errors import ExecFailed
from tests.integration.runtime import fixtures

# the runtime test fixtures, shared with tests/integration/runtime
busybox_rootfs = fixtures.busybox_rootfs
linux_rt = fixtures.linux_rt
runc_rt = fixtures.runc_rt

pytestmark = [pytest.mark.root, pytest.mark.interop]

MOUNTS = "awk '{print $2, $3, substr($4, 1, 2)}' /proc/self/mounts | sort"
LIMITS = ("cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max "
          "/sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpuset/cpuset.cpus")

CASES = {
    "identity": (["sh", "-c", "hostname; id; echo $HOME; pwd; umask"], {"hostname": "hn1", "uid": 1000, "gid": 1000, "cwd": "/tmp"}),
    "root-identity": (["sh", "-c", "id; echo $HOME; cat /proc/self/status | grep -E '^Cap(Eff|Prm|Bnd)'"], {}),
    "mounts": (["sh", "-c", MOUNTS], {}),
    "dev": (["sh", "-c", "ls -l /dev | awk '{print $1, $5, $6, $NF}'"], {}),
    "pid1": (["sh", "-c", "echo $$; readlink /proc/1/exe; cat /proc/1/cmdline"], {}),
    "readonly-root": (["sh", "-c", "touch /x 2>&1; echo $?"], {"readonly": True}),
    "masked": (["sh", "-c", "wc -c < /proc/kcore; ls /sys/firmware | wc -l; echo 1 > /proc/sys/vm/swappiness; echo $?"], {}),
    "limits": (["sh", "-c", LIMITS], {"resources": {"memory": {"limit": 33554432}, "pids": {"limit": 20},
                                                    "cpu": {"shares": 256, "quota": 20000, "period": 100000, "cpus": "0"}}}),
    "exit-code": (["sh", "-c", "exit 42"], {}),
    "self-signal": (["sh", "-c", "kill -USR1 $$; sleep 1"], {"namespaces": ["mount", "uts", "ipc", "network"]}),
    "env": (["sh", "-c", "env | sort"], {"env": ["PATH=/bin:/usr/bin", "A=1", "B=two words"]}),
    "no-pid-ns": (["sh", "-c", "test $$ -ne 1 && echo host-pid"], {"namespaces": ["mount", "uts", "ipc", "network"]}),
    "stderr": (["sh", "-c", "echo to-err >&2; echo to-out"], {}),
    "cgroupns": (["sh", "-c", "grep -E ':(memory|pids):' /proc/self/cgroup"],
                 {"namespaces": ["pid", "mount", "uts", "ipc", "network", "cgroup"]}),
    "bind-mounts": (["sh", "-c", "cat /data/f; touch /data/g 2>&1 | sed 's/.*: //'; grep ' /data ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1"],
                    {"mounts": [{"destination": "/data", "type": "bind", "source": "/tmp/skiff-interop-data",
                                 "options": ["rbind", "ro"]},
                                {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
                                 "options": ["nosuid", "size=1m"]}]}),
    "all-caps-user": (["sh", "-c", "grep -E '^Cap' /proc/self/status"], {"uid": 1000, "caps": ["CAP_KILL", "CAP_NET_RAW"]}),
}


@pytest.fixture(autouse=True)
def bind_source():
    """A host directory for the bind-mount case (fixed path: both runtimes see the same)."""
    import os
    import shutil

    os.makedirs("/tmp/skiff-interop-data", exist_ok=True)
    with open("/tmp/skiff-interop-data/f", "w") as f:
        f.write("host-data\n")
    yield
    shutil.rmtree("/tmp/skiff-interop-data", ignore_errors=True)


def observe(h, name: str, args: list[str], kw: dict) -> tuple:
    ex, out, err = h.run(name, args, **kw)
    return ex.exit_code, ex.signal, out, err


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_observable_result(case, linux_rt, runc_rt):
    args, kw = CASES[case]
    ours = observe(linux_rt, case, args, kw)
    theirs = observe(runc_rt, case, args, kw)
    assert ours == theirs
    if case == "self-signal":
        assert ours[0] == 128 + signal.SIGUSR1


@pytest.mark.parametrize("args,code", [(["nosuchcmd"], 127), (["/etc/passwd"], 126), (["/nope/x"], 127)])
def test_same_exec_failures(args, code, linux_rt, runc_rt):
    errors = []
    for h in (linux_rt, runc_rt):
        with pytest.raises(ExecFailed) as e:
            h.create("c1", args)
        errors.append((e.value.exit_code, str(e.value)))
    assert errors[0][0] == errors[1][0] == code
    assert errors[0][1] == errors[1][1]


def test_same_exec_into_running_container(linux_rt, runc_rt):
    results = []
    for h in (linux_rt, runc_rt):
        h.create("c1", ["sleep", "30"], hostname="execbox")
        h.rt.start("c1")
        h.rt.exec("c1", "e1", {"args": ["sh", "-c", "hostname; cat /proc/1/cmdline; echo; exit 9"], "cwd": "/",
                               "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}}, IOSpec(log_path=h.log_path("e1")))
        ex = h.wait("c1", "e1")
        results.append((ex.exit_code, h.logs("e1")))
        h.rt.delete("c1", force=True)
    assert results[0] == results[1]
    assert results[0][0] == 9
