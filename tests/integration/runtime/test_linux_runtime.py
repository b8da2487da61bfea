"""LinuxRuntime end to end on a busybox rootfs: namespaces, mounts, identity, cgroups, exit codes."""

from __future__ import annotations

import os
import select
import signal

import pytest

from skiff.common.errors import Conflict, NotFound, SystemError_
from skiff.engine.runtime.api import CREATED, PAUSED, RUNNING, STOPPED, IOSpec
from skiff.engine.runtime.errors import ExecFailed

pytestmark = pytest.mark.root


def test_output_goes_to_the_json_log_by_stream(linux_rt):
    ex, out, err = linux_rt.run("c1", ["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert ex.exit_code == 3 and ex.signal == 0
    assert out == "out\n"
    assert err == "err\n"
    assert ex.finished_at.endswith("Z")


def test_hostname_and_identity(linux_rt):
    ex, out, _ = linux_rt.run("c1", ["sh", "-c", "hostname; id -u; id -g; id -G"], hostname="box1",
                              uid=1000, gid=1001)
    assert ex.exit_code == 0
    assert out.split() == ["box1", "1000", "1001", "1001"]


def test_pid_namespace_makes_the_command_pid_1(linux_rt):
    _, out, _ = linux_rt.run("c1", ["sh", "-c", "echo $$"])
    assert out.strip() == "1"


def test_state_machine_created_running_stopped(linux_rt):
    # no pid namespace: an init of a pid namespace ignores SIGTERM without a handler
    st = linux_rt.create("c1", ["sleep", "60"], namespaces=["mount", "uts", "ipc", "network"])
    assert st.status == CREATED and st.pid > 0 and st.shim_pid > 0
    linux_rt.rt.start("c1")
    assert linux_rt.rt.state("c1").status == RUNNING
    with pytest.raises(Conflict):
        linux_rt.rt.start("c1")
    with pytest.raises(Conflict):
        linux_rt.rt.delete("c1")
    linux_rt.rt.kill("c1", signal.SIGTERM)
    ex = linux_rt.wait("c1")
    assert (ex.exit_code, ex.signal) == (143, signal.SIGTERM)
    st = linux_rt.rt.state("c1")
    assert st.status == STOPPED and st.exit.exit_code == 143
    linux_rt.rt.delete("c1")
    with pytest.raises(NotFound):
        linux_rt.rt.state("c1")


def test_signal_handler_in_pid_1(linux_rt):
    linux_rt.create("c1", ["sh", "-c", "trap 'exit 7' TERM; echo ready; while true; do sleep 0.05; done"])
    linux_rt.rt.start("c1")
    linux_rt.wait_for_output("c1", "ready")
    linux_rt.rt.kill("c1", signal.SIGTERM)
    assert linux_rt.wait("c1").exit_code == 7


def test_sigkill_gives_137(linux_rt):
    linux_rt.create("c1", ["sleep", "60"])
    linux_rt.rt.start("c1")
    linux_rt.rt.kill("c1", signal.SIGKILL, all=True)
    assert linux_rt.wait("c1").exit_code == 137


def test_missing_command_is_127_with_dockers_message(linux_rt):
    with pytest.raises(ExecFailed) as e:
        linux_rt.create("c1", ["nosuchcmd"])
    assert e.value.exit_code == 127
    assert str(e.value) == 'exec: "nosuchcmd": executable file not found in $PATH'
    assert linux_rt.rt.list() == []


def test_not_executable_is_126(linux_rt):
    with pytest.raises(ExecFailed) as e:
        linux_rt.create("c1", ["/etc/passwd"])
    assert e.value.exit_code == 126
    assert "permission denied" in str(e.value)


def test_masked_and_readonly_paths(linux_rt):
    script = "cat /proc/kcore | wc -c; ls /sys/firmware | wc -l; touch /proc/sys/kernel/x 2>/dev/null || echo rofs"
    _, out, _ = linux_rt.run("c1", ["sh", "-c", script])
    assert out.split() == ["0", "0", "rofs"]


def test_readonly_root(linux_rt):
    _, out, _ = linux_rt.run("c1", ["sh", "-c", "touch /x 2>/dev/null && echo wrote || echo ro; touch /dev/shm/y && echo shm"],
                             readonly=True)
    assert out.split() == ["ro", "shm"]


def test_devices_and_dev_symlinks(linux_rt):
    _, out, _ = linux_rt.run("c1", ["sh", "-c", "ls /dev | sort | tr '\\n' ' '; readlink /dev/fd; echo x > /dev/null && echo ok"])
    names = out.split()
    for n in ("null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "mqueue", "ptmx", "fd", "stdin"):
        assert n in names
    assert "/proc/self/fd" in names and "ok" in names


def test_bind_mount_ro(linux_rt, tmp_path):
    src = tmp_path / "data"
    src.mkdir()
    (src / "f").write_text("hi\n")
    mounts = [{"destination": "/data", "type": "bind", "source": str(src), "options": ["rbind", "ro"]}]
    _, out, _ = linux_rt.run("c1", ["sh", "-c", "cat /data/f; touch /data/g 2>/dev/null || echo ro"], mounts=mounts)
    assert out.split() == ["hi", "ro"]


def test_cgroup_limits_are_applied_and_visible(linux_rt):
    res = {"memory": {"limit": 64 * 1024 * 1024}, "pids": {"limit": 50}, "cpu": {"shares": 512, "quota": 50000, "period": 100000}}
    script = ("cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max "
              "/sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpu/cpu.cfs_quota_us")
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        script = "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; echo 512; cut -d' ' -f1 /sys/fs/cgroup/cpu.max"
    _, out, _ = linux_rt.run("c1", ["sh", "-c", script], resources=res)
    assert out.split() == [str(64 * 1024 * 1024), "50", "512", "50000"]


def test_oom_kill_is_reported(linux_rt):
    res = {"memory": {"limit": 16 * 1024 * 1024, "swap": 16 * 1024 * 1024}}
    linux_rt.create("c1", ["sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1"], resources=res)
    linux_rt.rt.start("c1")
    ex = linux_rt.wait("c1")
    assert ex.exit_code == 137
    assert ex.oom_killed


def test_pause_resume_stats_pids(linux_rt):
    linux_rt.create("c1", ["sleep", "60"])
    linux_rt.rt.start("c1")
    linux_rt.rt.pause("c1")
    assert linux_rt.rt.state("c1").status == PAUSED
    linux_rt.rt.resume("c1")
    assert linux_rt.rt.state("c1").status == RUNNING
    pid = linux_rt.rt.state("c1").pid
    assert linux_rt.rt.pids("c1") == [pid]
    stats = linux_rt.rt.stats("c1")
    assert stats["memory"]["usage"] > 0 and stats["pids"]["current"] == 1
    linux_rt.rt.delete("c1", force=True)
    assert linux_rt.rt.list() == []


def test_delete_force_kills_a_paused_container(linux_rt):
    linux_rt.create("c1", ["sleep", "60"])
    linux_rt.rt.start("c1")
    pid = linux_rt.rt.state("c1").pid
    linux_rt.rt.pause("c1")
    linux_rt.rt.delete("c1", force=True)
    assert not os.path.exists(f"/proc/{pid}/status") or "Z" in open(f"/proc/{pid}/stat").read().split()[2]


def test_delete_of_a_created_container(linux_rt):
    st = linux_rt.create("c1", ["true"])
    linux_rt.rt.delete("c1")
    assert linux_rt.rt.list() == []
    assert not os.path.exists(f"/proc/{st.pid}/cmdline") or "Z" in open(f"/proc/{st.pid}/stat").read().split()[2]


def test_exec_joins_namespaces_and_reports_exit(linux_rt):
    linux_rt.create("c1", ["sleep", "60"], hostname="inside")
    linux_rt.rt.start("c1")
    st = linux_rt.rt.exec("c1", "e1", {"args": ["sh", "-c", "hostname; echo $$; exit 5"], "cwd": "/",
                                       "env": ["PATH=/bin"]}, IOSpec())
    assert st.pid > 0 and st.shim_pid > 0
    ex = linux_rt.wait("c1", "e1")
    assert ex.exit_code == 5
    with pytest.raises(ExecFailed) as e:
        linux_rt.rt.exec("c1", "e2", {"args": ["nope"], "cwd": "/", "env": ["PATH=/bin"]}, IOSpec())
    assert e.value.exit_code == 127


def test_log_rotation(linux_rt):
    io = IOSpec(log_path=linux_rt.log_path("c1"), log_max_size=2000, log_max_file=3)
    linux_rt.create("c1", ["sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line$i; i=$((i+1)); done"], io=io)
    linux_rt.rt.start("c1")
    linux_rt.wait("c1")
    base = linux_rt.log_path("c1")
    assert os.path.exists(base + ".1") and os.path.exists(base + ".2")
    assert not os.path.exists(base + ".3")
    for p in (base, base + ".1", base + ".2"):
        assert os.path.getsize(p) <= 2000
    out, _ = linux_rt.logs("c1")
    assert out.endswith("line199\n")


def test_rlimits_umask_and_no_new_privileges(linux_rt, tmp_path):
    import json as _json

    b = linux_rt.bundle(["sh", "-c", "ulimit -n; ulimit -Hn; umask; grep NoNewPrivs /proc/self/status"])
    cfg = _json.loads(open(b + "/config.json").read())
    cfg["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654}]
    cfg["process"]["user"]["umask"] = 0o027
    cfg["process"]["noNewPrivileges"] = True
    open(b + "/config.json", "w").write(_json.dumps(cfg))
    linux_rt.rt.create("c1", b, IOSpec(log_path=linux_rt.log_path("c1")))
    linux_rt.rt.start("c1")
    assert linux_rt.wait("c1").exit_code == 0
    assert linux_rt.logs("c1")[0].split() == ["321", "654", "0027", "NoNewPrivs:", "1"]


def test_capabilities_follow_the_config(linux_rt):
    _, out, _ = linux_rt.run("c1", ["sh", "-c", "grep -E '^Cap(Eff|Bnd)' /proc/self/status"], caps=["CAP_KILL", "CAP_CHOWN"])
    assert out.split() == ["CapEff:", "0000000000000021", "CapBnd:", "0000000000000021"]
    _, out, _ = linux_rt.run("c2", ["sh", "-c", "grep -E '^CapEff' /proc/self/status"], uid=1000)
    assert out.split() == ["CapEff:", "0000000000000000"]


def test_console_size_from_the_config(linux_rt):
    import json as _json

    b = linux_rt.bundle(["stty", "size"], terminal=True)
    cfg = _json.loads(open(b + "/config.json").read())
    cfg["process"]["consoleSize"] = {"height": 40, "width": 132}
    open(b + "/config.json", "w").write(_json.dumps(cfg))
    linux_rt.rt.create("c1", b, IOSpec(terminal=True, log_path=linux_rt.log_path("c1")))
    linux_rt.rt.start("c1")
    assert linux_rt.wait("c1").exit_code == 0
    assert linux_rt.logs("c1")[0] == "40 132\r\n"


def test_join_an_existing_network_namespace(linux_rt):
    """--network container:X: the second container joins the first one's netns by path."""
    first = linux_rt.create("c1", ["sleep", "60"])
    linux_rt.rt.start("c1")
    ns_path = f"/proc/{first.pid}/ns/net"
    b = linux_rt.bundle(["sh", "-c", "readlink /proc/self/ns/net"])
    import json as _json

    cfg = _json.loads(open(b + "/config.json").read())
    cfg["linux"]["namespaces"] = [{"type": "pid"}, {"type": "mount"}, {"type": "network", "path": ns_path}]
    open(b + "/config.json", "w").write(_json.dumps(cfg))
    linux_rt.rt.create("c2", b, IOSpec(log_path=linux_rt.log_path("c2")))
    linux_rt.rt.start("c2")
    assert linux_rt.wait("c2").exit_code == 0
    assert linux_rt.logs("c2")[0].strip() == os.readlink(ns_path)


def test_user_namespace_with_id_maps(linux_rt):
    """The container's root is host uid 100000: the rootfs path must be reachable by it
    (as with runc), so this test uses its own rootfs under a 0755 directory."""
    import json as _json

    from tests.integration.runtime.bundles import extract_rootfs

    os.chmod(linux_rt.tmp, 0o755)
    linux_rt.rootfs = extract_rootfs(linux_rt.tmp / "userns-rootfs")
    b = linux_rt.bundle(["sh", "-c", "id -u; cat /proc/self/uid_map; echo $$; stat -c %u /bin/busybox; touch /etc/x 2>/dev/null || echo denied; sleep 30"])
    cfg = _json.loads(open(b + "/config.json").read())
    cfg["linux"]["namespaces"].append({"type": "user"})
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    open(b + "/config.json", "w").write(_json.dumps(cfg))
    linux_rt.rt.create("c1", b, IOSpec(log_path=linux_rt.log_path("c1")))
    linux_rt.rt.start("c1")
    linux_rt.wait_for_output("c1", "denied")
    out, err = linux_rt.logs("c1")
    assert out.split() == ["0", "0", "100000", "65536", "1", "65534", "denied"], err
    # an exec joins the user namespace too
    linux_rt.rt.exec("c1", "e1", {"args": ["sh", "-c", "id -u; cat /proc/self/uid_map"], "cwd": "/", "env": ["PATH=/bin"]},
                     IOSpec(log_path=linux_rt.log_path("e1")))
    assert linux_rt.wait("c1", "e1").exit_code == 0
    assert linux_rt.logs("e1")[0].split() == ["0", "0", "100000", "65536"]
    linux_rt.rt.delete("c1", force=True)


def test_unwritable_log_path_fails_create_cleanly(linux_rt, tmp_path):
    with pytest.raises(SystemError_, match="cannot open log"):
        linux_rt.create("c1", ["true"], io=IOSpec(log_path=str(tmp_path / "missing-dir" / "c1.log")))
    assert linux_rt.rt.list() == []


def test_update_changes_limits_of_a_running_container(linux_rt):
    linux_rt.create("c1", ["sleep", "60"], resources={"memory": {"limit": 64 << 20}, "pids": {"limit": 10}})
    linux_rt.rt.start("c1")
    linux_rt.rt.update("c1", {"memory": {"limit": 32 << 20}, "pids": {"limit": 5}})
    stats = linux_rt.rt.stats("c1")
    assert stats["memory"]["limit"] == 32 << 20
    assert stats["pids"]["limit"] == 5
    from skiff.engine.runtime.cgroups import is_v2

    if not is_v2():  # v2 has no per-cpu accounting
        assert len(stats["cpu"]["usage"]["percpu"]) == os.cpu_count()


def test_a_created_container_holds_none_of_the_engines_descriptors(linux_rt):
    """The waiting init must not keep, e.g., a client connection of the engine open."""
    r, w = os.pipe()
    linux_rt.create("c1", ["true"])
    os.close(w)
    # The shim's own copy goes at its exec (close-on-exec), a moment after create returns,
    # and the kernel shows the new /proc/PID/exe slightly before it closes those: so wait for
    # EOF itself. A holder that never lets go makes select time out and the test fail.
    try:
        readable, _, _ = select.select([r], [], [], 20)
        assert readable, "a process still holds the write end of the engine's pipe"
        assert os.read(r, 1) == b""  # EOF: nobody else has the write end
    finally:
        os.close(r)
    assert linux_rt.rt.state("c1").status == CREATED
