import orjson

from skiff.cluster.api import registry
from skiff.cluster.apiserver.filtering import predicate
from skiff.cluster.apiserver.watch import classify
from skiff.cluster.storage.interface import Event, KeyValue

PODS = registry.find("", "v1", "pods")


def _kv(rev, labels):
    obj = {"metadata": {"name": "p", "namespace": "d", "labels": labels}}
    return KeyValue("/registry/pods/d/p", orjson.dumps(obj), 1, rev)


def test_entering_and_leaving_a_selection():
    pred = predicate(PODS, "app=web", "")
    added = classify(Event("MODIFIED", _kv(3, {"app": "web"}), _kv(2, {"app": "db"})), pred)
    assert added is not None and added[0] == "ADDED"
    gone = classify(Event("MODIFIED", _kv(4, {"app": "db"}), _kv(3, {"app": "web"})), pred)
    assert gone is not None and gone[0] == "DELETED"
    assert classify(Event("MODIFIED", _kv(5, {"app": "x"}), _kv(4, {"app": "db"})), pred) is None
    same = classify(Event("MODIFIED", _kv(6, {"app": "web"}), _kv(5, {"app": "web"})), pred)
    assert same is not None and same[0] == "MODIFIED" and same[1]["metadata"]["resourceVersion"] == "6"


def test_everything_passes_through():
    pred = predicate(PODS, "", "")
    ev = classify(Event("DELETED", _kv(9, {}), None), pred)
    assert ev is not None and ev[0] == "DELETED"
