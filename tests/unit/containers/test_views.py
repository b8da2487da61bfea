import pytest

from skiff.common.errors import InvalidArgument
from skiff.common.timefmt import parse_rfc3339
from skiff.engine.containers import views
from skiff.engine.containers.mounts import MountPoint
from skiff.engine.containers.record import Container, State

T0 = "2026-01-01T00:00:00.000000000Z"


def make(status="running", code=0, name="web", labels=None, mode="none", created=T0):
    return Container(id="f" * 64, name=name, created=created, image_id="sha256:" + "1" * 64,
                     config={"Cmd": ["sleep", "10"], "Entrypoint": None, "Labels": labels or {}, "Image": "busybox"},
                     host_config={"NetworkMode": mode},
                     state=State(status=status, exit_code=code, started_at=T0, finished_at=T0),
                     mounts=[MountPoint("volume", "/data", source="/v/_data", name="vol1")],
                     has_been_started=status != "created")


@pytest.mark.parametrize("secs,text", [
    (0.5, "Less than a second"), (1, "1 second"), (59, "59 seconds"), (60, "About a minute"),
    (120, "2 minutes"), (3600, "About an hour"), (7200, "2 hours"), (3 * 86400, "3 days"),
    (15 * 86400, "2 weeks"), (90 * 86400, "3 months"), (800 * 86400, "2 years"),
])
def test_human_duration(secs, text):
    assert views.human_duration(secs) == text


def test_status_texts():
    now = parse_rfc3339(T0) + 5
    assert views.status_text(make(), now) == "Up 5 seconds"
    assert views.status_text(make("paused"), now) == "Up 5 seconds (Paused)"
    assert views.status_text(make("exited", 3), now) == "Exited (3) 5 seconds ago"
    assert views.status_text(make("created"), now) == "Created"


def test_summary_and_inspect_shapes():
    c = make()
    s = views.summary(c, "busybox")
    assert s["Names"] == ["/web"] and s["Command"] == "sleep 10" and s["State"] == "running"
    assert s["NetworkSettings"]["Networks"].keys() == {"none"}
    assert s["Mounts"][0]["Name"] == "vol1"
    i = views.inspect(c, {"LogPath": "/l"}, {"Name": "overlay2", "Data": {}})
    assert i["Path"] == "sleep" and i["Args"] == ["10"] and i["Name"] == "/web"
    assert i["State"]["Running"] is True and i["State"]["Status"] == "running"
    assert i["LogPath"] == "/l" and i["Driver"] == "overlay2"
    assert views.inspect(make(mode="bridge"), {}, {})["NetworkSettings"]["Networks"].keys() == {"bridge"}
    assert views.inspect(make(mode="host"), {}, {})["NetworkSettings"]["Networks"].keys() == {"host"}


def test_filters():
    c = make("exited", 3, labels={"env": "prod", "team": "a"})
    match = lambda f, **kw: views.matches(c, f, lambda ref, ct: ref == "busybox", kw.get("before"), kw.get("after"))  # noqa: E731
    assert match({"name": ["we"]}) and not match({"name": ["db"]})
    assert match({"id": ["fff"]}) and not match({"id": ["abc"]})
    assert match({"label": ["env=prod"]}) and match({"label": ["team"]}) and not match({"label": ["env=dev"]})
    assert match({"label!": ["env=dev"]}) and not match({"label!": ["env"]})
    assert match({"status": ["exited"]}) and not match({"status": ["running"]})
    assert match({"exited": ["3"]}) and not match({"exited": ["0"]})
    assert match({"ancestor": ["busybox"]}) and not match({"ancestor": ["alpine"]})
    assert match({"volume": ["vol1"]}) and match({"volume": ["/data"]}) and not match({"volume": ["x"]})
    assert match({"network": ["none"]}) and not match({"network": ["host"]})
    t = parse_rfc3339(T0)
    assert match({}, before=t + 1) and not match({}, before=t)
    assert match({}, after=t - 1) and not match({}, after=t)
    views.check_filters({"status": ["running"]})
    with pytest.raises(InvalidArgument, match="invalid filter 'bogus'"):
        views.check_filters({"bogus": ["x"]})
    with pytest.raises(InvalidArgument, match="invalid filter 'status=sleepy'"):
        views.check_filters({"status": ["sleepy"]})
