import pytest

from skiff.cli.humanize import (
    bytes_size,
    human_duration,
    human_size,
    parse_go_duration,
    ram_in_bytes,
    state_status,
    timestamp_arg,
)


@pytest.mark.parametrize("secs, text", [
    (0.2, "Less than a second"), (1, "1 second"), (3, "3 seconds"), (59, "59 seconds"),
    (60, "About a minute"), (119, "About a minute"), (120, "2 minutes"), (59 * 60, "59 minutes"),
    (3600, "About an hour"), (5400, "2 hours"), (47 * 3600, "47 hours"), (48 * 3600, "2 days"),
    (14 * 86400, "2 weeks"), (60 * 86400, "2 months"), (3 * 365 * 86400, "3 years"),
])
def test_human_duration(secs, text):
    assert human_duration(secs) == text


@pytest.mark.parametrize("size, text", [
    (0, "0B"), (999, "999B"), (1000, "1kB"), (1980000, "1.98MB"), (4261552, "4.262MB"),
    (1_500_000_000, "1.5GB"),
])
def test_human_size(size, text):
    assert human_size(size) == text


def test_human_size_precision_three_as_docker_images():
    assert human_size(4261552, 3) == "4.26MB"
    assert human_size(1986000, 3) == "1.99MB"


def test_bytes_size():
    assert bytes_size(1024 * 1024) == "1MiB"
    assert bytes_size(593920) == "580KiB"
    assert bytes_size(512) == "512B"


@pytest.mark.parametrize("text, value", [
    ("512m", 512 << 20), ("1g", 1 << 30), ("1.5g", int(1.5 * (1 << 30))), ("100", 100), ("10kb", 10240),
    ("4MiB", 4 << 20),
])
def test_ram_in_bytes(text, value):
    assert ram_in_bytes(text) == value


def test_ram_in_bytes_errors():
    with pytest.raises(ValueError, match="invalid suffix: 'x'"):
        ram_in_bytes("1x")
    with pytest.raises(ValueError, match="invalid size"):
        ram_in_bytes("lots")


def test_go_duration():
    assert parse_go_duration("1h30m") == 5400
    assert parse_go_duration("10s") == 10
    assert parse_go_duration("1.5m") == 90
    assert parse_go_duration("-2s") == -2
    with pytest.raises(ValueError):
        parse_go_duration("10 apples")


def test_timestamp_arg():
    now = 1_000_000.0
    assert timestamp_arg("10m", now) == "999400.000000000"
    assert timestamp_arg("1700000000", now) == "1700000000"
    assert timestamp_arg("2023-11-14T22:13:20Z", now) == "1700000000.000000000"
    assert timestamp_arg("2023-11-14", now) == "1699920000.000000000"
    with pytest.raises(ValueError):
        timestamp_arg("yesterday", now)


def test_state_status():
    from skiff.common.timefmt import rfc3339

    now = 1_700_000_100.0
    started = rfc3339(1_700_000_097 * 10**9)
    assert state_status({"Running": True, "StartedAt": started}, now) == "Up 3 seconds"
    assert state_status({"Running": True, "Paused": True, "StartedAt": started}, now) == "Up 3 seconds (Paused)"
    finished = rfc3339(int(now - 120) * 10**9)
    assert state_status({"StartedAt": started, "FinishedAt": finished, "ExitCode": 1}, now) == \
        "Exited (1) 2 minutes ago"
    assert state_status({"StartedAt": "0001-01-01T00:00:00Z"}, now) == "Created"
