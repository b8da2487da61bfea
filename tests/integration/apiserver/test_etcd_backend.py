"""skiff server with `--datastore-endpoint http://HOST:2379`: the same API on etcd, data kept across restarts."""

from __future__ import annotations

import pytest

from tests.support.etcd import Etcd, have_etcd
from tests.support.procs import ok
from tests.support.server import Server

pytestmark = [pytest.mark.interop, pytest.mark.slow]


@pytest.mark.skipif(not have_etcd(), reason="etcd is not installed")
def test_server_on_etcd_keeps_objects_across_restarts(tmp_path):
    (tmp_path / "etcd").mkdir()
    etcd = Etcd(tmp_path / "etcd").start()
    srv = Server(root=tmp_path / "srv", extra_args=["--datastore-endpoint", etcd.endpoint])
    try:
        srv.start()
        cm = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kept"},"data":{"k":"v"}}'
        assert "created" in ok(srv.kubectl("create", "-f", "-", input=cm))
        rv = ok(srv.kubectl("get", "cm", "kept", "-o", "jsonpath={.metadata.resourceVersion}"))
        srv.stop()
        srv.start()
        assert ok(srv.kubectl("get", "cm", "kept", "-o", "jsonpath={.data.k} {.metadata.resourceVersion}")) == \
            f"v {rv}"
        assert "namespace/default" in ok(srv.kubectl("get", "ns", "-o", "name"))
    finally:
        srv.cleanup()
        etcd.cleanup()


def test_sqlite_keeps_objects_across_restarts(tmp_path):
    srv = Server(root=tmp_path / "srv")
    try:
        srv.start()
        cm = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kept"},"data":{"k":"v"}}'
        ok(srv.kubectl("create", "-f", "-", input=cm))
        ca = (srv.data_dir / "tls" / "server-ca.crt").read_bytes()
        srv.stop()
        srv.start()
        assert ok(srv.kubectl("get", "cm", "kept", "-o", "jsonpath={.data.k}")) == "v"
        assert (srv.data_dir / "tls" / "server-ca.crt").read_bytes() == ca
    finally:
        srv.cleanup()
