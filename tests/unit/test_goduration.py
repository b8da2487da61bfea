import pytest

from skiff.common.goduration import parse_go_duration


@pytest.mark.parametrize("text,seconds", [
    ("0", 0), ("10s", 10), ("1h30m", 5400), ("1m0s", 60), ("100ms", 0.1), ("1.5ms", 0.0015),
    ("-5m", -300), ("+2h", 7200), ("300us", 0.0003), ("2µs", 0.000002), (".5s", 0.5),
])
def test_go_durations(text, seconds):
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "1x", "m", "1h 2m", "--1s"])
def test_bad_durations_read_as_go_words_them(text):
    with pytest.raises(ValueError, match=f'time: invalid duration "{text}"'):
        parse_go_duration(text)
