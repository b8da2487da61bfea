"""The network journal: endpoint changes appended, replayed over the record at load, compacted
into the record; torn lines and replays after a crash mid-compaction. No root."""

import orjson

from skiff.engine.network import journal
from skiff.engine.network.config import NetworkConfig
from skiff.engine.network.model import Network
from skiff.engine.network.service import NetworkService
from tests.unit.network.records import CID_A, CID_B, make_network, plug


def test_replay_applies_plugs_and_unplugs_with_their_addresses():
    net = make_network("web", "1" * 64, "10.5.0.0/24")
    base = Network.from_dict(net.to_dict())
    a = plug(net, CID_A, "alpha")
    b = plug(net, CID_B, "beta")
    data = journal.plug_line(net, a) + journal.plug_line(net, b) + journal.unplug_line(CID_A)
    assert journal.replay(base, data) == 3
    assert list(base.endpoints) == [CID_B] and base.endpoints[CID_B].ip == b.ip == "10.5.0.3"
    assert base.pool is not None and base.pool.allocated == {b.ip: CID_B}
    assert base.pool.allocate("x" * 64) == net.pool.allocate("x" * 64)  # the cursor came along too


def test_replay_stops_at_a_torn_line_and_is_idempotent():
    net = make_network("web", "1" * 64, "10.5.0.0/24")
    base = Network.from_dict(net.to_dict())
    a = plug(net, CID_A, "alpha")
    line = journal.plug_line(net, a)
    assert journal.replay(base, line + journal.unplug_line(CID_B)[:9]) == 1  # torn at a crash
    assert list(base.endpoints) == [CID_A]
    assert journal.replay(base, line + line) == 2 and list(base.endpoints) == [CID_A]
    assert journal.replay(base, b'{"other": 1}\n' + journal.unplug_line(CID_A)) == 0  # unknown: stop


def test_service_appends_then_loads_and_compacts(tmp_path):
    svc = NetworkService(tmp_path, events=None, cfg=NetworkConfig(prefix="skT"))
    net = make_network("web", "1" * 64, "10.5.0.0/24")
    svc.nets[net.id] = net
    svc._save(net)
    record = (tmp_path / "networks" / f"{net.id}.json").read_bytes()
    a = plug(net, CID_A, "alpha")
    svc._save_endpoint_change(net, journal.plug_line(net, a))
    b = plug(net, CID_B, "beta")
    svc._save_endpoint_change(net, journal.plug_line(net, b))
    net.endpoints.pop(CID_A)
    svc._save_endpoint_change(net, journal.unplug_line(CID_A))
    assert (tmp_path / "networks" / f"{net.id}.json").read_bytes() == record  # the record was not rewritten
    assert len(svc.journals.read(net.id).splitlines()) == 3

    other = NetworkService(tmp_path, events=None, cfg=NetworkConfig(prefix="skT"))
    other._load()
    loaded = other.nets[net.id]
    assert list(loaded.endpoints) == [CID_B] and loaded.pool is not None and loaded.pool.allocated == {b.ip: CID_B}

    other._save(loaded)  # a full save empties the journal
    assert other.journals.read(net.id) == b""
    saved = orjson.loads((tmp_path / "networks" / f"{net.id}.json").read_bytes())
    assert list(saved["endpoints"]) == [CID_B]
    svc.journals.close()
    other.journals.close()


def test_a_long_journal_is_compacted_into_the_record(tmp_path, monkeypatch):
    monkeypatch.setattr(journal, "COMPACT_AT", 2)
    svc = NetworkService(tmp_path, events=None, cfg=NetworkConfig(prefix="skT"))
    net = make_network("web", "1" * 64, "10.5.0.0/24")
    svc.nets[net.id] = net
    svc._save(net)
    for cid in (CID_A, CID_B):
        svc._save_endpoint_change(net, journal.plug_line(net, plug(net, cid, cid[:5])))
    assert len(svc.journals.read(net.id).splitlines()) == 2
    net.endpoints.pop(CID_A)
    svc._save_endpoint_change(net, journal.unplug_line(CID_A))  # third change: the record instead
    assert svc.journals.read(net.id) == b""
    assert list(orjson.loads((tmp_path / "networks" / f"{net.id}.json").read_bytes())["endpoints"]) == [CID_B]
    svc._save_endpoint_change(net, journal.unplug_line(CID_B))  # and appending starts again
    assert len(svc.journals.read(net.id).splitlines()) == 1
    svc._drop_record(net)
    assert not (tmp_path / "networks" / f"{net.id}.journal").exists()
