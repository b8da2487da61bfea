"""The fork server's wire form: spawn plans survive the trip, errors come back as raised."""

import json

import pytest

from skiff.common.errors import SystemError_
from skiff.engine.runtime import forkserver
from skiff.engine.runtime.api import IOSpec
from skiff.engine.runtime.errors import ExecFailed
from skiff.engine.runtime.init import SetupPlan
from skiff.engine.runtime.namespaces import exec_plan, plan
from skiff.engine.runtime.spawn import ShimFiles


def test_an_init_plan_survives_the_wire():
    ns = plan([{"type": "pid"}, {"type": "mount"}, {"type": "network", "path": "/proc/7/ns/net"}])
    p = SetupPlan(mode="init", process={"args": ["true"], "terminal": False}, ns=ns,
                  config={"hostname": "h", "linux": {"namespaces": []}}, rootfs="/r",
                  cgroup_procs=["/sys/fs/cgroup/pids/x/cgroup.procs"],
                  cgroup_binds=[("pids", "/sys/fs/cgroup/pids/x")], fifo="/s/exec.fifo", last_cap=40)
    back = forkserver.plan_from_wire(json.loads(json.dumps(forkserver.plan_to_wire(p))))
    assert back == p


def test_an_exec_plan_survives_the_wire():
    p = SetupPlan(mode="exec", process={"args": ["sh"]}, ns=exec_plan(42, {"pid", "mount", "ipc"}), fifo="/f")
    assert forkserver.plan_from_wire(json.loads(json.dumps(forkserver.plan_to_wire(p)))) == p


def test_request_carries_io_and_files():
    p = SetupPlan(mode="exec", process={}, ns=exec_plan(1, {"mount"}))
    raw = json.loads(forkserver.request("/bin/shim", p, IOSpec(stdin=True, log_path="/l"),
                                        ShimFiles("/e", "/a", "/c", "/log")))
    assert raw["shim"] == "/bin/shim"
    assert IOSpec(**raw["io"]) == IOSpec(stdin=True, log_path="/l")
    assert ShimFiles(**raw["files"]) == ShimFiles("/e", "/a", "/c", "/log")


def test_results_and_errors_come_back_as_raised():
    assert forkserver.result({"pid": 5, "shim_pid": 4}) == (5, 4)
    exec_failed = forkserver.answer_error(ExecFailed('exec: "x": executable file not found in $PATH', 127))
    with pytest.raises(ExecFailed) as e:
        forkserver.result(json.loads(json.dumps(exec_failed)))
    assert e.value.exit_code == 127 and e.value.message.startswith('exec: "x"')
    with pytest.raises(SystemError_, match="container init: boom"):
        forkserver.result(forkserver.answer_error(SystemError_("container init: boom")))
    with pytest.raises(SystemError_, match="spawn: OSError"):
        forkserver.result(forkserver.answer_error(OSError(5, "io")))


def test_a_spare_fits_inits_with_a_new_pid_namespace_and_no_user_namespace():
    from skiff.engine.runtime import zygote

    docker_like = plan([{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")])
    assert zygote.eligible(SetupPlan(mode="init", process={}, ns=docker_like))
    assert not zygote.eligible(SetupPlan(mode="exec", process={}, ns=exec_plan(1, {"pid", "mount"})))
    host_pid = plan([{"type": "mount"}, {"type": "network"}])
    assert not zygote.eligible(SetupPlan(mode="init", process={}, ns=host_pid))
    joined = plan([{"type": "pid", "path": "/proc/1/ns/pid"}, {"type": "mount"}])
    assert not zygote.eligible(SetupPlan(mode="init", process={}, ns=joined))
    userns = plan([{"type": "pid"}, {"type": "user"}, {"type": "mount"}])
    assert not zygote.eligible(SetupPlan(mode="init", process={}, ns=userns))


def test_shim_fd_arguments_follow_the_descriptors_to_the_receiver():
    from skiff.engine.runtime.zygote import remap_fd_args

    argv = ["/bin/skiff-shim", "--exit-file", "/x/11", "--stdout-fd", "11", "--stderr-fd", "13",
            "--attach-fd", "15", "--control-fd", "16", "--log-max-file", "11", "--pid", "{pid}"]
    out = remap_fd_args(argv, [11, 13, 15, 16], [4, 5, 6, 7])
    assert out == ["/bin/skiff-shim", "--exit-file", "/x/11", "--stdout-fd", "4", "--stderr-fd", "5",
                   "--attach-fd", "6", "--control-fd", "7", "--log-max-file", "11", "--pid", "{pid}"]
    with pytest.raises(ValueError):
        remap_fd_args(argv, [11, 13], [4])
