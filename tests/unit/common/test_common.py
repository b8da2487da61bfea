import asyncio
import time

import pytest

from skiff.common.digest import check_digest, hex_of, is_digest, sha256_digest
from skiff.common.errors import Conflict, InvalidArgument, NotFound, SkiffError
from skiff.common.ids import is_full_id, new_id, random_name, short_id
from skiff.common.timefmt import ZERO_TIME, now_rfc3339, parse_rfc3339, rfc3339
from skiff.engine.events import EventBus, matches


def test_ids():
    i = new_id()
    assert is_full_id(i) and len(i) == 64
    assert short_id(i) == i[:12]
    assert short_id("sha256:" + i) == i[:12]
    assert not is_full_id(i[:63])


def test_random_name_avoids_taken():
    taken = {random_name() for _ in range(50)}
    for _ in range(50):
        assert random_name(taken) not in taken


def test_digests():
    d = sha256_digest(b"")
    assert d == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert is_digest(d) and hex_of(d) == d[7:]
    with pytest.raises(InvalidArgument):
        check_digest("sha256:xyz")


def test_error_statuses():
    assert NotFound("x").status == 404 and Conflict("x").status == 409
    assert InvalidArgument("x").status == 400 and SkiffError("x").status == 500


def test_rfc3339_round_trip():
    ns = 1_700_000_000_123_456_789
    s = rfc3339(ns)
    assert s == "2023-11-14T22:13:20.123456789Z"
    assert abs(parse_rfc3339(s) - ns / 1e9) < 1e-6
    assert parse_rfc3339(ZERO_TIME) == 0.0
    assert abs(parse_rfc3339(now_rfc3339()) - time.time()) < 5


def test_event_bus_history_and_live():
    async def scenario():
        bus = EventBus(history=3)
        start = time.time_ns()
        for i in range(5):
            bus.publish("container", "create", f"id{i}", {"name": f"c{i}"})
        assert [e.actor_id for e in bus.since(0)] == ["id2", "id3", "id4"]  # bounded ring
        got = []

        async def consume():
            async for ev in bus.subscribe(since_ns=start):
                got.append(ev.actor_id)
                if len(got) == 4:
                    return

        task = asyncio.create_task(consume())
        await asyncio.sleep(0)
        bus.publish("container", "start", "id5")
        await asyncio.wait_for(task, 2)
        return got

    assert asyncio.run(scenario()) == ["id2", "id3", "id4", "id5"]


def test_event_filters_and_docker_shape():
    bus = EventBus()
    ev = bus.publish("container", "die", "a" * 64, {"name": "web", "image": "busybox", "exitCode": "0"})
    assert matches(ev, {"type": ["container"], "event": ["die"]})
    assert matches(ev, {"container": ["web"]}) and matches(ev, {"container": ["aaa"]})
    assert matches(ev, {"image": ["busybox"]})
    assert not matches(ev, {"type": ["image"]})
    assert not matches(ev, {"label": ["exitCode=1"]})
    msg = ev.to_docker()
    assert msg["Type"] == "container" and msg["status"] == "die" and msg["from"] == "busybox"
    assert msg["Actor"]["Attributes"]["name"] == "web"
