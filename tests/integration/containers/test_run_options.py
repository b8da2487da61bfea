"""`docker run` options that shape the container's spec, checked from inside the container."""

import pytest

from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.interop]


def run(engine, *args):
    return engine.docker("run", "--rm", *args)


def test_entrypoint_and_cmd(engine, names):
    assert ok(run(engine, "--entrypoint", "echo", "busybox", "a", "b")) == "a b\n"
    assert ok(run(engine, "--entrypoint", "", "busybox", "echo", "plain")) == "plain\n"


def test_env_workdir_user_hostname(engine, names):
    out = ok(run(engine, "-e", "FOO=bar", "-w", "/made/here", "-u", "daemon", "--hostname", "box",
                 "busybox", "sh", "-c", 'echo $FOO; pwd; id -u; id -g; hostname; cat /etc/hostname; echo $HOME'))
    assert out.split("\n")[:7] == ["bar", "/made/here", "1", "1", "box", "box", "/usr/sbin"]
    assert ok(run(engine, "-u", "1234:5678", "busybox", "id")).startswith("uid=1234 gid=5678")
    r = run(engine, "-u", "nosuchuser", "busybox", "true")
    assert r.returncode == 125 and b"unable to find user nosuchuser" in r.stderr


def test_command_not_found_and_not_executable(engine):
    r = run(engine, "busybox", "nosuchcmd")
    assert r.returncode == 127 and b'executable file not found in $PATH' in r.stderr
    r = run(engine, "busybox", "/etc/passwd")
    assert r.returncode == 126 and b"permission denied" in r.stderr


def test_capabilities_and_privileged(engine):
    def capeff(*args):
        line = [x for x in ok(run(engine, *args, "busybox", "grep", "CapEff", "/proc/self/status")).splitlines()][0]
        return int(line.split()[1], 16)

    default = capeff()
    assert default == 0xA80425FB  # Docker's default set
    assert capeff("--cap-drop", "ALL") == 0
    assert capeff("--cap-add", "NET_ADMIN") == default | (1 << 12)
    assert capeff("--cap-drop", "chown") == default & ~1
    assert capeff("--privileged") > default
    masked = ok(run(engine, "busybox", "sh", "-c", "cat /proc/kcore | wc -c"))
    assert masked.strip() == "0"


def test_read_only_and_tmpfs(engine):
    r = run(engine, "--read-only", "busybox", "touch", "/x")
    assert r.returncode == 1 and b"Read-only file system" in r.stderr
    out = ok(run(engine, "--read-only", "--tmpfs", "/run:size=1m", "busybox", "sh", "-c",
                 "touch /run/ok && grep ' /run ' /proc/mounts"))
    assert "tmpfs /run tmpfs" in out and "size=1024k" in out and "noexec" in out


def test_resources_reach_the_cgroup(engine):
    out = ok(run(engine, "--memory", "64m", "--pids-limit", "20", "--cpus", "0.5", "busybox", "sh", "-c",
                 "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max "
                 "/sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || "
                 "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max"))
    assert str(64 * 1024 * 1024) in out and "20" in out and "50000" in out
    r = engine.docker("run", "--rm", "--memory", "1k", "busybox", "true")
    assert r.returncode == 125 and b"Minimum memory limit allowed is 6MB" in r.stderr


def test_init_reaps_and_forwards(engine):
    out = ok(run(engine, "--init", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"))
    assert out.startswith("/sbin/docker-init -- sh")
    assert run(engine, "--init", "busybox", "sh", "-c", "exit 5").returncode == 5


def test_network_modes(engine, names):
    assert ok(run(engine, "--network", "none", "busybox", "sh", "-c", "ls /sys/class/net | sort")).split() == ["lo"]
    host_ifaces = ok(run(engine, "--network", "host", "busybox", "ls", "/sys/class/net")).split()
    assert len(host_ifaces) > 1
    peer = names("net")
    ok(engine.docker("run", "-d", "--name", peer, "--network", "none", "busybox", "sleep", "60"))
    mine = ok(engine.docker("inspect", "-f", "{{.State.Pid}}", peer)).strip()
    joined = ok(run(engine, "--network", f"container:{peer}", "busybox", "readlink", "/proc/self/ns/net"))
    import os

    assert joined.strip() == os.readlink(f"/proc/{mine}/ns/net")
    nets = ok(engine.docker("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}", peer))
    assert nets.strip() == "none"


def test_etc_files_and_dns(engine):
    out = ok(run(engine, "--hostname", "h1", "--add-host", "db:10.9.8.7", "--dns", "10.1.1.1",
                 "--dns-search", "example.org", "busybox", "cat", "/etc/hosts", "/etc/resolv.conf"))
    assert "127.0.0.1\tlocalhost" in out and "10.9.8.7\tdb" in out and "h1" in out
    assert "nameserver 10.1.1.1" in out and "search example.org" in out


def test_labels_and_stop_signal_in_inspect(engine, names):
    n = names()
    ok(engine.docker("create", "--name", n, "--label", "a=b", "--stop-signal", "SIGUSR1", "--stop-timeout", "3",
                     "busybox", "true"))
    out = ok(engine.docker("inspect", "-f", "{{.Config.Labels.a}} {{.Config.StopSignal}} {{.Config.StopTimeout}} "
                           "{{.HostConfig.NetworkMode}} {{.State.Status}} {{.Name}}", n))
    assert out.split() == ["b", "SIGUSR1", "3", "bridge", "created", "/" + n]


def test_devices_and_workdir_validation(engine):
    assert "10, 229" in ok(run(engine, "--device", "/dev/fuse", "busybox", "ls", "-l", "/dev/fuse"))
    r = run(engine, "--device", "/dev/nope", "busybox", "true")
    # refused at create; the CLI turns "no such file or directory" into 127, as with dockerd
    assert r.returncode == 127 and b'adding custom device "/dev/nope"' in r.stderr
    r = run(engine, "-w", "relative", "busybox", "true")
    assert r.returncode == 125 and b"it needs to be an absolute path" in r.stderr
