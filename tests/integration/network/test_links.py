"""`--link name:alias` on the default bridge through the docker CLI: the link's environment,
/etc/hosts lines, reaching the target by alias, and HostConfig.Links as Docker shows it."""

import json

import pytest

from tests.integration.network.netutil import made_names
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.interop]


@pytest.fixture
def names(engine):
    with made_names(engine, "ln") as new:
        yield new


def test_link_env_hosts_and_ping_by_alias(engine, names):
    db, web = names(), names()
    ok(engine.docker("run", "-d", "--name", db, "-e", "PGPASS=secret", "--expose", "5432", "busybox",
                     "sleep", "300"))
    db_info = json.loads(ok(engine.docker("inspect", db)))[0]
    db_ip = db_info["NetworkSettings"]["IPAddress"]
    db_host = db_info["Config"]["Hostname"]
    ok(engine.docker("run", "-d", "--name", web, "--link", f"{db}:database", "busybox", "sleep", "300"))
    env = ok(engine.docker("exec", web, "env")).splitlines()
    assert f"DATABASE_PORT=tcp://{db_ip}:5432" in env
    assert f"DATABASE_PORT_5432_TCP=tcp://{db_ip}:5432" in env
    assert f"DATABASE_PORT_5432_TCP_ADDR={db_ip}" in env
    assert "DATABASE_PORT_5432_TCP_PORT=5432" in env
    assert "DATABASE_PORT_5432_TCP_PROTO=tcp" in env
    assert f"DATABASE_NAME=/{web}/database" in env
    assert "DATABASE_ENV_PGPASS=secret" in env
    hosts = ok(engine.docker("exec", web, "cat", "/etc/hosts")).splitlines()
    assert f"{db_ip}\tdatabase {db_host} {db}" in hosts
    ok(engine.docker("exec", web, "ping", "-c", "1", "-W", "5", "database"))
    info = json.loads(ok(engine.docker("inspect", web)))[0]
    assert info["HostConfig"]["Links"] == [f"/{db}:/{web}/database"]


def test_link_to_a_missing_or_stopped_container(engine, names):
    db, web, web2 = names(), names(), names()
    p = engine.docker("run", "-d", "--name", web, "--link", "no-such-container-xyz:db", "busybox", "true")
    assert p.returncode == 125 and "No such container" in p.stderr.decode()
    ok(engine.docker("create", "--name", db, "busybox", "sleep", "300"))
    p = engine.docker("run", "-d", "--name", web2, "--link", f"{db}:db", "busybox", "sleep", "300")
    assert p.returncode == 125
    assert f"Cannot link to a non running container: /{db} AS /{web2}/db" in p.stderr.decode()


def test_rm_link_drops_it_from_the_parent(engine, names):
    db, web = names(), names()
    ok(engine.docker("run", "-d", "--name", db, "busybox", "sleep", "300"))
    ok(engine.docker("run", "-d", "--name", web, "--link", f"{db}:database", "busybox", "sleep", "300"))
    ok(engine.docker("rm", "--link", f"/{web}/database"))
    assert json.loads(ok(engine.docker("inspect", web)))[0]["HostConfig"]["Links"] is None
    assert json.loads(ok(engine.docker("inspect", db)))[0]["State"]["Running"] is True
    p = engine.docker("rm", "--link", web)
    assert p.returncode == 1 and "cannot remove the default link name" in p.stderr.decode()


def test_link_alias_on_a_user_network_resolves_there(engine, names):
    net, db, web = names("net"), names(), names()
    ok(engine.docker("network", "create", net))
    ok(engine.docker("run", "-d", "--name", db, "--network", net, "busybox", "sleep", "300"))
    db_ip = json.loads(ok(engine.docker("inspect", db)))[0]["NetworkSettings"]["Networks"][net]["IPAddress"]
    ok(engine.docker("run", "-d", "--name", web, "--network", net, "--link", f"{db}:database", "busybox",
                     "sleep", "300"))
    assert db_ip in ok(engine.docker("exec", web, "nslookup", "database"))
    ok(engine.docker("exec", web, "ping", "-c", "1", "-W", "5", "database"))


def test_ps_lists_link_names(engine, names):
    db, web = names(), names()
    ok(engine.docker("run", "-d", "--name", db, "busybox", "sleep", "300"))
    ok(engine.docker("run", "-d", "--name", web, "--link", f"{db}:db", "busybox", "sleep", "300"))
    assert ok(engine.docker("ps", "--filter", f"name={db}", "--format", "{{.Names}}")).strip() == db
    db_id = ok(engine.docker("inspect", "-f", "{{.Id}}", db)).strip()
    out = ok(engine.docker("ps", "--no-trunc", "--filter", f"id={db_id}", "--format", "{{.Names}}"))
    assert out.strip() == f"{db},{web}/db"


def test_linker_hosts_follow_a_restarted_target(engine, names):
    db, web, filler = names(), names(), names()
    ok(engine.docker("run", "-d", "--name", db, "busybox", "sleep", "300"))
    ok(engine.docker("run", "-d", "--name", web, "--link", f"{db}:database", "busybox", "sleep", "300"))
    old_ip = ok(engine.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", db)).strip()
    ok(engine.docker("stop", "-t", "0", db))
    ok(engine.docker("run", "-d", "--name", filler, "busybox", "sleep", "300"))  # may take db's old address
    ok(engine.docker("start", db))
    new_ip = ok(engine.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", db)).strip()
    hosts = ok(engine.docker("exec", web, "cat", "/etc/hosts")).splitlines()
    db_host = ok(engine.docker("inspect", "-f", "{{.Config.Hostname}}", db)).strip()
    assert new_ip != old_ip  # the filler took the old address, so the file has to change
    assert [line.split("\t")[0] for line in hosts if line.endswith(f"\tdatabase {db_host} {db}")] == [new_ip]
