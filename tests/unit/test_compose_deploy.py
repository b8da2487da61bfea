"""`deploy:` on a single engine: the container options, scale, warnings and errors docker-compose
1.29 (and Compose v2 for `pids`) gives. Pure."""

import pytest

from skiff.compose import deploy
from skiff.compose.errors import ConfigError
from skiff.compose.model import Project
from skiff.compose.normalize import service as normalize
from skiff.compose.spec import create_body


def body_of(svc: dict) -> dict:
    p = Project(name="d", working_dir="/srv/d", config_files=["/srv/d/compose.yml"],
                services={"web": normalize("web", svc)}, version="3.8")
    return create_body(p, "web", 1, containers={}, image_id=None, config_hash="h")


def test_limits_reservations_and_restart_policy_reach_the_host_config():
    host = body_of({"image": "busybox", "deploy": {
        "resources": {"limits": {"cpus": "0.5", "memory": "64M", "pids": 20},
                      "reservations": {"memory": "32M", "cpus": "0.25"}},
        "restart_policy": {"condition": "on-failure", "max_attempts": 3, "delay": "5s"}}})["HostConfig"]
    assert host["Memory"] == 64 * 1024 ** 2
    assert host["NanoCpus"] == 500_000_000
    assert host["PidsLimit"] == 20
    assert host["MemoryReservation"] == 32 * 1024 ** 2
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert "CpuShares" not in host  # a CPU reservation is swarm's scheduling, not a cgroup setting


@pytest.mark.parametrize("condition,expected", [("any", "always"), ("none", ""), ("on-failure", "on-failure")])
def test_restart_conditions(condition, expected):
    host = body_of({"image": "busybox", "deploy": {"restart_policy": {"condition": condition}}})["HostConfig"]
    assert host["RestartPolicy"] == {"Name": expected, "MaximumRetryCount": 0}


def test_a_limits_block_replaces_mem_limit_even_without_memory():
    out = deploy.container_options({"mem_limit": "1g", "deploy": {"resources": {"limits": {"cpus": 1}}}})
    assert out["mem_limit"] is None and out["cpus"] == 1.0
    assert deploy.container_options({"mem_limit": "1g"}) == {"mem_limit": "1g"}


def test_scale_from_replicas_scale_and_mode():
    assert deploy.scale({"deploy": {"replicas": 3}}) == 3
    assert deploy.scale({"scale": 2}) == 2
    assert deploy.scale({"deploy": {"mode": "global", "replicas": 3}}) == 1
    assert deploy.scale({}) == 1


def test_warnings_name_what_is_ignored():
    svc = {"deploy": {"labels": {"a": "b"}, "mode": "global", "update_config": {"parallelism": 1},
                      "restart_policy": {"condition": "any", "window": "10s"},
                      "resources": {"reservations": {"cpus": "0.25"}}}}
    first, second = deploy.warnings("web", svc)
    assert first == ("The following deploy sub-keys are not supported and have been ignored: labels, "
                     "update_config, restart_policy.window, resources.reservations.cpus")
    assert 'Service "web" has deploy.mode "global"' in second
    assert deploy.warnings("web", {"deploy": {"replicas": 2}}) == []


@pytest.mark.parametrize("svc,message", [
    ({"deploy": {"resources": {"limits": {"cpus": "abc"}}}},
     'Error while attempting to convert service.web.deploy.resources.limits.cpus to appropriate type: '
     '"abc" is not a valid float'),
    ({"cpus": "lots"},
     'Error while attempting to convert service.web.cpus to appropriate type: "lots" is not a valid float'),
    ({"deploy": {"restart_policy": {"condition": "sometimes"}}}, 'Invalid restart policy "sometimes"'),
    ({"scale": 2, "deploy": {"replicas": 3}},
     "Both service.scale and service.deploy.replicas are set. Only one of them must be set."),
    ({"deploy": {"replicas": "two"}},
     'Error while attempting to convert service.web.deploy.replicas to appropriate type: '
     '"two" is not a valid integer'),
])
def test_bad_values_are_refused_with_docker_compose_messages(svc, message):
    with pytest.raises(ConfigError) as e:
        deploy.check("web", svc)
    assert e.value.message == message


def test_good_values_pass_the_check():
    deploy.check("web", {"cpus": "1.5", "deploy": {"replicas": "2", "resources": {"limits": {"cpus": 0.5}},
                                                   "restart_policy": {"condition": "none"}}})
