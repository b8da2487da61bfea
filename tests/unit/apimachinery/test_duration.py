"""kubectl's AGE column (cases from k8s.io/apimachinery/pkg/util/duration's tests)."""

from datetime import UTC, datetime, timedelta

import pytest

from skiff.cluster.apimachinery.duration import age, human_duration

H = 3600


@pytest.mark.parametrize("seconds,text", [
    (1, "1s"), (70, "70s"), (190, "3m10s"), (70 * 60, "70m"), (47 * H, "47h"), (49 * H, "2d1h"),
    ((8 * 24 + 2) * H, "8d"), (367 * 24 * H, "367d"), ((365 * 2 * 24 + 25) * H, "2y1d"),
    ((365 * 8 * 24 + 2) * H, "8y"), (-1, "0s"), (-5, "<invalid>"), (5 * 60, "5m"), (3 * H + 5 * 60, "3h5m"),
])
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


def test_age_of_timestamp():
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert age((now - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ"), now) == "5s"
    assert age(None, now) == "<unknown>"
