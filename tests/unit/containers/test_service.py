"""ContainerService over fakes: lifecycle, errors in Docker's words, events, policies, restore."""

import asyncio

import pytest

from skiff.common.errors import Conflict, InvalidArgument, NotFound, NotModified
from skiff.engine.containers import hostfs
from skiff.engine.containers.service import ContainerService
from skiff.engine.events import EventBus
from skiff.engine.volumes.service import VolumeService
from tests.unit.containers.fakes import FakeImages, FakeRuntime


@pytest.fixture(autouse=True)
def no_mounts(monkeypatch):
    monkeypatch.setattr(hostfs, "mount_rootfs", lambda mounts, target: __import__("os").makedirs(target, exist_ok=True))
    monkeypatch.setattr(hostfs, "unmount", lambda target: None)


class World:
    def __init__(self, root):
        self.root = root
        self.events = EventBus()
        self.images = FakeImages()
        self.runtime = FakeRuntime()
        self.volumes = VolumeService(root, self.events)
        self.svc = self.new_service()

    def new_service(self):
        return ContainerService(self.root, self.images, self.runtime, self.volumes, self.events, "sktest")

    def actions(self):
        return [e.action for e in self.events.since(0) if e.type == "container"]


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def world(tmp_path):
    return World(tmp_path)


def body(*cmd, **kw):
    return {"Image": "busybox", "Cmd": list(cmd) or None, "HostConfig": {"NetworkMode": "none", **kw}}


async def until(predicate, timeout=5.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


def test_create_start_stop_remove(world):
    svc = world.svc

    async def scenario():
        cid, warnings = await svc.create(body("sleep", "100"), "web")
        assert warnings == []
        info = await svc.inspect("web")
        assert info["Id"] == cid and info["Name"] == "/web" and info["State"]["Status"] == "created"
        assert info["Config"]["Image"] == "busybox" and info["Path"] == "sleep" and info["Args"] == ["100"]
        assert info["HostConfig"]["RestartPolicy"] == {"Name": "no", "MaximumRetryCount": 0}
        await svc.start("web")
        info = await svc.inspect(cid[:10])
        assert info["State"]["Running"] and info["State"]["Pid"] > 0
        with pytest.raises(NotModified):
            await svc.start("web")
        await svc.stop("web", timeout=1)
        info = await svc.inspect("web")
        assert info["State"]["Status"] == "exited" and info["State"]["ExitCode"] == 143
        with pytest.raises(NotModified):
            await svc.stop("web")
        with pytest.raises(Conflict, match=f"Cannot kill container: web: Container {cid} is not running"):
            await svc.kill("web")
        await svc.remove("web")
        with pytest.raises(NotFound, match="No such container: web"):
            await svc.inspect("web")
        assert cid not in world.images.rootfs

    run(scenario())
    assert world.actions() == ["create", "start", "kill", "die", "stop", "destroy"]


def test_errors_in_dockers_words(world):
    svc = world.svc

    async def scenario():
        with pytest.raises(NotFound, match="No such image: alpine"):
            await svc.create({"Image": "alpine"})
        cid, _ = await svc.create(body("sleep", "1"), "dup")
        with pytest.raises(Conflict, match='The container name "/dup" is already in use by container'):
            await svc.create(body("sleep", "1"), "dup")
        await svc.start("dup")
        with pytest.raises(Conflict, match='cannot remove container "/dup": container is running: stop the '
                                           "container before removing or force remove"):
            await svc.remove("dup")
        await svc.remove("dup", force=True)
        with pytest.raises(InvalidArgument, match="Minimum memory limit allowed is 6MB"):
            await svc.create(body("x", Memory=1000))
        with pytest.raises(InvalidArgument, match="invalid restart policy"):
            await svc.create(body("x", RestartPolicy={"Name": "sometimes"}))

    run(scenario())


def test_start_failure_records_127(world):
    world.runtime.fail_create = 'exec: "nosuch": executable file not found in $PATH'

    async def scenario():
        await world.svc.create(body("nosuch"), "bad")
        with pytest.raises(InvalidArgument) as e:
            await world.svc.start("bad")
        assert "executable file not found in $PATH" in e.value.message
        info = await world.svc.inspect("bad")
        assert info["State"]["Status"] == "created" and info["State"]["ExitCode"] == 127
        assert "executable file not found" in info["State"]["Error"]

    run(scenario())


def test_auto_remove_and_wait_removed(world):
    async def scenario():
        cid, _ = await world.svc.create(body("sleep", AutoRemove=True), "tmp")
        waiter = asyncio.create_task(world.svc.wait("tmp", "removed"))
        await asyncio.sleep(0)
        await world.svc.start("tmp")
        await world.svc.kill("tmp", "KILL")
        assert await asyncio.wait_for(waiter, 5) == {"StatusCode": 137, "Error": None}
        assert world.svc.store.find(cid) is None

    run(scenario())


def test_wait_conditions(world):
    async def scenario():
        await world.svc.create(body("exit", "3"), "ww")
        assert await world.svc.wait("ww") == {"StatusCode": 0, "Error": None}  # created: not running now
        nxt = asyncio.create_task(world.svc.wait("ww", "next-exit"))
        await asyncio.sleep(0)
        await world.svc.start("ww")
        assert (await asyncio.wait_for(nxt, 5))["StatusCode"] == 3
        with pytest.raises(InvalidArgument, match="invalid condition"):
            await world.svc.wait("ww", "whenever")

    run(scenario())


def test_restart_policy_on_failure(world):
    async def scenario():
        await world.svc.create(body("exit", "1", RestartPolicy={"Name": "on-failure", "MaximumRetryCount": 2}), "rp")
        await world.svc.start("rp")
        c = world.svc.get("rp")
        await until(lambda: c.restart_count == 2 and c.state.status == "exited")
        assert c.state.exit_code == 1

    run(scenario())
    assert world.actions().count("start") == 3 and world.actions().count("restart") == 2


def test_manual_stop_suppresses_always(world):
    async def scenario():
        await world.svc.create(body("sleep", RestartPolicy={"Name": "always"}), "al")
        await world.svc.start("al")
        await world.svc.stop("al", timeout=1)
        await asyncio.sleep(0.3)
        c = world.svc.get("al")
        assert c.state.status == "exited" and c.restart_count == 0

    run(scenario())


def test_pause_and_list(world):
    async def scenario():
        await world.svc.create(body("sleep"), "aa")
        await world.svc.create(body("sleep"), "bb")
        await world.svc.start("aa")
        await world.svc.pause("aa")
        with pytest.raises(Conflict, match="is already paused"):
            await world.svc.pause("aa")
        with pytest.raises(Conflict, match="is not paused"):
            await world.svc.unpause("bb")
        running = await world.svc.list()
        assert [x["Names"] for x in running] == [["/aa"]] and running[0]["Status"].endswith("(Paused)")
        everything = await world.svc.list(all=True, size=True)
        assert {x["Names"][0] for x in everything} == {"/aa", "/bb"} and everything[0]["SizeRw"] == 7
        assert [x["Names"] for x in await world.svc.list(filters={"status": ["created"]})] == [["/bb"]]
        assert len(await world.svc.list(limit=1)) == 1
        await world.svc.unpause("aa")
        changes = await world.svc.changes("aa")
        assert changes == [{"Path": "/new", "Kind": 1}]

    run(scenario())


def test_volumes_created_and_removed_with_v(world):
    async def scenario():
        cid, _ = await world.svc.create(body("sleep", Binds=["named:/n", "/anon"]), "vol")
        mounts = (await world.svc.inspect("vol"))["Mounts"]
        names = {m["Destination"]: m["Name"] for m in mounts}
        assert names["/n"] == "named" and len(names["/anon"]) == 64
        with pytest.raises(Conflict, match="volume is in use"):
            await world.volumes.remove("named")
        await world.svc.remove("vol", volumes=True)
        assert world.volumes.exists("named") and not world.volumes.exists(names["/anon"])

    run(scenario())


def test_restore_records_exit_and_readopts(world):
    async def setup():
        await world.svc.create(body("sleep"), "ended")
        await world.svc.start("ended")
        await world.svc.create(body("sleep"), "alive")
        await world.svc.start("alive")
        await world.svc.shutdown()

    run(setup())
    ended = world.svc.get("ended").id
    world.runtime.procs[ended]["status"] = "stopped"
    from skiff.engine.runtime.api import ExitStatus

    world.runtime.procs[ended]["exit"] = ExitStatus(exit_code=9, finished_at="2026-01-01T00:00:00Z")

    async def after():
        svc2 = world.new_service()
        await svc2.restore()
        assert (await svc2.inspect("ended"))["State"]["ExitCode"] == 9
        assert (await svc2.inspect("alive"))["State"]["Status"] == "running"
        await svc2.kill("alive")
        await until(lambda: svc2.get("alive").state.status == "exited")
        await svc2.shutdown()

    run(after())


def test_rename_and_events(world):
    async def scenario():
        await world.svc.create(body("sleep"), "old")
        await world.svc.rename("old", "new")
        assert (await world.svc.inspect("new"))["Name"] == "/new"
        with pytest.raises(NotFound):
            await world.svc.inspect("old")

    run(scenario())
    ren = [e for e in world.events.since(0) if e.action == "rename"][0]
    assert ren.attributes["oldName"] == "/old" and ren.attributes["name"] == "new"


def test_waiters_end_when_a_created_container_is_removed(world):
    async def scenario():
        await world.svc.create(body("sleep"), "never")
        waiter = asyncio.create_task(world.svc.wait("never", "next-exit"))
        await asyncio.sleep(0)
        await world.svc.remove("never")
        assert (await asyncio.wait_for(waiter, 5))["StatusCode"] == 0

    run(scenario())
