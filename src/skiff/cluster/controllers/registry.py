"""The controllers the controller manager knows, and `--controllers` selection.

An explicit table, as kube-controller-manager has: each entry names the module and class,
whether it runs by default, and the older short names kubectl users know as aliases.
Controllers are imported only when selected, so a broken or half-built one cannot stop the
others from starting.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from skiff.common.errors import InvalidArgument


@dataclass(frozen=True)
class Entry:
    name: str
    target: str  # "module:Class"
    aliases: tuple[str, ...] = ()
    default_on: bool = True


KNOWN: list[Entry] = [
    Entry("replicationcontroller-controller", "skiff.cluster.controllers.replication:ReplicationControllerController",
          ("replicationcontroller",)),
    Entry("replicaset-controller", "skiff.cluster.controllers.replicaset:ReplicaSetController", ("replicaset",)),
    Entry("deployment-controller", "skiff.cluster.controllers.deployment:DeploymentController", ("deployment",)),
    Entry("endpoints-controller", "skiff.cluster.controllers.endpoints:EndpointsController", ("endpoint",)),
    Entry("endpointslice-controller", "skiff.cluster.controllers.endpointslice:EndpointSliceController",
          ("endpointslice",)),
    Entry("job-controller", "skiff.cluster.controllers.job:JobController", ("job",)),
    Entry("daemonset-controller", "skiff.cluster.controllers.daemonset:DaemonSetController", ("daemonset",)),
    Entry("statefulset-controller", "skiff.cluster.controllers.statefulset:StatefulSetController",
          ("statefulset",)),
    Entry("persistentvolume-binder-controller", "skiff.cluster.controllers.pvbinder:PersistentVolumeBinder",
          ("persistentvolume-binder",)),
    Entry("cronjob-controller", "skiff.cluster.controllers.cronjob:CronJobController", ("cronjob",)),
    Entry("garbage-collector-controller", "skiff.cluster.controllers.garbagecollector:GarbageCollector",
          ("garbagecollector",)),
    Entry("ttl-after-finished-controller", "skiff.cluster.controllers.ttlafterfinished:TTLAfterFinishedController",
          ("ttl-after-finished",)),
    Entry("horizontal-pod-autoscaler-controller", "skiff.cluster.controllers.hpa:HorizontalPodAutoscalerController",
          ("horizontalpodautoscaling",)),
    Entry("namespace-controller", "skiff.cluster.controllers.namespace:NamespaceController", ("namespace",)),
    Entry("serviceaccount-controller", "skiff.cluster.controllers.serviceaccount:ServiceAccountController",
          ("serviceaccount",)),
    Entry("root-ca-certificate-publisher-controller", "skiff.cluster.controllers.rootcacert:RootCACertPublisher",
          ("root-ca-cert-publisher",)),
    Entry("pod-garbage-collector-controller", "skiff.cluster.controllers.podgc:PodGCController", ("podgc",)),
    Entry("node-lifecycle-controller", "skiff.cluster.controllers.nodelifecycle:NodeLifecycleController",
          ("nodelifecycle", "node-lifecycle")),
]


def canonical(name: str) -> str:
    for e in KNOWN:
        if name == e.name or name in e.aliases:
            return e.name
    raise InvalidArgument(f'"{name}" is not in the list of known controllers')


def select(spec: list[str] | str) -> list[str]:
    """kube-controller-manager's `--controllers`: `*` is every default-on controller, `foo` enables
    foo, `-foo` disables foo; a list without `*` enables only what it names."""
    items = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec) if s.strip()]
    star = "*" in items
    on = {e.name for e in KNOWN if e.default_on} if star else set()
    for item in items:
        if item == "*":
            continue
        if item.startswith("-"):
            on.discard(canonical(item[1:]))
        else:
            on.add(canonical(item))
    return [e.name for e in KNOWN if e.name in on]


def load(name: str) -> type:
    target = next(e.target for e in KNOWN if e.name == canonical(name))
    module, _, cls = target.partition(":")
    return getattr(importlib.import_module(module), cls)
