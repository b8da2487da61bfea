"""The skiff CLI and the real docker CLI against the same engine print the same thing.

Time-dependent columns (CREATED, STATUS) are left out of the comparisons; "docker" in the
reference output is read as "skiff".
"""

import secrets
import time

import pytest

from tests.conftest import have

pytestmark = [pytest.mark.root, pytest.mark.interop,
              pytest.mark.skipif(not have("docker"), reason="docker CLI not installed")]


def swap(b: bytes) -> str:
    return b.decode().replace("docker", "skiff").replace("Docker", "skiff")


def both(engine, *args, input=b""):
    d = engine.docker(*args, input=input)
    s = engine.skiff(*args, input=input)
    return (d.returncode, swap(d.stdout), swap(d.stderr)), (s.returncode, s.stdout.decode(), s.stderr.decode())


@pytest.fixture
def container(engine):
    name = "cmp-" + secrets.token_hex(4)
    engine.skiff("run", "-d", "--name", name, "-l", "k=v", "-e", "A=1", "busybox", "sh", "-c",
                 "echo hello; echo oops >&2; sleep 300")
    # `run -d` returns once the shell started, perhaps before its echoes: both CLIs must read the same logs
    deadline = time.monotonic() + 60
    while engine.skiff("logs", name).stderr != b"oops\n":
        assert time.monotonic() < deadline, "the container never wrote its logs"
        time.sleep(0.1)
    yield name
    engine.skiff("rm", "-f", name)


@pytest.mark.parametrize("args", [
    ("images",),
    ("images", "-q"),
    ("images", "--no-trunc", "--format", "{{.ID}} {{.Repository}} {{.Tag}} {{.Size}}"),
    ("images", "--digests", "--format", "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}"),
    ("history", "--format", "{{.ID}} {{.CreatedBy}} {{.Size}}", "busybox"),
    ("image", "inspect", "-f", "{{.Id}} {{json .Config.Cmd}} {{.Os}}", "busybox"),
    ("volume", "ls"),
    ("rm", "no-such-container"),
    ("image", "inspect", "no-such-image"),
    ("ps", "--foo"),
    ("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"),
    ("run", "-it", "busybox", "true"),
    ("run", "--rm", "-p", "99999", "busybox"),
    ("create", "--pull", "never", "no-such-image"),
    ("start", "no-such-container"),
    ("rename", "no-such-container", "x"),
    ("logs",),
    ("inspect", "--type", "bogus", "x"),
])
def test_same_output(engine, args):
    docker, skiff = both(engine, *args)
    assert skiff == docker


@pytest.mark.parametrize("args", [
    ("ps", "--format", "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Ports}}\t{{.Names}}\t{{.Labels}}"),
    ("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Command}} {{.State}} {{.Mounts}} {{.Networks}}"),
    ("ps", "-q"),
    ("logs", "{name}"),
    ("inspect", "-f", "{{.Name}} {{.Config.Env}} {{index .Config.Labels \"k\"}} {{.State.Running}}", "{name}"),
    ("port", "{name}"),
    ("diff", "{name}"),
])
def test_same_output_for_a_container(engine, container, args):
    args = tuple(a.replace("{name}", container) for a in args)
    docker, skiff = both(engine, *args)
    assert skiff == docker


CREATE_FLAG_SETS = [
    ["busybox"],
    ["-i", "-t", "-e", "A=1", "-w", "/tmp", "-u", "1:2", "--hostname", "hh", "--entrypoint", "sh", "--memory", "64m",
     "--cpus", "1.5", "--cpu-shares", "512", "--pids-limit", "10", "--read-only", "--tmpfs", "/run:size=1m",
     "-v", "/data", "-v", "/tmp:/host:ro", "--mount", "type=tmpfs,target=/cache", "--privileged",
     "--cap-add", "net_admin", "--cap-drop", "MKNOD", "--restart", "on-failure:3", "--label", "k=v", "--init",
     "--stop-signal", "SIGINT", "--stop-timeout", "5", "--network", "none", "-p", "8080:80",
     "--log-opt", "max-size=1m", "busybox", "-c", "true"],
    ["-a", "stdout", "--expose", "90", "-P", "--ulimit", "nofile=10:20", "--dns", "1.1.1.1", "--add-host",
     "a:1.2.3.4", "--sysctl", "net.core.somaxconn=10", "--shm-size", "1m", "--memory-swap", "128m", "-m", "64m",
     "--group-add", "10", "busybox"],
]


def meaningful(section: dict) -> dict:
    """Fields that say something: a client may send null where another omits the key."""
    return {k: v for k, v in section.items() if v not in (None, [], {}, "", 0, False) and k != "Hostname"}


@pytest.mark.parametrize("flags", CREATE_FLAG_SETS)
def test_create_sends_what_docker_sends(engine, flags):
    """The engine records the same Config and HostConfig whichever client created the container."""
    import json

    ids = []
    try:
        for client in (engine.docker, engine.skiff):
            p = client("create", *flags)
            assert p.returncode == 0, p.stderr
            ids.append(p.stdout.decode().strip())
        docker_view, skiff_view = (json.loads(engine.docker("inspect", i).stdout)[0] for i in ids)
        for section in ("Config", "HostConfig"):
            assert meaningful(skiff_view[section]) == meaningful(docker_view[section]), section
    finally:
        if ids:
            engine.skiff("rm", *ids)


def test_system_df_verbose_matches_docker(engine):
    """Every section but the containers' rows (their CREATED column ticks between the two calls)."""
    docker, skiff = both(engine, "system", "df", "-v")
    assert skiff[0] == docker[0] == 0, (docker, skiff)

    def stable(text: str) -> list[str]:
        head, _, rest = text.partition("Containers space usage:\n\n")
        header, _, tail = rest.partition("\n")
        return [head, header, tail[tail.index("\nLocal Volumes space usage:"):]]

    assert stable(skiff[1]) == stable(docker[1])
