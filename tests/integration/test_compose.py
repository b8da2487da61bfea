"""`skiff compose` / `skiff fig` against a real engine: the seed's fig example, a 3.x project on
its own network with DNS, volumes and recreation, attached `up`, `run`, `exec`, and clean-up."""

import json
import os
import secrets
import signal
import subprocess
import sys
import time

import pytest

from tests.support.compose import (
    compose,
    free_port,
    http_get,
    project_containers,
    remove_project,
    write_project,
)
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.slow]


def unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


@pytest.fixture
def project_dir(tmp_path, engine):
    made = []

    def make(files: dict[str, str], name: str) -> tuple:
        d = tmp_path / name
        d.mkdir()
        made.append(name)
        return write_project(d, files), name

    yield make
    for name in made:
        remove_project(engine, name)
        engine.docker("rmi", "-f", f"{name}_redis", f"{name}_web")


def test_fig_seed_example(engine, project_dir):
    """The seed's fig.yml: a web that links to a redis-like service built from a Dockerfile."""
    port = free_port()
    d, name = project_dir({
        "fig.yml": f"""
            web:
              image: busybox
              command: sh -c 'mkdir -p /www && wget -qO /www/index.html http://redis:6379/ ; echo web up; httpd -f -p 5000 -h /www'
              ports:
               - "127.0.0.1:{port}:5000"
              links:
               - redis
            redis:
              build: ./redis
            """,
        "redis/Dockerfile": """
            FROM busybox
            RUN mkdir -p /srv && echo 'Hello from redis' > /srv/index.html
            EXPOSE 6379
            CMD ["httpd", "-f", "-p", "6379", "-h", "/srv"]
            """,
    }, unique("figtest"))
    up = compose(engine, d, "up", "-d", prog="fig")
    ok(up)
    err = up.stderr.decode()
    assert f"Creating {name}_redis_1 ... done" in err and f"Creating {name}_web_1 ... done" in err
    assert err.index(f"{name}_redis_1") < err.index(f"{name}_web_1")  # links start first
    ps = ok(compose(engine, d, "ps", prog="fig"))
    lines = ps.splitlines()
    assert lines[0].split() == ["Name", "Command", "State", "Ports"]
    assert any(line.startswith(f"{name}_redis_1 ") and " Up " in line + " " for line in lines)
    assert any(line.startswith(f"{name}_web_1 ") and f"127.0.0.1:{port}->5000/tcp" in line for line in lines)

    # the web reached its linked service by name, and serves what it got on the published port
    deadline = time.monotonic() + 20
    body = ""
    while time.monotonic() < deadline:
        try:
            body = http_get(port)
            if body:
                break
        except OSError:
            time.sleep(0.2)
    assert body == "Hello from redis\n"
    env = ok(compose(engine, d, "run", "--rm", "-T", "web", "env", prog="fig"))
    assert "REDIS_PORT_6379_TCP_PORT=6379" in env  # the link's variables, as Docker sets them
    assert "web_1   | web up\n" in ok(compose(engine, d, "logs", "--no-color", prog="fig"))  # padded to redis_1

    ok(compose(engine, d, "scale", "redis=2", prog="fig"))
    assert project_containers(engine, name, all_=False) == [f"{name}_redis_1", f"{name}_redis_2", f"{name}_web_1"]
    ok(compose(engine, d, "stop", "-t", "1", prog="fig"))
    assert project_containers(engine, name, all_=False) == []
    assert "Exit" in ok(compose(engine, d, "ps", prog="fig"))
    ok(compose(engine, d, "rm", "-f", prog="fig"))
    assert project_containers(engine, name) == []


def test_project_network_dns_volume_recreate_and_down(engine, project_dir):
    files = {
        "docker-compose.yml": """
            version: "3.8"
            services:
              db:
                image: busybox
                command: sh -c 'echo stored > /data/v; httpd -f -p 80 -h /data'
                volumes: ["data:/data"]
                networks:
                  default:
                    aliases: [database]
              web:
                image: busybox
                command: ["sleep", "1d"]
                depends_on: [db]
                environment:
                  GREETING: ${GREETING:-hello}
                labels: {tier: front}
                stop_grace_period: 1s
            volumes:
              data: {}
            """,
    }
    d, name = project_dir(files, unique("proj"))
    ok(compose(engine, d, "up", "-d"))
    assert project_containers(engine, name, all_=False) == [f"{name}_db_1", f"{name}_web_1"]
    net = ok(engine.docker("network", "inspect", "-f", '{{index .Labels "com.docker.compose.network"}}', f"{name}_default"))
    assert net.strip() == "default"
    assert ok(engine.docker("volume", "inspect", "-f", "{{.Name}}", f"{name}_data")).strip() == f"{name}_data"
    # service names and aliases resolve on the project network (the engine's embedded DNS)
    for host in ("db", "database"):
        out = ok(compose(engine, d, "exec", "-T", "web", "wget", "-qO-", f"http://{host}/v"))
        assert out == "stored\n"
    assert ok(compose(engine, d, "exec", "-T", "web", "sh", "-c", "echo $GREETING")) == "hello\n"
    assert ok(compose(engine, d, "ps", "--services")).split() == ["db", "web"]
    assert len(ok(compose(engine, d, "ps", "-q")).split()) == 2
    labels = ok(engine.docker("inspect", "-f", "{{json .Config.Labels}}", f"{name}_web_1"))
    for key in ("com.docker.compose.project", "com.docker.compose.service", "com.docker.compose.config-hash",
                "com.docker.compose.container-number", "com.docker.compose.oneoff", "tier"):
        assert key in labels

    again = compose(engine, d, "up", "-d")
    ok(again)
    assert f"{name}_web_1 is up-to-date" in again.stderr.decode()
    old_id = ok(engine.docker("inspect", "-f", "{{.Id}}", f"{name}_web_1")).strip()
    changed = compose(engine, d, "up", "-d", env={"GREETING": "bonjour"})
    ok(changed)
    assert f"Recreating {name}_web_1 ... done" in changed.stderr.decode()
    assert f"{name}_db_1 is up-to-date" in changed.stderr.decode()
    assert ok(engine.docker("inspect", "-f", "{{.Id}}", f"{name}_web_1")).strip() != old_id
    ok(compose(engine, d, "up", "-d", "--scale", "web=3", env={"GREETING": "bonjour"}))
    assert project_containers(engine, name, all_=False) == [f"{name}_db_1", f"{name}_web_1", f"{name}_web_2",
                                                            f"{name}_web_3"]
    ok(compose(engine, d, "up", "-d", "--scale", "web=1", env={"GREETING": "bonjour"}))
    assert project_containers(engine, name) == [f"{name}_db_1", f"{name}_web_1"]

    down = compose(engine, d, "down", "-v", "-t", "1")
    ok(down)
    assert f"Removing network {name}_default" in down.stderr.decode()
    assert project_containers(engine, name) == []
    assert engine.docker("network", "inspect", f"{name}_default").returncode != 0
    assert engine.docker("volume", "inspect", f"{name}_data").returncode != 0


def test_attached_up_streams_prefixed_logs_until_interrupted(engine, project_dir):
    d, name = project_dir({"compose.yaml": """
        services:
          talker:
            image: busybox
            command: sh -c 'echo hello from talker; exec sleep 1d'
            stop_signal: SIGKILL
        """}, unique("att"))
    proc = subprocess.Popen([sys.executable, "-m", "skiff", "compose", "--no-ansi", "up"], cwd=d, env=engine.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = []
        for raw in proc.stdout:  # type: ignore[union-attr]
            seen.append(raw.decode())
            if "hello from talker" in seen[-1]:
                break
        assert seen[0] == f"Attaching to {name}_talker_1\n"
        assert seen[-1] == "talker_1 | hello from talker\n"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Gracefully stopping..." in out.decode()
    assert f"Stopping {name}_talker_1 ... done" in err.decode()
    assert project_containers(engine, name, all_=False) == []
    ok(compose(engine, d, "down"))


def test_abort_on_container_exit_returns_its_code(engine, project_dir):
    d, name = project_dir({"docker-compose.yml": """
        version: "2.4"
        services:
          quick:
            image: busybox
            command: sh -c 'echo done; exit 3'
          slow:
            image: busybox
            command: sleep 1d
            stop_signal: SIGKILL
        """}, unique("abort"))
    res = compose(engine, d, "up", "--abort-on-container-exit")
    assert res.returncode == 3, res.stderr.decode()
    out = res.stdout.decode()
    assert "quick_1 | done" in out and f"{name}_quick_1 exited with code 3" in out
    assert "Aborting on container exit..." in out
    assert project_containers(engine, name, all_=False) == []
    ok(compose(engine, d, "down"))


def test_run_one_off_containers(engine, project_dir):
    d, name = project_dir({"docker-compose.yml": """
        version: "3"
        services:
          box:
            image: busybox
            command: ["sleep", "1d"]
            environment: [FROM_FILE=yes]
            working_dir: /tmp
        """}, unique("run"))
    res = compose(engine, d, "run", "--rm", "-T", "-e", "EXTRA=1", "box", "sh", "-c", "echo $FROM_FILE $EXTRA $PWD; exit 5")
    assert res.returncode == 5
    assert res.stdout.decode() == "yes 1 /tmp\n"
    detached = ok(compose(engine, d, "run", "-d", "box")).strip()
    assert detached.startswith(f"{name}_box_run_")
    oneoff = ok(engine.docker("inspect", "-f", '{{index .Config.Labels "com.docker.compose.oneoff"}}', detached))
    assert oneoff.strip() == "True"
    assert ok(compose(engine, d, "ps", "-q")) == ""  # ps leaves one-off containers out
    assert len(ok(compose(engine, d, "ps", "-a", "-q")).split()) == 1
    ok(compose(engine, d, "down", "-t", "1"))
    assert project_containers(engine, name) == []


def test_build_pull_images_and_rmi(engine, project_dir):
    d, name = project_dir({
        "docker-compose.yml": """
            version: "3"
            services:
              web:
                build:
                  context: ./app
                  args: {MESSAGE: built-with-args}
                command: ["cat", "/msg"]
            """,
        "app/Dockerfile": "FROM busybox\nARG MESSAGE\nRUN echo $MESSAGE > /msg\n",
    }, unique("bld"))
    build = compose(engine, d, "build")
    ok(build)
    assert "Successfully tagged" in build.stdout.decode()
    assert ok(engine.docker("image", "inspect", "-f", "{{.Id}}", f"{name}_web")).startswith("sha256:")
    res = ok(compose(engine, d, "up", "--no-color"))
    assert "web_1 | built-with-args" in res
    assert f"{name}_web_1" in ok(compose(engine, d, "images"))
    ok(compose(engine, d, "down", "--rmi", "local"))
    assert engine.docker("image", "inspect", f"{name}_web").returncode != 0


def test_errors_exit_1_and_leave_the_engine_alone(engine, tmp_path):
    bad = write_project(tmp_path / "bad", {"docker-compose.yml": "services:\n  web:\n    image: busybox\n    depends_on: [db]\n"})
    res = compose(engine, bad, "up", "-d")
    assert res.returncode == 1
    assert res.stderr.decode() == "ERROR: Service 'web' depends on service 'db' which is undefined.\n"
    res = compose(engine, bad, "ps", "nope")
    assert res.returncode == 1
    assert project_containers(engine, "bad") == []
    assert os.path.exists(engine.socket)


def test_depends_on_conditions_and_the_other_verbs(engine, project_dir):
    port = free_port()
    d, name = project_dir({"docker-compose.yml": f"""
        version: "2.4"
        services:
          setup:
            image: busybox
            command: "true"
          db:
            image: busybox
            command: sleep 1d
            stop_signal: SIGKILL
          app:
            image: busybox
            command: sh -c 'mkdir -p /w && echo app > /w/index.html && exec httpd -f -p 80 -h /w'
            stop_signal: SIGKILL
            ports: ["127.0.0.1:{port}:80"]
            depends_on:
              db: {{condition: service_started}}
              setup: {{condition: service_completed_successfully}}
        """}, unique("verbs"))
    up = compose(engine, d, "up", "-d")
    ok(up)
    assert ok(engine.docker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", f"{name}_setup_1")) == \
        "exited 0\n"  # app was created only once setup had completed
    assert up.stderr.decode().index(f"{name}_setup_1") < up.stderr.decode().index(f"{name}_app_1")
    assert ok(compose(engine, d, "port", "app", "80")) == f"127.0.0.1:{port}\n"
    top = ok(compose(engine, d, "top", "db"))
    assert top.startswith(f"{name}_db_1\n") and "sleep 1d" in top
    ok(compose(engine, d, "pause", "db"))
    assert ok(engine.docker("inspect", "-f", "{{.State.Status}}", f"{name}_db_1")).strip() == "paused"
    assert "Paused" in ok(compose(engine, d, "ps", "db"))
    ok(compose(engine, d, "unpause", "db"))
    assert ok(engine.docker("inspect", "-f", "{{.State.Status}}", f"{name}_db_1")).strip() == "running"
    before = ok(engine.docker("inspect", "-f", "{{.State.StartedAt}}", f"{name}_app_1"))
    ok(compose(engine, d, "restart", "app"))
    assert ok(engine.docker("inspect", "-f", "{{.State.StartedAt}}", f"{name}_app_1")) != before
    ok(compose(engine, d, "kill", "app"))
    assert ok(engine.docker("inspect", "-f", "{{.State.Status}}", f"{name}_app_1")).strip() == "exited"
    ok(compose(engine, d, "start", "app"))
    assert ok(engine.docker("inspect", "-f", "{{.State.Status}}", f"{name}_app_1")).strip() == "running"
    ok(compose(engine, d, "down"))
    assert project_containers(engine, name) == []


def test_failed_dependency_stops_up(engine, project_dir):
    d, name = project_dir({"docker-compose.yml": """
        version: "2.4"
        services:
          setup:
            image: busybox
            command: sh -c 'exit 4'
          app:
            image: busybox
            command: sleep 1d
            depends_on:
              setup: {condition: service_completed_successfully}
        """}, unique("fail"))
    res = compose(engine, d, "up", "-d")
    assert res.returncode == 1
    assert "ERROR: Service \"setup\" didn't complete successfully: exit 4" in res.stderr.decode()
    assert project_containers(engine, name) == [f"{name}_setup_1"]
    ok(compose(engine, d, "down"))


def test_push_and_pull_through_a_registry(engine, project_dir, tmp_path):
    from tests.support.registry import SkiffRegistry

    registry = SkiffRegistry(tmp_path / "registry").start()
    try:
        image = f"{registry.addr}/compose/web:v1"
        d, name = project_dir({
            "docker-compose.yml": f"""
                version: "3"
                services:
                  web:
                    build: ./app
                    image: {image}
                    command: ["cat", "/msg"]
                """,
            "app/Dockerfile": "FROM busybox\nRUN echo pushed > /msg\n",
        }, unique("push"))
        ok(compose(engine, d, "build"))
        push = compose(engine, d, "push")
        ok(push)
        assert f"Pushing web ({image})..." in push.stderr.decode()
        ok(engine.docker("rmi", image))
        pull = compose(engine, d, "pull", "web")
        ok(pull)
        assert f"Pulling web ({image})..." in pull.stderr.decode()
        assert "web_1 | pushed" in ok(compose(engine, d, "up", "--no-color"))
        ok(compose(engine, d, "down", "--rmi", "all"))
        assert engine.docker("image", "inspect", image).returncode != 0
    finally:
        registry.cleanup()


def test_orphans_and_followed_logs(engine, project_dir):
    d, name = project_dir({"docker-compose.yml": """
        version: "3"
        services:
          keep:
            image: busybox
            command: sh -c 'echo one; echo two'
          gone:
            image: busybox
            command: sleep 1d
            stop_signal: SIGKILL
        """}, unique("orph"))
    ok(compose(engine, d, "up", "-d"))
    logs = ok(compose(engine, d, "logs", "-f", "-t", "keep"))  # ends when the container has
    lines = logs.splitlines()
    assert [line.split(" ", 3)[-1] for line in lines] == ["one", "two"]
    assert lines[0].startswith("keep_1 | 20")  # an RFC 3339 timestamp before the text
    assert ok(compose(engine, d, "logs", "--tail", "1", "keep")) == "keep_1 | two\n"
    (d / "docker-compose.yml").write_text("version: '3'\nservices:\n  keep:\n    image: busybox\n"
                                          "    command: sh -c 'echo one; echo two'\n")
    warned = compose(engine, d, "up", "-d")
    ok(warned)
    assert f"WARNING: Found orphan containers ({name}_gone_1) for this project." in warned.stderr.decode()
    assert f"{name}_gone_1" in project_containers(engine, name)
    removed = compose(engine, d, "up", "-d", "--remove-orphans")
    ok(removed)
    assert f'Removing orphan container "{name}_gone_1"' in removed.stderr.decode()
    assert project_containers(engine, name) == [f"{name}_keep_1"]
    ok(compose(engine, d, "down"))


def test_run_and_exec_on_a_terminal(engine, project_dir):
    from tests.support.ptys import read_match, read_to_eof, spawn_skiff_in_pty

    d, name = project_dir({"docker-compose.yml": """
        version: "3"
        services:
          box:
            image: busybox
            command: sleep 1d
            stop_signal: SIGKILL
        """}, unique("tty"))
    f = ["compose", "-f", str(d / "docker-compose.yml")]
    pid, fd = spawn_skiff_in_pty(engine, *f, "run", "--rm", "box", "sh", "-c", "tty; read line; echo got $line; exit 7")
    try:
        assert b"/dev/pts/" in read_match(fd, rb"/dev/pts/\d+")
        os.write(fd, b"hello\r")
        assert b"got hello" in read_to_eof(fd, timeout=30)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 7
    ok(compose(engine, d, "up", "-d"))
    pid, fd = spawn_skiff_in_pty(engine, *f, "exec", "box", "sh", "-c", "tty && echo inside")
    try:
        out = read_to_eof(fd, timeout=30)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    assert b"/dev/pts/" in out and b"inside" in out and os.waitstatus_to_exitcode(status) == 0
    ok(compose(engine, d, "down"))
    assert project_containers(engine, name) == []


def test_service_options_reach_the_container(engine, project_dir):
    d, name = project_dir({"docker-compose.yml": """
        version: "2.4"
        services:
          full:
            image: busybox
            command: sleep 1d
            hostname: fullhost
            domainname: example.org
            user: "1000:1000"
            working_dir: /tmp
            environment: {ONE: "1"}
            extra_hosts: ["gateway.test:10.9.8.7"]
            dns: [10.0.0.53]
            dns_search: [corp.test]
            cap_add: [NET_ADMIN]
            cap_drop: [CHOWN]
            ulimits: {nofile: {soft: 1024, hard: 2048}}
            mem_limit: 64m
            cpus: 0.5
            tmpfs: [/scratch]
            read_only: true
            stop_signal: SIGUSR1
            stop_grace_period: 1s
            restart: unless-stopped
            volumes: ["/anon", "named:/named"]
        volumes:
          named: {}
        """}, unique("opts"))
    ok(compose(engine, d, "up", "-d"))
    c = f"{name}_full_1"

    def inside(*cmd: str) -> str:
        return ok(compose(engine, d, "exec", "-T", "full", *cmd))

    assert inside("hostname") == "fullhost\n"
    assert inside("id", "-u") == "1000\n" and inside("pwd") == "/tmp\n"
    assert inside("sh", "-c", "echo $ONE") == "1\n"
    assert "10.9.8.7\tgateway.test" in inside("cat", "/etc/hosts")
    resolv = inside("cat", "/etc/resolv.conf")
    assert "corp.test" in resolv
    assert inside("sh", "-c", "ulimit -n") == "1024\n"
    assert "/scratch" in inside("cat", "/proc/mounts")
    assert engine.docker("exec", c, "touch", "/rootfs-file").returncode != 0  # read-only root
    fmt = ("{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{json .HostConfig.CapAdd}} {{json .HostConfig.CapDrop}} "
           "{{.HostConfig.RestartPolicy.Name}} {{.Config.StopSignal}} {{.Config.Domainname}}")
    assert ok(engine.docker("inspect", "-f", fmt, c)).split() == [
        str(64 << 20), "500000000", '["NET_ADMIN"]', '["CHOWN"]', "unless-stopped", "SIGUSR1", "example.org"]
    mounts = ok(engine.docker("inspect", "-f", "{{range .Mounts}}{{.Type}}:{{.Name}}:{{.Destination}} {{end}}", c))
    assert f"volume:{name}_named:/named" in mounts and ":/anon" in mounts
    ok(compose(engine, d, "down", "-v"))
    assert engine.docker("volume", "inspect", f"{name}_named").returncode != 0
    assert project_containers(engine, name) == []


def test_depends_on_service_healthy_waits_for_the_engines_healthcheck(engine, project_dir):
    from skiff.common.timefmt import parse_rfc3339

    d, name = project_dir({"docker-compose.yml": """
        version: "2.4"
        services:
          db:
            image: busybox
            command: sh -c 'sleep 2; touch /ready; exec sleep 1d'
            stop_signal: SIGKILL
            healthcheck:
              test: ["CMD-SHELL", "test -e /ready"]
              interval: 1s
              retries: 30
          app:
            image: busybox
            command: sleep 1d
            stop_signal: SIGKILL
            depends_on:
              db: {condition: service_healthy}
          broken:
            image: busybox
            command: sleep 1d
            stop_signal: SIGKILL
            healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1}
        """}, unique("healthy"))
    ok(compose(engine, d, "up", "-d", "app"))
    state = json.loads(ok(engine.docker("inspect", "-f", "{{json .State}}", f"{name}_db_1")))
    assert state["Health"]["Status"] == "healthy"
    first_pass = min(parse_rfc3339(r["End"]) for r in state["Health"]["Log"] if r["ExitCode"] == 0)
    app = ok(engine.docker("inspect", "-f", "{{.State.Status}} {{.State.StartedAt}}", f"{name}_app_1")).split()
    assert app[0] == "running" and parse_rfc3339(app[1]) >= first_pass  # app started once db was healthy
    ok(compose(engine, d, "up", "-d", "broken"))
    d2 = d / "dependent.yml"
    d2.write_text((d / "docker-compose.yml").read_text().replace("db: {condition: service_healthy}",
                                                                 "broken: {condition: service_healthy}"))
    res = compose(engine, d, "-f", str(d2), "up", "-d", "app")
    assert res.returncode == 1 and f'Container "{name}_broken_1" is unhealthy.' in res.stderr.decode()
    ok(compose(engine, d, "down"))
