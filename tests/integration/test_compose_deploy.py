"""Secrets, configs and `deploy:` applied to the containers outside swarm, by `skiff compose`
and by the real docker-compose 1.29 against the same engine: the HostConfig they get (checked
with `docker inspect`), the files the containers see, and the refusals of bad files."""

import json
import secrets

import pytest

from tests.conftest import have
from tests.support.compose import compose, docker_compose, project_containers, remove_project, write_project
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.slow]

needs_docker_compose = pytest.mark.skipif(not have("docker-compose"), reason="docker-compose is not installed")

# What docker-compose 1.29 can read too (its schema has no deploy `pids`, no `environment`/`content`).
COMMON = """
version: "3.8"
services:
  web:
    image: busybox
    command: sleep 1d
    stop_signal: SIGKILL
    secrets:
      - db_pw
      - source: db_pw
        target: copy/pw
    deploy:
      replicas: 2
      labels: {tier: front}
      resources:
        limits: {cpus: "0.5", memory: 64M}
        reservations: {memory: 32M}
      restart_policy: {condition: on-failure, max_attempts: 3}
secrets:
  db_pw:
    file: ./secrets/db_pw.txt
"""

# The compose spec's wider form, which skiff and Compose v2 apply.
SPEC = """
services:
  app:
    image: busybox
    command: sleep 1d
    stop_signal: SIGKILL
    secrets:
      - source: token
        uid: "1000"
        gid: "1000"
        mode: 0400
    configs:
      - app_conf
      - source: inline
        target: /etc/app/inline.conf
    deploy:
      resources:
        limits: {pids: 50}
      restart_policy: {condition: any}
secrets:
  token: {environment: APP_TOKEN}
configs:
  app_conf: {file: ./app.conf}
  inline: {content: "mode=inline\\n"}
"""


@pytest.fixture
def project(tmp_path, engine):
    made = []

    def make(files: dict[str, str]) -> tuple:
        name = f"cd{secrets.token_hex(3)}"
        made.append(name)
        return write_project(tmp_path / name, files), name

    yield make
    for name in made:
        remove_project(engine, name)


def inspect(engine, name: str) -> dict:
    return json.loads(ok(engine.docker("inspect", name)))[0]


def check_common(engine, d, name: str) -> None:
    assert project_containers(engine, name) == [f"{name}_web_1", f"{name}_web_2"]  # deploy.replicas
    for n in (1, 2):
        info = inspect(engine, f"{name}_web_{n}")
        host = info["HostConfig"]
        assert host["Memory"] == 64 * 1024 ** 2
        assert host["NanoCpus"] == 500_000_000
        assert host["MemoryReservation"] == 32 * 1024 ** 2
        assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
        source = str(d / "secrets" / "db_pw.txt")
        assert sorted((m["Type"], m["Source"], m["Target"], m["ReadOnly"]) for m in host["Mounts"]) == [
            ("bind", source, "/run/secrets/copy/pw", True), ("bind", source, "/run/secrets/db_pw", True)]
        assert "tier" not in info["Config"]["Labels"]  # deploy.labels belong to a swarm service
    web = f"{name}_web_1"
    assert ok(engine.docker("exec", web, "cat", "/run/secrets/db_pw", "/run/secrets/copy/pw")) == "s3cret\ns3cret\n"
    denied = engine.docker("exec", web, "sh", "-c", "echo x > /run/secrets/db_pw")
    assert denied.returncode != 0 and b"Read-only file system" in denied.stderr


COMMON_FILES = {"docker-compose.yml": COMMON, "secrets/db_pw.txt": "s3cret\n"}


def test_skiff_compose_applies_secrets_and_deploy(engine, project):
    d, name = project(COMMON_FILES)
    up = compose(engine, d, "up", "-d")
    ok(up)
    assert "WARNING: The following deploy sub-keys are not supported and have been ignored: labels" \
        in up.stderr.decode()
    check_common(engine, d, name)
    # a one-off container gets them too
    assert ok(compose(engine, d, "run", "--rm", "-T", "web", "cat", "/run/secrets/copy/pw")) == "s3cret\n"
    ok(compose(engine, d, "down"))
    assert project_containers(engine, name) == []


@pytest.mark.interop
@needs_docker_compose
def test_docker_compose_applies_the_same_and_both_agree_on_the_hash(engine, project):
    d, name = project(COMMON_FILES)
    env = {"COMPOSE_API_VERSION": "1.41"}
    up = docker_compose(engine, d, "--compatibility", "up", "-d", env=env)
    ok(up)
    assert "The following deploy sub-keys are not supported and have been ignored: labels" in up.stderr.decode()
    check_common(engine, d, name)
    # skiff sees docker-compose's containers as its own, up to date (same config hash)
    again = compose(engine, d, "up", "-d")
    ok(again)
    assert f"{name}_web_1 is up-to-date" in again.stderr.decode()
    assert ok(compose(engine, d, "config", "--hash", "web")) == \
        ok(docker_compose(engine, d, "config", "--hash", "web", env=env))
    ok(compose(engine, d, "down"))


def test_spec_secrets_configs_and_pids(engine, project):
    d, name = project({"compose.yaml": SPEC, "app.conf": "from=file\n"})
    ok(compose(engine, d, "up", "-d", env={"APP_TOKEN": "tok-123"}))
    c = f"{name}_app_1"
    host = inspect(engine, c)["HostConfig"]
    assert host["PidsLimit"] == 50
    assert host["RestartPolicy"] == {"Name": "always", "MaximumRetryCount": 0}
    assert [(m["Source"], m["Target"], m["ReadOnly"]) for m in host["Mounts"]] == [
        (str(d / "app.conf"), "/app_conf", True)]
    assert ok(engine.docker("exec", c, "cat", "/run/secrets/token", "/app_conf", "/etc/app/inline.conf")) == \
        "tok-123from=file\nmode=inline\n"
    listing = ok(engine.docker("exec", c, "ls", "-ln", "/run/secrets/token", "/etc/app/inline.conf")).splitlines()
    assert listing[0].split()[:4] == ["-r--r--r--", "1", "0", "0"]  # inline config: 0444
    assert listing[1].split()[:4] == ["-r--------", "1", "1000", "1000"]  # the secret's uid/gid/mode
    run = compose(engine, d, "run", "--rm", "-T", "app", "cat", "/run/secrets/token", env={"APP_TOKEN": "one-off"})
    assert ok(run) == "one-off"
    # the variable unset: refused before anything is recreated
    ok(compose(engine, d, "down"))
    unset = compose(engine, d, "up", "-d")
    assert unset.returncode == 1
    assert unset.stderr.decode().strip() == 'ERROR: environment variable "APP_TOKEN" required by secret "token" is not set'
    assert project_containers(engine, name) == []


BAD = {
    "undefined-secret": ("""
        version: "3.8"
        services:
          web: {image: busybox, secrets: [nope]}
        secrets:
          db_pw: {file: ./pw.txt}
        """, 'Service "web" uses an undefined secret "nope"'),
    "bad-cpus": ("""
        version: "3.8"
        services:
          web: {image: busybox, deploy: {resources: {limits: {cpus: "lots"}}}}
        """, 'Error while attempting to convert service.web.deploy.resources.limits.cpus to appropriate type: '
             '"lots" is not a valid float'),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_give_docker_compose_messages(engine, project, case):
    text, message = BAD[case]
    d, name = project({"docker-compose.yml": text})
    mine = compose(engine, d, "up", "-d")
    assert mine.returncode == 1
    assert mine.stderr.decode().strip() == f"ERROR: {message}"
    assert project_containers(engine, name) == []


@pytest.mark.interop
@needs_docker_compose
@pytest.mark.parametrize("case", sorted(BAD))
def test_docker_compose_refuses_them_alike(engine, project, case):
    text, message = BAD[case]
    d, name = project({"docker-compose.yml": text})
    theirs = docker_compose(engine, d, "up", "-d", env={"COMPOSE_API_VERSION": "1.41"})
    assert theirs.returncode == 1
    assert message in theirs.stderr.decode()
    assert project_containers(engine, name) == []


def test_missing_secret_file_is_refused_before_anything_is_created(engine, project):
    d, name = project({"docker-compose.yml": """
        version: "3.8"
        services:
          web: {image: busybox, command: sleep 1d, secrets: [db_pw]}
        secrets:
          db_pw: {file: ./missing.txt}
        """})
    path = d / "missing.txt"
    r = compose(engine, d, "up", "-d")
    assert r.returncode == 1
    # docker-compose's sentence (it only warns, then the engine refuses the bind), naming the secret
    assert r.stderr.decode().strip() == (f'ERROR: Service "web" uses an undefined secret file "{path}", the following '
                                         f'file should be created "{path}" (secret "db_pw")')
    assert project_containers(engine, name) == []
    assert ok(engine.docker("network", "ls", "-q", "--filter", f"name={name}_default")) == ""
    run = compose(engine, d, "run", "--rm", "-T", "web", "true")
    assert run.returncode == 1 and "undefined secret file" in run.stderr.decode()


def test_external_secret_is_refused_outside_swarm(engine, project):
    d, name = project({"docker-compose.yml": """
        version: "3.8"
        services:
          web: {image: busybox, secrets: [db_pw]}
        secrets:
          db_pw: {external: true}
        """})
    r = compose(engine, d, "up", "-d")
    assert r.returncode == 1
    assert r.stderr.decode().strip() == ('ERROR: Service "web" uses secret "db_pw" which is external. External '
                                         "secrets are not available to containers created by docker-compose.")
    assert project_containers(engine, name) == []


def test_more_cpus_than_the_host_has_is_the_engine_refusal(engine, project):
    d, name = project({"docker-compose.yml": """
        version: "3.8"
        services:
          web: {image: busybox, command: sleep 1d, deploy: {resources: {limits: {cpus: "512"}}}}
        """})
    mine = compose(engine, d, "up", "-d")
    assert mine.returncode == 1
    assert "ERROR: Range of CPUs is from 0.01 to" in mine.stderr.decode()
    assert project_containers(engine, name) == []
    if have("docker-compose"):
        theirs = docker_compose(engine, d, "up", "-d", env={"COMPOSE_API_VERSION": "1.41"})
        assert theirs.returncode == 1
        assert "Cannot create container for service web: Range of CPUs is from 0.01 to" in theirs.stderr.decode()
    ok(compose(engine, d, "down"))
