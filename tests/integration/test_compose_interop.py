"""The real docker-compose 1.29 against the skiff engine, and projects shared by both tools:
one starts it, the other sees it and stops it."""

import json
import secrets

import pytest

from tests.conftest import have
from tests.support.compose import (
    compose,
    docker_compose,
    project_containers,
    remove_project,
    write_project,
)
from tests.support.engine import request
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.interop, pytest.mark.slow,
              pytest.mark.skipif(not have("docker-compose"), reason="docker-compose is not installed")]

PROJECT = """
version: "2.4"
services:
  cache:
    image: busybox
    command: sh -c 'mkdir -p /srv && echo cached > /srv/index.html && exec httpd -f -p 80 -h /srv'
    stop_signal: SIGKILL
  web:
    image: busybox
    command: sleep 1d
    stop_signal: SIGKILL
    depends_on: [cache]
    links: ["cache:kv"]
"""


@pytest.fixture
def shared(tmp_path, engine):
    name = f"ia{secrets.token_hex(3)}"
    d = write_project(tmp_path / name, {"docker-compose.yml": PROJECT})
    yield d, name
    remove_project(engine, name)


def test_docker_compose_up_ps_down_against_skiff(engine, shared):
    d, name = shared
    up = docker_compose(engine, d, "up", "-d")
    ok(up)
    assert project_containers(engine, name, all_=False) == [f"{name}_cache_1", f"{name}_web_1"]
    ps = ok(docker_compose(engine, d, "ps"))
    assert f"{name}_web_1" in ps and " Up " in ps
    # the link docker-compose asked for works on the project network
    assert ok(docker_compose(engine, d, "exec", "-T", "web", "wget", "-qO-", "http://kv/")) == "cached\n"
    assert ok(docker_compose(engine, d, "logs", "--no-color", "cache")) is not None
    down = docker_compose(engine, d, "down")
    ok(down)
    assert f"Removing network {name}_default" in down.stderr.decode()
    assert project_containers(engine, name) == []
    assert engine.docker("network", "inspect", f"{name}_default").returncode != 0


def test_started_by_docker_compose_seen_and_stopped_by_skiff(engine, shared):
    d, name = shared
    ok(docker_compose(engine, d, "up", "-d"))
    ps = ok(compose(engine, d, "ps"))
    assert f"{name}_cache_1" in ps and f"{name}_web_1" in ps
    assert ok(compose(engine, d, "ps", "--services")).split() == ["cache", "web"]
    stop = compose(engine, d, "stop")
    ok(stop)
    assert f"Stopping {name}_web_1 ... done" in stop.stderr.decode()
    assert project_containers(engine, name, all_=False) == []
    ok(compose(engine, d, "down"))
    assert project_containers(engine, name) == []
    assert engine.docker("network", "inspect", f"{name}_default").returncode != 0


def test_started_by_skiff_seen_and_stopped_by_docker_compose(engine, shared):
    d, name = shared
    ok(compose(engine, d, "up", "-d"))
    ps = ok(docker_compose(engine, d, "ps"))
    assert f"{name}_cache_1" in ps and f"{name}_web_1" in ps
    assert ok(docker_compose(engine, d, "ps", "--services")).split() == ["cache", "web"]
    assert ok(docker_compose(engine, d, "exec", "-T", "web", "wget", "-qO-", "http://cache/")) == "cached\n"
    ok(docker_compose(engine, d, "stop"))
    assert project_containers(engine, name, all_=False) == []
    ok(docker_compose(engine, d, "start"))
    assert project_containers(engine, name, all_=False) == [f"{name}_cache_1", f"{name}_web_1"]
    down = docker_compose(engine, d, "down")
    ok(down)
    assert project_containers(engine, name) == []
    assert engine.docker("network", "inspect", f"{name}_default").returncode != 0


def test_same_config_hash_so_neither_tool_recreates_the_others(engine, shared):
    d, name = shared
    ok(compose(engine, d, "up", "-d"))
    ids = {n: ok(engine.docker("inspect", "-f", "{{.Id}}", n)).strip() for n in (f"{name}_cache_1", f"{name}_web_1")}
    up = docker_compose(engine, d, "up", "-d")
    ok(up)
    assert f"{name}_cache_1 is up-to-date" in up.stderr.decode()
    assert f"{name}_web_1 is up-to-date" in up.stderr.decode()
    assert {n: ok(engine.docker("inspect", "-f", "{{.Id}}", n)).strip() for n in ids} == ids
    ok(docker_compose(engine, d, "down"))
    ok(docker_compose(engine, d, "up", "-d"))
    hashes = ok(docker_compose(engine, d, "config", "--hash", "*"))
    assert ok(compose(engine, d, "config", "--hash", "*")) == hashes
    again = compose(engine, d, "up", "-d")
    ok(again)
    assert f"{name}_web_1 is up-to-date" in again.stderr.decode()
    ok(compose(engine, d, "down"))
    assert project_containers(engine, name) == []


def test_docker_compose_recreates_what_skiff_started(engine, shared):
    """docker-compose 1.x reads the image's ContainerConfig when it recreates a container; the
    engine answers it below API 1.44, as dockerd does (newer versions leave it out, and
    docker-compose 1.29 fails there against dockerd too)."""
    d, name = shared
    ok(compose(engine, d, "up", "-d"))
    before = ok(engine.docker("inspect", "-f", "{{.Id}}", f"{name}_web_1")).strip()
    ok(docker_compose(engine, d, "up", "-d", "--force-recreate", env={"COMPOSE_API_VERSION": "1.41"}))
    assert ok(engine.docker("inspect", "-f", "{{.Id}}", f"{name}_web_1")).strip() != before
    assert project_containers(engine, name, all_=False) == [f"{name}_cache_1", f"{name}_web_1"]
    ok(compose(engine, d, "down"))
    assert project_containers(engine, name) == []


def test_image_inspect_has_container_config_below_1_44(engine):
    status, body = request(engine.socket, "GET", "/v1.41/images/busybox/json")
    assert status == 200
    assert json.loads(body)["ContainerConfig"]["Volumes"] is None
    status, body = request(engine.socket, "GET", "/v1.45/images/busybox/json")
    assert status == 200 and "ContainerConfig" not in json.loads(body)
