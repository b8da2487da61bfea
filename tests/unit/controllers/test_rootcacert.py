"""The root-CA publisher against the fake client: kube-root-ca.crt in every active namespace,
made again when deleted and put back when edited."""

from __future__ import annotations

import asyncio

from skiff.cluster.api.rootca import DESCRIPTION_KEY
from skiff.cluster.api.rootca import configmap as desired
from skiff.cluster.controllers import registry
from skiff.cluster.controllers.rootcacert import RootCACertPublisher, corrected
from tests.unit.controllers.harness import Harness

NS = "/api/v1/namespaces"
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_corrected_keeps_other_metadata_and_drops_foreign_data():
    good = desired("team", CA)
    assert corrected(good, CA) is None
    edited = {**good, "metadata": {**good["metadata"], "labels": {"x": "y"}, "resourceVersion": "7"},
              "data": {"ca.crt": "tampered", "extra": "1"}, "binaryData": {"b": "AA=="}}
    fixed = corrected(edited, CA)
    assert fixed is not None and fixed["data"] == {"ca.crt": CA} and "binaryData" not in fixed
    assert fixed["metadata"]["labels"] == {"x": "y"} and fixed["metadata"]["resourceVersion"] == "7"
    assert fixed["metadata"]["annotations"][DESCRIPTION_KEY]


def test_registered_by_upstreams_name_and_alias():
    assert registry.canonical("root-ca-cert-publisher") == "root-ca-certificate-publisher-controller"
    assert "root-ca-certificate-publisher-controller" in registry.select("*")
    assert registry.load("root-ca-cert-publisher") is RootCACertPublisher


def test_every_active_namespace_gets_the_ca_again_when_deleted_or_edited():
    async def main() -> None:
        async with Harness(RootCACertPublisher, root_ca=CA) as h:
            await h.client.create(NS, {"metadata": {"name": "team"}})
            await h.client.create(NS, {"metadata": {"name": "going", "deletionTimestamp": "2026-01-01T00:00:00Z"}})
            await h.settle()
            cms = h.objects("configmaps", "team")
            assert [c["metadata"]["name"] for c in cms] == ["kube-root-ca.crt"]
            assert cms[0]["data"] == {"ca.crt": CA}
            assert h.objects("configmaps", "going") == []
            await h.client.delete("/api/v1/namespaces/team/configmaps/kube-root-ca.crt")
            await h.settle()
            assert [c["data"] for c in h.objects("configmaps", "team")] == [{"ca.crt": CA}]
            await h.client.merge_patch("/api/v1/namespaces/team/configmaps/kube-root-ca.crt",
                                       {"data": {"ca.crt": "not a CA"}})
            await h.settle()
            assert [c["data"] for c in h.objects("configmaps", "team")] == [{"ca.crt": CA}]
    asyncio.run(main())


def test_other_configmaps_are_left_alone():
    async def main() -> None:
        async with Harness(RootCACertPublisher, root_ca=CA) as h:
            await h.client.create(NS, {"metadata": {"name": "team"}})
            await h.client.create("/api/v1/namespaces/team/configmaps",
                                  {"metadata": {"name": "app", "namespace": "team"}, "data": {"ca.crt": "mine"}})
            await h.settle()
            app = [c for c in h.objects("configmaps", "team") if c["metadata"]["name"] == "app"]
            assert app[0]["data"] == {"ca.crt": "mine"}
    asyncio.run(main())
