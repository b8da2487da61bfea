import asyncio
import json

from skiff.common.timefmt import parse_rfc3339
from skiff.engine.containers import logs
from skiff.engine.containers.logs import LogOptions


def entry(stream, text, ts):
    return json.dumps({"log": text, "stream": stream, "time": ts}) + "\n"


def write_log(path, n=5, start_sec=10, stream_of=lambda i: "stdout" if i % 2 == 0 else "stderr"):
    with open(path, "a") as f:
        for i in range(n):
            f.write(entry(stream_of(i), f"line{i}\n", f"2026-01-01T00:00:{start_sec + i:02d}.000000001Z"))


def test_all_and_stream_selection(tmp_path):
    live = tmp_path / "c-json.log"
    write_log(live)
    got = logs.read_existing(live, LogOptions())
    assert [d for _, d in got] == [f"line{i}\n".encode() for i in range(5)]
    assert [s for s, _ in got] == [1, 2, 1, 2, 1]
    only_err = logs.read_existing(live, LogOptions(stdout=False))
    assert [d for _, d in only_err] == [b"line1\n", b"line3\n"]


def test_tail_and_timestamps(tmp_path):
    live = tmp_path / "c-json.log"
    write_log(live)
    got = logs.read_existing(live, LogOptions(tail=2, timestamps=True))
    assert [d for _, d in got] == [b"2026-01-01T00:00:13.000000001Z line3\n", b"2026-01-01T00:00:14.000000001Z line4\n"]
    assert logs.read_existing(live, LogOptions(tail=0)) == []
    assert logs.parse_tail("all") == -1 and logs.parse_tail("3") == 3 and logs.parse_tail("x") == -1


def test_since_until(tmp_path):
    live = tmp_path / "c-json.log"
    write_log(live)
    since = parse_rfc3339("2026-01-01T00:00:12Z")
    until = parse_rfc3339("2026-01-01T00:00:13.5Z")
    got = logs.read_existing(live, LogOptions(since=since, until=until))
    assert [d for _, d in got] == [b"line2\n", b"line3\n"]


def test_rotated_files_read_oldest_first(tmp_path):
    live = tmp_path / "c-json.log"
    (tmp_path / "c-json.log.2").write_text(entry("stdout", "a\n", "2026-01-01T00:00:01Z"))
    (tmp_path / "c-json.log.1").write_text(entry("stdout", "b\n", "2026-01-01T00:00:02Z"))
    live.write_text(entry("stdout", "c\n", "2026-01-01T00:00:03Z") + "not json\n")
    assert [d for _, d in logs.read_existing(live, LogOptions())] == [b"a\n", b"b\n", b"c\n"]
    assert [d for _, d in logs.read_existing(live, LogOptions(tail=2))] == [b"b\n", b"c\n"]


def test_follow_sees_new_lines_and_ends_when_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "POLL", 0.01)
    live = tmp_path / "c-json.log"
    write_log(live, n=2)
    running = {"on": True}

    async def scenario():
        got = []

        async def reader():
            async for item in logs.follow(live, LogOptions(tail=1), lambda: running["on"]):
                got.append(item[1])

        task = asyncio.create_task(reader())
        await asyncio.sleep(0.05)
        with open(live, "a") as f:
            f.write(entry("stdout", "new\n", "2026-01-01T00:01:00Z")[:20])  # half a line first
            f.flush()
            await asyncio.sleep(0.05)
            f.write(entry("stdout", "new\n", "2026-01-01T00:01:00Z")[20:])
        await asyncio.sleep(0.05)
        # rotation: the live file moves to .1 and a new one starts
        live.rename(tmp_path / "c-json.log.1")
        live.write_text(entry("stderr", "after-rotate\n", "2026-01-01T00:02:00Z"))
        await asyncio.sleep(0.05)
        running["on"] = False
        await asyncio.wait_for(task, 5)
        return got

    assert asyncio.run(scenario()) == [b"line1\n", b"new\n", b"after-rotate\n"]


def test_tail_is_taken_before_the_stream_and_time_filters_as_dockerd(tmp_path):
    """dockerd tails the file (both streams), then applies since/until, then the stream choice."""
    live = tmp_path / "c-json.log"
    write_log(live)  # line0..line4 at :10..:14, stdout/stderr alternating, line4 on stdout
    assert logs.read_existing(live, LogOptions(stdout=False, tail=1)) == []
    assert logs.read_existing(live, LogOptions(stdout=False, tail=2)) == [(2, b"line3\n")]
    assert logs.read_existing(live, LogOptions(tail=1, timestamps=True)) == [
        (1, b"2026-01-01T00:00:14.000000001Z line4\n")]
    until = parse_rfc3339("2026-01-01T00:00:12.5Z")
    assert logs.read_existing(live, LogOptions(until=until, tail=2)) == []  # the last two are later
    assert [d for _, d in logs.read_existing(live, LogOptions(until=until, tail=4))] == [b"line1\n", b"line2\n"]
    since = parse_rfc3339("2026-01-01T00:00:13.5Z")
    assert logs.read_existing(live, LogOptions(since=since, tail=3)) == [(1, b"line4\n")]
    # an entry past `until` ends the output even on a stream not asked for
    assert [d for _, d in logs.read_existing(live, LogOptions(stderr=False, until=until))] == [b"line0\n", b"line2\n"]


def test_timestamps_have_nine_fraction_digits():
    assert logs.fixed_nano("2026-01-01T00:00:01.000000001Z") == "2026-01-01T00:00:01.000000001Z"
    assert logs.fixed_nano("2026-01-01T00:00:01.5Z") == "2026-01-01T00:00:01.500000000Z"
    assert logs.fixed_nano("2026-01-01T00:00:01Z") == "2026-01-01T00:00:01.000000000Z"


def test_follow_with_until_in_the_past_ends_after_the_existing_lines(tmp_path):
    live = tmp_path / "c-json.log"
    write_log(live, n=3)
    until = parse_rfc3339("2026-01-01T00:00:11Z")

    async def scenario():
        return [d async for _, d in logs.follow(live, LogOptions(until=until), lambda: True)]

    assert asyncio.run(asyncio.wait_for(scenario(), 5)) == [b"line0\n", b"line1\n"]
