"""Healthchecks through the docker CLI and docker-py: healthy, unhealthy, timeouts, the start
period, --no-healthcheck over an image's HEALTHCHECK, events, `ps` status and filter, pause
and restart, and the health kept across an engine restart."""

import json
import signal
import time

import pytest

from tests.integration.containers.conftest import wait_for
from tests.support.procs import ok

pytestmark = [pytest.mark.root, pytest.mark.interop, pytest.mark.slow]

FAST = ["--health-interval", "1s"]


def health(engine, n):
    out = ok(engine.docker("inspect", "-f", "{{json .State.Health}}", n)).strip()
    return json.loads(out)


def status(engine, n):
    h = health(engine, n)
    return h and h["Status"]


def ps(engine, *filters):
    args = [a for f in filters for a in ("--filter", f)]
    return ok(engine.docker("ps", *args, "--format", "{{.Names}}\t{{.Status}}")).splitlines()


def test_healthy_unhealthy_events_ps_and_filter(engine, names):
    good, bad, plain = names("hg"), names("hb"), names("hn")
    since = str(int(time.time()) - 1)
    ok(engine.docker("run", "-d", "--network", "none", "--name", good, "--health-cmd", "echo hi; true", *FAST,
                     "busybox", "sleep", "300"))
    ok(engine.docker("run", "-d", "--network", "none", "--name", bad, "--health-cmd", "false", *FAST,
                     "--health-retries", "2", "busybox", "sleep", "300"))
    ok(engine.docker("run", "-d", "--network", "none", "--name", plain, "busybox", "sleep", "300"))
    assert status(engine, good) in ("starting", "healthy")
    assert wait_for(lambda: status(engine, good) == "healthy")
    assert wait_for(lambda: status(engine, bad) == "unhealthy")
    h = health(engine, good)
    assert h["FailingStreak"] == 0
    assert {"Start", "End", "ExitCode", "Output"} <= set(h["Log"][-1])
    assert h["Log"][-1]["ExitCode"] == 0 and h["Log"][-1]["Output"] == "hi\n"
    h = health(engine, bad)
    assert h["FailingStreak"] >= 2 and h["Log"][-1]["ExitCode"] == 1
    assert health(engine, plain) is None

    rows = dict(r.split("\t") for r in ps(engine, f"name={good}"))
    assert rows[good].startswith("Up ") and rows[good].endswith(" (healthy)")
    assert {r.split("\t")[0] for r in ps(engine, "health=healthy")} >= {good}
    assert good not in {r.split("\t")[0] for r in ps(engine, "health=unhealthy")}
    assert [r.split("\t")[0] for r in ps(engine, "health=unhealthy", f"name={bad}")] == [bad]
    assert [r.split("\t")[0] for r in ps(engine, "health=none", f"name={plain}")] == [plain]
    r = engine.docker("ps", "--filter", "health=bogus")
    assert r.returncode == 1 and b"Unrecognised filter value for health: bogus" in r.stderr

    until = str(int(time.time()) + 1)
    time.sleep(1.1)
    events = ok(engine.docker("events", "--since", since, "--until", until, "--filter", "event=health_status",
                              "--format", "{{.Actor.Attributes.name}} {{.Action}}")).splitlines()
    assert f"{good} health_status: healthy" in events
    assert f"{bad} health_status: unhealthy" in events
    # the probes are execs, shown as dockerd shows them, but not kept in ExecIDs
    assert ok(engine.docker("inspect", "-f", "{{len .ExecIDs}}", plain)).strip() == "0"


def test_timeout_kills_the_probe_and_counts_as_failure(engine, names):
    n = names("ht")
    ok(engine.docker("run", "-d", "--network", "none", "--name", n, "--health-cmd", "echo partial; sleep 31", *FAST,
                     "--health-timeout", "1s", "--health-retries", "1", "busybox", "sleep", "300"))
    assert wait_for(lambda: status(engine, n) == "unhealthy")
    last = health(engine, n)["Log"][-1]
    assert last["ExitCode"] == -1
    assert last["Output"] == "Health check exceeded timeout (1s): partial\n"
    # the killed probe is gone from the container, with the shell's children
    assert wait_for(lambda: "sleep 31" not in ok(engine.docker("top", n)))


def test_failures_in_the_start_period_do_not_count(engine, names):
    n = names("hs")
    ok(engine.docker("run", "-d", "--network", "none", "--name", n, "--health-cmd", "false", *FAST,
                     "--health-start-period", "60s", "--health-start-interval", "1s", "--health-retries", "1",
                     "busybox", "sleep", "300"))
    assert wait_for(lambda: len(health(engine, n)["Log"]) >= 2)
    h = health(engine, n)
    assert (h["Status"], h["FailingStreak"]) == ("starting", 0)
    assert ps(engine, f"name={n}")[0].endswith("(health: starting)")
    assert [r.split("\t")[0] for r in ps(engine, "health=starting", f"name={n}")] == [n]


def test_image_healthcheck_and_no_healthcheck(engine, names, tmp_path):
    tag = f"{names('img')}:hc"
    (tmp_path / "Dockerfile").write_text("FROM busybox\nHEALTHCHECK --interval=1s CMD [\"true\"]\n")
    try:
        ok(engine.docker("build", "-q", "-t", tag, str(tmp_path)))
        with_check, without = names("hi"), names("hx")
        ok(engine.docker("run", "-d", "--network", "none", "--name", with_check, tag, "sleep", "300"))
        ok(engine.docker("run", "-d", "--network", "none", "--name", without, "--no-healthcheck", tag, "sleep", "300"))
        assert wait_for(lambda: status(engine, with_check) == "healthy")
        assert health(engine, without) is None
        # a flag alone overrides that field; the command and the rest come from the image (dockerd's merge)
        partial = names("hm")
        ok(engine.docker("run", "-d", "--network", "none", "--name", partial, "--health-retries", "2", tag,
                         "sleep", "300"))
        assert json.loads(ok(engine.docker("inspect", "-f", "{{json .Config.Healthcheck}}", partial))) == \
            {"Test": ["CMD", "true"], "Interval": 1_000_000_000, "Retries": 2}
        assert wait_for(lambda: status(engine, partial) == "healthy")
        assert [r.split("\t")[0] for r in ps(engine, "health=none", f"name={without}")] == [without]
    finally:
        engine.docker("rm", "-f", *[r.split("\t")[0] for r in ps(engine, f"ancestor={tag}")])
        engine.docker("rmi", "-f", tag)


def test_pause_stop_and_restart(engine, names):
    n = names("hp")
    ok(engine.docker("run", "-d", "--network", "none", "--name", n, "--health-cmd", "true", *FAST,
                     "busybox", "sleep", "300"))
    assert wait_for(lambda: status(engine, n) == "healthy")
    ok(engine.docker("pause", n))
    assert ps(engine, f"name={n}")[0].endswith("(Paused)")
    assert status(engine, n) == "unhealthy"  # as dockerd: no probes, no health
    logged = len(health(engine, n)["Log"])
    time.sleep(2)
    assert len(health(engine, n)["Log"]) == logged  # a paused container is not probed
    ok(engine.docker("unpause", n))
    assert wait_for(lambda: status(engine, n) == "healthy")
    ok(engine.docker("restart", "-t", "0", n))
    h = health(engine, n)
    assert h["Status"] in ("starting", "healthy") and h["Log"]  # reset, the log kept
    assert wait_for(lambda: status(engine, n) == "healthy")
    ok(engine.docker("stop", "-t", "0", n))
    assert status(engine, n) == "unhealthy"
    assert ps(engine, f"name={n}") == []


def test_docker_py_healthcheck_and_bad_values(engine, docker_client, names):
    docker = pytest.importorskip("docker")
    n = names("hd")
    c = docker_client.containers.run("busybox", ["sleep", "300"], name=n, detach=True, network_mode="none",
                                     healthcheck={"test": ["CMD", "true"], "interval": 1_000_000_000})
    assert wait_for(lambda: docker_client.containers.get(c.id).attrs["State"].get("Health", {}).get("Status")
                    == "healthy")
    assert [x.name for x in docker_client.containers.list(filters={"health": "healthy", "name": n})] == [n]
    with pytest.raises(docker.errors.APIError) as e:
        docker_client.containers.create("busybox", ["true"], name=names("hd"),
                                        healthcheck={"test": ["CMD", "true"], "interval": 1000})
    assert e.value.status_code == 400
    assert "Interval in Healthcheck cannot be less than 1ms" in str(e.value)


def test_health_survives_an_engine_restart(fresh_engine, docker_cli):
    eng = fresh_engine
    ok(eng.docker("run", "-d", "--network", "none", "--name", "hr", "--health-cmd", "true", *FAST,
                  "busybox", "sleep", "300"))
    assert wait_for(lambda: status(eng, "hr") == "healthy")
    eng.stop(signal.SIGKILL)
    eng.start()
    h = health(eng, "hr")
    assert h["Status"] == "healthy" and h["Log"]
    last = h["Log"][-1]["Start"]
    assert wait_for(lambda: health(eng, "hr")["Log"][-1]["Start"] != last)  # the monitor resumed
    ok(eng.docker("rm", "-f", "hr"))
