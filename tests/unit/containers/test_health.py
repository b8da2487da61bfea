"""The healthcheck state machine, settings, probe commands and texts (pure, no root)."""

import pytest

from skiff.common.errors import InvalidArgument
from skiff.engine.containers import health
from skiff.engine.containers.record import Container, State
from skiff.engine.containers.views import check_filters, matches, status_text


def result(code: int, output: str = "", start: str = "2026-01-01T00:00:00Z") -> dict:
    return {"Start": start, "End": start, "ExitCode": code, "Output": output}


def test_settings_defaults_and_values():
    s = health.settings({"Test": ["CMD", "true"]})
    assert (s.interval, s.timeout, s.start_period, s.start_interval, s.retries) == (30, 30, 0, 5, 3)
    s = health.settings({"Interval": 1_000_000_000, "Timeout": 500_000_000, "StartPeriod": 2_000_000_000,
                         "StartInterval": 100_000_000, "Retries": 2})
    assert (s.interval, s.timeout, s.start_period, s.start_interval, s.retries) == (1, 0.5, 2, 0.1, 2)


@pytest.mark.parametrize("hc,message", [
    ({"Interval": 10}, "Interval in Healthcheck cannot be less than 1ms"),
    ({"Timeout": -5}, "Timeout in Healthcheck cannot be less than 1ms"),
    ({"StartPeriod": 999}, "StartPeriod in Healthcheck cannot be less than 1ms"),
    ({"StartInterval": 1}, "StartInterval in Healthcheck cannot be less than 1ms"),
    ({"Retries": -1}, "Retries in Healthcheck cannot be negative"),
])
def test_validate_rejects_what_dockerd_rejects(hc, message):
    with pytest.raises(InvalidArgument) as e:
        health.validate(hc)
    assert e.value.message == message and e.value.status == 400


def test_validate_accepts_zero_and_real_durations():
    health.validate(None)
    health.validate({"Test": ["CMD", "true"], "Interval": 0, "Timeout": 1_000_000, "Retries": 0})


def test_probe_argv():
    assert health.probe_argv({"Test": ["CMD", "curl", "-f", "x"]}) == ["curl", "-f", "x"]
    assert health.probe_argv({"Test": ["CMD-SHELL", "echo hi; true"]}) == ["/bin/sh", "-c", "echo hi; true"]
    assert health.probe_argv({"Test": ["CMD-SHELL", "x"]}, ["/bin/ash", "-xc"]) == ["/bin/ash", "-xc", "x"]
    for hc in (None, {}, {"Test": []}, {"Test": ["NONE"]}, {"Test": ["CMD"]}, {"Test": ["BOGUS", "x"]}):
        assert health.probe_argv(hc) is None


def test_on_start_resets_status_and_streak_and_keeps_the_log():
    hc = {"Test": ["CMD", "true"]}
    assert health.on_start(hc, None, None) == {"Status": "starting", "FailingStreak": 0, "Log": []}
    old = {"Status": "unhealthy", "FailingStreak": 4, "Log": [result(1)]}
    assert health.on_start(hc, None, old) == {"Status": "starting", "FailingStreak": 0, "Log": [result(1)]}
    assert health.on_start({"Test": ["NONE"]}, None, old) is None


def test_state_machine_to_unhealthy_after_retries_and_back():
    s = health.settings({"Retries": 2})
    h = health.on_start({"Test": ["CMD", "x"]}, None, None)
    assert health.record_result(h, result(1), s, False) is None
    assert (h["Status"], h["FailingStreak"]) == ("starting", 1)
    assert health.record_result(h, result(1), s, False) == "unhealthy"
    assert health.record_result(h, result(2), s, False) is None
    assert h["FailingStreak"] == 3
    assert health.record_result(h, result(0), s, False) == "healthy"
    assert h["FailingStreak"] == 0


def test_failures_in_the_start_period_do_not_count_while_starting():
    s = health.settings({"Retries": 1})
    h = health.on_start({"Test": ["CMD", "x"]}, None, None)
    for _ in range(4):
        assert health.record_result(h, result(1), s, True) is None
    assert (h["Status"], h["FailingStreak"]) == ("starting", 0)
    assert health.record_result(h, result(0), s, True) == "healthy"
    # once healthy, a failure counts even inside the start period
    assert health.record_result(h, result(1), s, True) == "unhealthy"


def test_log_keeps_the_last_five():
    s = health.settings({})
    h = health.on_start({"Test": ["CMD", "x"]}, None, None)
    for i in range(7):
        health.record_result(h, result(0, str(i)), s, False)
    assert [r["Output"] for r in h["Log"]] == ["2", "3", "4", "5", "6"]


def test_next_interval_uses_start_interval_only_while_starting_in_the_start_period():
    s = health.settings({"Interval": 10_000_000_000, "StartPeriod": 60_000_000_000, "StartInterval": 1_000_000_000})
    assert health.next_interval(s, 5, "starting") == 1
    assert health.next_interval(s, 5, "healthy") == 10
    assert health.next_interval(s, 61, "starting") == 10


def test_output_buffer_caps_at_4096_bytes():
    b = health.OutputBuffer()
    b.write(b"y\n" * 1000)
    b.write(b"y\n" * 2000)
    assert len(b.data) == 4096 and b.text().endswith("y\n...")
    small = health.OutputBuffer()
    small.write(b"hi\n")
    assert small.text() == "hi\n"


@pytest.mark.parametrize("seconds,text", [(1, "1s"), (0.5, "500ms"), (30, "30s"), (90, "1m30s"), (60, "1m0s"),
                                          (3600, "1h0m0s"), (1.5, "1.5s"), (0.001, "1ms"), (0, "0s")])
def test_go_duration(seconds, text):
    assert health.go_duration(seconds) == text


def test_timeout_output():
    assert health.timeout_output(1, "") == "Health check exceeded timeout (1s)"
    assert health.timeout_output(2.5, "partial") == "Health check exceeded timeout (2.5s): partial"


def _container(status: str, h: dict | None) -> Container:
    c = Container(id="a" * 64, name="c", created="2026-01-01T00:00:00Z", image_id="sha256:x",
                  config={}, host_config={})
    c.state = State(status=status, started_at="2026-01-01T00:00:00Z", health=h)
    return c


def test_ps_status_and_filter():
    now = 1767225605.0  # 5 s after the start
    starting = _container("running", {"Status": "starting", "FailingStreak": 0, "Log": []})
    assert status_text(starting, now) == "Up 5 seconds (health: starting)"
    healthy = _container("running", {"Status": "healthy", "FailingStreak": 0, "Log": []})
    assert status_text(healthy, now) == "Up 5 seconds (healthy)"
    assert status_text(_container("running", None), now) == "Up 5 seconds"
    assert status_text(_container("paused", {"Status": "unhealthy"}), now) == "Up 5 seconds (Paused)"
    assert matches(healthy, {"health": ["healthy"]}, None, None, None)
    assert not matches(healthy, {"health": ["unhealthy", "starting"]}, None, None, None)
    assert matches(_container("running", None), {"health": ["none"]}, None, None, None)
    with pytest.raises(InvalidArgument, match="Unrecognised filter value for health: bogus"):
        check_filters({"health": ["bogus"]})


def test_inspect_state_carries_health_only_with_a_check():
    assert "Health" not in State(status="running").to_docker()
    h = {"Status": "healthy", "FailingStreak": 0, "Log": []}
    assert State(status="running", health=h).to_docker()["Health"] == h
    # saved and loaded with the record
    c = _container("running", h)
    assert Container.from_record(c.to_record()).state.health == h


def test_merge_with_the_image_healthcheck_fills_what_the_user_left_unset():
    image = {"Test": ["CMD", "probe"], "Interval": 30_000_000_000, "Retries": 5}
    assert health.merge_with_image(None, image) == image
    assert health.merge_with_image({"Interval": 1_000_000_000}, image) == \
        {"Test": ["CMD", "probe"], "Interval": 1_000_000_000, "Retries": 5}
    assert health.merge_with_image({"Test": ["NONE"]}, image) == {"Test": ["NONE"], "Interval": 30_000_000_000,
                                                                  "Retries": 5}
    assert health.merge_with_image({"Test": ["CMD", "x"]}, None) == {"Test": ["CMD", "x"]}
    assert health.merge_with_image(None, None) is None
