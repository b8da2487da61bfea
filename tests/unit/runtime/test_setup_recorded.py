"""Container set-up replayed against the recording syscalls fake (no root needed)."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from skiff.engine.runtime import caps, process, rootfs
from skiff.engine.runtime import syscalls as sc
from skiff.engine.runtime.init import SetupPlan, container_setup
from skiff.engine.runtime.namespaces import plan
from skiff.engine.runtime.syscalls import RecordingSyscalls

R = "/b/rootfs"

BASIC_MOUNTS = [
    {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["newinstance", "ptmxmode=0666"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
]


class FakeChannel:
    def __init__(self):
        self.sent = []

    def send(self, msg, fds=None):
        self.sent.append((msg, fds))

    def recv(self):
        return {"type": "ok"}


def mounts_of(s: RecordingSyscalls):
    return [c[1:] for c in s.named("mount")]


def test_prepare_order_binds_root_mounts_and_pivots():
    s = RecordingSyscalls()
    rootfs.prepare(s, {"mounts": BASIC_MOUNTS}, R)
    m = mounts_of(s)
    assert m[0] == ("", "/", "", sc.MS_SLAVE | sc.MS_REC, "")
    assert m[1] == (R, R, "bind", sc.MS_BIND | sc.MS_REC, "")
    assert m[2] == ("proc", R + "/proc", "proc", sc.MS_NOSUID | sc.MS_NOEXEC | sc.MS_NODEV, "")
    assert m[3] == ("tmpfs", R + "/dev", "tmpfs", sc.MS_NOSUID | sc.MS_STRICTATIME, "mode=755")
    assert m[4] == ("devpts", R + "/dev/pts", "devpts", 0, "newinstance,ptmxmode=0666")
    assert m[5] == ("sysfs", R + "/sys", "sysfs", sc.MS_NOSUID | sc.MS_NOEXEC | sc.MS_NODEV | sc.MS_RDONLY, "")
    names = [c[0] for c in s.calls]
    # pivot_root(".", ".") then the old root is detached, after every mount under the rootfs
    assert s.named("pivot_root") == [("pivot_root", ".", ".")]
    assert names.index("pivot_root") > max(i for i, c in enumerate(s.calls) if c[0] == "mknod")
    assert s.named("umount2") == [("umount2", ".", sc.MNT_DETACH)]
    assert s.calls[-3:-2] == [("chdir", "/")]


def test_default_devices_and_symlinks_in_dev_tmpfs():
    s = RecordingSyscalls()
    rootfs.prepare(s, {"mounts": BASIC_MOUNTS}, R)
    nodes = {c[1]: (c[2], c[3], c[4]) for c in s.named("mknod")}
    assert nodes == {
        R + "/dev/null": (stat.S_IFCHR | 0o666, 1, 3), R + "/dev/zero": (stat.S_IFCHR | 0o666, 1, 5),
        R + "/dev/full": (stat.S_IFCHR | 0o666, 1, 7), R + "/dev/random": (stat.S_IFCHR | 0o666, 1, 8),
        R + "/dev/urandom": (stat.S_IFCHR | 0o666, 1, 9), R + "/dev/tty": (stat.S_IFCHR | 0o666, 5, 0),
    }
    links = {c[2]: c[1] for c in s.named("symlink")}
    assert links[R + "/dev/fd"] == "/proc/self/fd"
    assert links[R + "/dev/ptmx"] == "pts/ptmx"
    assert links[R + "/dev/stderr"] == "/proc/self/fd/2"


def test_no_device_nodes_without_a_dev_tmpfs():
    s = RecordingSyscalls()
    rootfs.prepare(s, {"mounts": BASIC_MOUNTS[:1]}, R)
    assert s.named("mknod") == [] and s.named("symlink") == []


def test_mknod_refused_falls_back_to_binding_the_hosts_node():
    s = RecordingSyscalls(fail={"mknod": errno.EPERM})
    rootfs.create_devices(s, R, [])
    binds = [m for m in mounts_of(s) if m[3] == sc.MS_BIND]
    assert ("/dev/null", R + "/dev/null", "", sc.MS_BIND, "") in binds
    assert len(binds) == 6


def test_bind_mount_of_a_file_creates_a_file_target_and_remounts_ro():
    s = RecordingSyscalls(paths={"/host/hosts": "file"})
    rootfs.mount_one(s, R, {"destination": "/etc/hosts", "type": "bind", "source": "/host/hosts",
                            "options": ["rbind", "ro", "rprivate"]})
    assert ("touch", R + "/etc/hosts") in s.calls
    assert mounts_of(s) == [
        ("/host/hosts", R + "/etc/hosts", "", sc.MS_BIND | sc.MS_REC, ""),
        ("", R + "/etc/hosts", "", sc.MS_BIND | sc.MS_REMOUNT | sc.MS_REC | sc.MS_RDONLY, ""),
        ("", R + "/etc/hosts", "", sc.MS_PRIVATE | sc.MS_REC, ""),
    ]


def test_bind_source_missing_is_an_error():
    s = RecordingSyscalls()
    with pytest.raises(OSError):
        rootfs.mount_one(s, R, {"destination": "/x", "type": "bind", "source": "/nope", "options": ["bind"]})


def test_destination_cannot_climb_out_of_the_rootfs():
    assert rootfs.in_root(R, "/../../etc") == R + "/etc"
    assert rootfs.in_root(R, "a/../../b") == R + "/b"


def test_sysfs_refused_falls_back_to_host_sys_bind():
    s = RecordingSyscalls(fail={("mount", "sysfs"): errno.EPERM})
    rootfs.mount_one(s, R, BASIC_MOUNTS[3])
    assert mounts_of(s)[1] == ("/sys", R + "/sys", "", sc.MS_BIND | sc.MS_REC, "")
    assert mounts_of(s)[2][3] & sc.MS_RDONLY


def test_cgroup_v1_mount_is_a_tmpfs_with_the_containers_cgroups():
    s = RecordingSyscalls()
    m = {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid"]}
    rootfs.mount_one(s, R, m, [("memory", "/sys/fs/cgroup/memory/p/c1")])
    ms = mounts_of(s)
    assert ms[0][:3] == ("tmpfs", R + "/sys/fs/cgroup", "tmpfs")
    assert ms[1] == ("/sys/fs/cgroup/memory/p/c1", R + "/sys/fs/cgroup/memory", "", sc.MS_BIND | sc.MS_REC, "")
    assert ms[-1][3] & sc.MS_RDONLY and len(ms) == 3


def test_masked_paths_dev_null_for_files_tmpfs_for_dirs_missing_skipped():
    s = RecordingSyscalls(paths={"/proc/kcore": "file", "/proc/acpi": "dir"})
    rootfs.mask_paths(s, ["/proc/kcore", "/proc/acpi", "/proc/nothere"])
    assert mounts_of(s) == [("/dev/null", "/proc/kcore", "", sc.MS_BIND, ""),
                            ("tmpfs", "/proc/acpi", "tmpfs", sc.MS_RDONLY, "")]


def test_readonly_paths_bind_then_remount_ro():
    s = RecordingSyscalls(paths={"/proc/sys": "dir"})
    rootfs.readonly_paths(s, ["/proc/sys", "/proc/gone"])
    ms = mounts_of(s)
    assert ms[0] == ("/proc/sys", "/proc/sys", "", sc.MS_BIND | sc.MS_REC, "")
    assert ms[1][3] & (sc.MS_REMOUNT | sc.MS_RDONLY) == sc.MS_REMOUNT | sc.MS_RDONLY
    assert len(ms) == 2


def test_identity_and_capabilities_order_and_values():
    s = RecordingSyscalls()
    proc = {"user": {"uid": 1000, "gid": 1001, "additionalGids": [5, 6]},
            "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL"], "effective": ["CAP_KILL"],
                             "permitted": ["CAP_CHOWN", "CAP_KILL"], "inheritable": [], "ambient": ["CAP_KILL"]},
            "noNewPrivileges": True}
    process.set_identity_and_caps(s, proc, 40)
    drops = [c[2] for c in s.named("prctl") if c[1] == sc.PR_CAPBSET_DROP]
    assert drops == [n for n in range(41) if n not in (0, 5)]
    order = [c[0] for c in s.calls if c[0] != "prctl" or c[1] != sc.PR_CAPBSET_DROP]
    assert order == ["prctl", "setgroups", "setresgid", "setresuid", "prctl", "capset", "prctl", "prctl"]
    assert s.named("setgroups") == [("setgroups", [5, 6])]
    assert s.named("setresgid") == [("setresgid", 1001)] and s.named("setresuid") == [("setresuid", 1000)]
    assert s.named("capset") == [("capset", 1 << 5, 1 | 1 << 5, 0)]
    assert ("prctl", sc.PR_CAP_AMBIENT, sc.PR_CAP_AMBIENT_RAISE, 5) in s.calls
    assert s.calls[-1] == ("prctl", sc.PR_SET_NO_NEW_PRIVS, 1, 0)


def test_find_executable_messages(tmp_path):
    exe = tmp_path / "tool"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    plain = tmp_path / "plain"
    plain.write_text("x")
    assert process.find_executable("tool", str(tmp_path)) == str(exe)
    with pytest.raises(process.ExecError) as e:
        process.find_executable("nosuch", str(tmp_path))
    assert (e.value.message, e.value.exit_code) == ('exec: "nosuch": executable file not found in $PATH', 127)
    with pytest.raises(process.ExecError) as e:
        process.find_executable(str(plain), None)
    assert e.value.exit_code == 126 and e.value.message == f'exec: "{plain}": permission denied'
    with pytest.raises(process.ExecError) as e:
        process.find_executable(str(tmp_path), None)
    assert e.value.exit_code == 126
    with pytest.raises(process.ExecError) as e:
        process.find_executable(str(tmp_path / "gone"), None)
    assert e.value.exit_code == 127 and "no such file or directory" in e.value.message


def test_home_from_passwd():
    text = "root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n"
    assert process.home_of(1000, text) == "/home/bob"
    assert process.home_of(4, text) == "/"


def _init_plan(tmp_path, **process_extra):
    exe = tmp_path / "bin" / "app"
    exe.parent.mkdir(exist_ok=True)
    exe.write_text("")
    exe.chmod(0o755)
    proc = {"args": ["app", "x"], "env": [f"PATH={exe.parent}", "HOME=/root"], "cwd": "/work", "user": {"uid": 0, "gid": 0},
            **process_extra}
    config = {"process": proc, "hostname": "h1", "mounts": BASIC_MOUNTS,
              "linux": {"maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"], "sysctl": {"net.ipv4.ip_forward": "1"}},
              "root": {"readonly": True}}
    ns = plan([{"type": t} for t in ("pid", "mount", "uts", "ipc", "network")])
    return SetupPlan(mode="init", process=proc, ns=ns, config=config, rootfs=R,
                     cgroup_procs=["/cg/memory/p/c/cgroup.procs"], fifo="/state/exec.fifo", last_cap=caps.last_cap())


def test_init_setup_sequence(tmp_path):
    s = RecordingSyscalls(paths={"/proc/kcore": "file", "/proc/sys": "dir"})
    ch = FakeChannel()
    ready = container_setup(s, ch, _init_plan(tmp_path))
    names = [c[0] for c in s.calls]
    assert s.calls[0] == ("open", "/state/exec.fifo", os.O_PATH)
    assert s.calls[1] == ("write_file", "/cg/memory/p/c/cgroup.procs", "0")
    assert ("unshare", sc.CLONE_NEWNS | sc.CLONE_NEWUTS | sc.CLONE_NEWIPC | sc.CLONE_NEWNET) in s.calls
    assert ("open", "/state/exec.fifo", os.O_PATH) in s.calls
    assert names.index("unshare") < names.index("pivot_root") < names.index("sethostname")
    assert ("sethostname", "h1") in s.calls
    assert ("write_file", "/proc/sys/net/ipv4/ip_forward", "1") in s.calls
    assert ("", "/", "", sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY, "") in mounts_of(s)
    assert ("mkdir_all", "/work", 0o755) in s.calls and ("chdir", "/work") in s.calls
    assert ch.sent == [({"type": "ready"}, None)]
    assert ready.path == str(tmp_path / "bin" / "app") and ready.args == ["app", "x"]
    assert "HOME=/root" in ready.env


def test_a_new_network_namespace_gets_lo_up_and_a_joined_one_does_not(tmp_path):
    s = RecordingSyscalls(paths={"/proc/kcore": "file", "/proc/sys": "dir"})
    container_setup(s, FakeChannel(), _init_plan(tmp_path))
    names = [c[0] for c in s.calls]
    assert names.count("loopback_up") == 1 and names.index("unshare") < names.index("loopback_up")
    p = _init_plan(tmp_path)
    p.ns = plan([{"type": "mount"}, {"type": "network", "path": "/run/netns/x"}])
    s = RecordingSyscalls(paths={"/proc/kcore": "file", "/proc/sys": "dir"})
    container_setup(s, FakeChannel(), p)
    assert ("setns", "/run/netns/x", 0) in s.calls and s.named("loopback_up") == []


def test_init_setup_reports_missing_command_before_ready(tmp_path):
    p = _init_plan(tmp_path)
    p.process["args"] = ["missing"]
    ch = FakeChannel()
    with pytest.raises(process.ExecError) as e:
        container_setup(RecordingSyscalls(), ch, p)
    assert e.value.exit_code == 127 and ch.sent == []


def test_user_namespace_stage(tmp_path):
    """The stage joins the cgroup as host root, then userns (maps by the parent), then pidns."""
    from skiff.engine.runtime.init import enter_user_namespace

    p = _init_plan(tmp_path)
    p.ns = plan([{"type": "user"}, {"type": "pid"}, {"type": "mount"}])
    s = RecordingSyscalls()
    ch = FakeChannel()
    assert enter_user_namespace(s, ch, p) == (4242, 101)
    assert [c[0] for c in s.calls] == ["open", "write_file", "unshare", "setresgid", "setresuid", "unshare", "clone_parent"]
    assert s.named("unshare") == [("unshare", sc.CLONE_NEWUSER), ("unshare", sc.CLONE_NEWPID)]
    assert ch.sent == [({"type": "userns"}, None)]
    # the init itself then unshares the rest, without the user namespace again
    s2 = RecordingSyscalls()
    container_setup(s2, FakeChannel(), p)
    assert s2.named("unshare") == [("unshare", sc.CLONE_NEWNS)]


def test_exec_mode_joins_and_skips_rootfs(tmp_path):
    from skiff.engine.runtime.namespaces import exec_plan

    p = _init_plan(tmp_path)
    p = SetupPlan(mode="exec", process=p.process, ns=exec_plan(42, {"pid", "mount", "network"}), cgroup_procs=["/cg/x"])
    s = RecordingSyscalls()
    container_setup(s, FakeChannel(), p)
    assert s.named("setns") == [("setns", "/proc/42/ns/net", 0), ("setns", "/proc/42/ns/mnt", 0)]
    assert s.named("pivot_root") == [] and s.named("unshare") == [] and s.named("sethostname") == []
