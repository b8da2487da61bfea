"""PersistentVolume binding and hostPath provisioning against the fake client."""

from __future__ import annotations

import asyncio

from skiff.cluster.controllers import pvbinder
from skiff.cluster.controllers.pvbinder import PersistentVolumeBinder
from tests.unit.controllers.harness import Harness

PVCS = "/api/v1/namespaces/default/persistentvolumeclaims"
PVS = "/api/v1/persistentvolumes"


def claim(name: str, size: str = "1Gi", cls: str | None = None) -> dict:
    spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if cls:
        spec["storageClassName"] = cls
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name}, "spec": spec}


def volume(name: str, size: str, modes: tuple[str, ...] = ("ReadWriteOnce",), cls: str | None = None) -> dict:
    spec: dict = {"capacity": {"storage": size}, "accessModes": list(modes), "hostPath": {"path": f"/tmp/{name}"},
                  "persistentVolumeReclaimPolicy": "Retain"}
    if cls:
        spec["storageClassName"] = cls
    return {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": name}, "spec": spec,
            "status": {"phase": "Available"}}


def test_binds_the_smallest_fitting_volume_and_provisions_when_none_fits():
    async def main() -> None:
        async with Harness(PersistentVolumeBinder) as h:
            await h.client.create(PVS, volume("big", "10Gi"))
            await h.client.create(PVS, volume("small", "2Gi"))
            await h.client.create(PVS, volume("tiny", "500Mi"))
            await h.client.create(PVS, volume("rox", "2Gi", ("ReadOnlyMany",)))
            await h.client.create(PVCS, claim("a"))
            await h.settle()
            a = h.objects("persistentvolumeclaims")[0]
            assert a["spec"]["volumeName"] == "small" and a["status"]["phase"] == "Bound"
            pv = {p["metadata"]["name"]: p for p in h.objects("persistentvolumes", "")}["small"]
            assert pv["spec"]["claimRef"]["name"] == "a" and pv["status"]["phase"] == "Bound"
            await h.client.create(PVCS, claim("b", "20Gi", cls="fast"))
            await h.settle()
            b = [c for c in h.objects("persistentvolumeclaims") if c["metadata"]["name"] == "b"][0]
            made = {p["metadata"]["name"]: p for p in h.objects("persistentvolumes", "")}[b["spec"]["volumeName"]]
            assert made["metadata"]["name"] == "pvc-" + b["metadata"]["uid"]
            assert made["spec"]["hostPath"]["path"].startswith(pvbinder.ROOT + "/default_b_")
            assert made["spec"]["storageClassName"] == "fast" and made["spec"]["capacity"] == {"storage": "20Gi"}
            # the claim goes: a provisioned volume is deleted, a retained one released
            await h.client.delete(PVCS + "/b")
            await h.client.delete(PVCS + "/a")
            await h.settle()
            pvs = {p["metadata"]["name"]: p for p in h.objects("persistentvolumes", "")}
            assert made["metadata"]["name"] not in pvs and pvs["small"]["status"]["phase"] == "Released"
    asyncio.run(main())


def test_fits_rules():
    c = claim("c", "1Gi", cls="gold")
    c["metadata"].update({"namespace": "default", "uid": "u1"})
    assert not pvbinder.fits(volume("v", "1Gi"), c)  # wrong class
    assert pvbinder.fits(volume("v", "1Gi", cls="gold"), c)
    pre = volume("p", "1Mi")
    pre["spec"]["claimRef"] = {"namespace": "default", "name": "c"}
    assert pvbinder.fits(pre, c)  # pre-bound wins whatever its size
