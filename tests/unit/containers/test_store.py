import pytest

from skiff.common.errors import Conflict, InvalidArgument, NotFound
from skiff.engine.containers.record import Container, State
from skiff.engine.containers.store import ContainerStore


def make(store, cid, name):
    c = Container(id=cid, name=name, created="2026-01-01T00:00:00Z", image_id="sha256:" + "0" * 64,
                  config={"Cmd": ["sh"], "Entrypoint": None}, host_config={"NetworkMode": "none"})
    store.add(c)
    return c


def test_lookup_by_id_prefix_and_name(tmp_path):
    s = ContainerStore(tmp_path)
    a = make(s, "abc" + "1" * 61, "web")
    b = make(s, "abd" + "2" * 61, "db")
    assert s.get(a.id) is a
    assert s.get("abc") is a
    assert s.get("web") is a and s.get("/web") is a
    assert s.get("db") is b
    with pytest.raises(InvalidArgument, match="Multiple IDs found"):
        s.get("ab")
    with pytest.raises(NotFound, match="No such container: nope"):
        s.get("nope")


def test_unique_names(tmp_path):
    s = ContainerStore(tmp_path)
    a = make(s, "a" * 64, "web")
    with pytest.raises(Conflict) as e:
        make(s, "b" * 64, "web")
    assert e.value.message == (f'Conflict. The container name "/web" is already in use by container "{a.id}". '
                               "You have to remove (or rename) that container to be able to reuse that name.")
    with pytest.raises(InvalidArgument, match="Invalid container name"):
        s.check_name("-bad")


def test_rename_and_remove_free_the_name(tmp_path):
    s = ContainerStore(tmp_path)
    a = make(s, "a" * 64, "web")
    s.rename(a, "web2")
    assert s.get("web2") is a and s.find("web") is None
    s.remove(a)
    make(s, "c" * 64, "web2")


def test_records_survive_reload(tmp_path):
    s = ContainerStore(tmp_path)
    a = make(s, "a" * 64, "web")
    a.state = State(status="exited", exit_code=3)
    s.save(a)
    s2 = ContainerStore(tmp_path)
    s2.load_all()
    b = s2.get("web")
    assert b.state.exit_code == 3 and b.state.status == "exited"
    assert b.path == "sh" and b.args == []
    assert not list(tmp_path.glob("*/*.tmp"))


def test_a_pending_record_appears_only_when_published(tmp_path):
    s = ContainerStore(tmp_path)
    c = Container(id="e" * 64, name="pending", created="2026-01-01T00:00:00Z", image_id="sha256:" + "0" * 64,
                  config={"Cmd": ["sh"]}, host_config={"NetworkMode": "none"})
    tmp = s.write_pending(c, durable=True, tag="create")
    assert not (s.dir(c.id) / "config.v2.json").exists()
    s.publish(c.id, tmp)
    assert not (s.dir(c.id) / "config.v2.json.create.tmp").exists()
    loaded = ContainerStore(tmp_path).load_all()
    assert [x.name for x in loaded] == ["pending"]
