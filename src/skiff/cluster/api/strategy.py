"""Per-kind rules behind one small interface, called by the API server for every write.

Order for a create: decode_check -> prepare_for_create -> validate. The API server fills
metadata.uid, name (generateName) and creationTimestamp before prepare_for_create
(a Job's generated selector uses the uid; one is made here if missing).
"""

from __future__ import annotations

import copy
from typing import Any

from skiff.cluster.api import defaults, schema, validation
from skiff.cluster.api.registry import Resource
from skiff.cluster.apimachinery import meta
from skiff.cluster.apimachinery.errors import bad_request
from skiff.cluster.apimachinery.selectors import LabelSelector

Obj = dict[str, Any]

# Kinds whose metadata.generation counts spec changes.
_GENERATION_KINDS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "ReplicationController", "Job",
                     "CronJob", "EndpointSlice"}


def _desired_state(res: Resource, obj: Obj) -> Any:
    """What metadata.generation counts changes of: the spec (an EndpointSlice has none)."""
    if res.kind == "EndpointSlice":
        return (obj.get("addressType"), obj.get("endpoints"), obj.get("ports"))
    return obj.get("spec")

_SCALABLE = {"Deployment", "ReplicaSet", "StatefulSet", "ReplicationController"}


def _initial_status(res: Resource, obj: Obj) -> Any:
    kind = res.kind
    if kind == "Pod":
        return {"phase": "Pending", "qosClass": qos_class(obj.get("spec") or {})}
    if kind == "Namespace":
        return {"phase": "Active"}
    if kind in ("PersistentVolume", "PersistentVolumeClaim"):
        return {"phase": "Pending"}
    if kind == "Service":
        return {"loadBalancer": {}}
    # the status fields Go serializes without omitempty, so clients (the kubernetes Python client
    # refuses a ReplicaSetStatus without replicas) always see them
    if kind in ("ReplicaSet", "ReplicationController"):
        return {"replicas": 0}
    if kind == "StatefulSet":
        return {"replicas": 0, "availableReplicas": 0}
    if kind == "DaemonSet":
        return {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0}
    if kind in ("HorizontalPodAutoscaler",):
        return {"currentReplicas": 0, "desiredReplicas": 0} if res.version == "v1" else {"desiredReplicas": 0}
    return {}


def qos_class(spec: Obj) -> str:
    """Guaranteed when every container's requests equal its limits for cpu and memory."""
    containers = list(spec.get("containers") or []) + list(spec.get("initContainers") or [])
    requests_any, guaranteed = False, True
    for c in containers:
        res = (c or {}).get("resources") or {}
        limits, requests = res.get("limits") or {}, res.get("requests") or {}
        if limits or requests:
            requests_any = True
        for name in ("cpu", "memory"):
            if name not in limits or str(requests.get(name, limits.get(name))) != str(limits.get(name)):
                guaranteed = False
    if not requests_any:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _job_selector(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    if spec.get("manualSelector") is True:
        return
    md = meta.metadata(obj)
    if not md.get("uid"):
        md["uid"] = meta.new_uid()
    uid, name = md["uid"], md.get("name", "")
    if not spec.get("selector"):
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    template = spec.setdefault("template", {})
    tmeta = template.setdefault("metadata", {})
    tlabels = tmeta.setdefault("labels", {}) or {}
    tmeta["labels"] = tlabels
    for key, value in (("batch.kubernetes.io/controller-uid", uid), ("batch.kubernetes.io/job-name", name),
                       ("controller-uid", uid), ("job-name", name)):
        tlabels.setdefault(key, value)


def prepare_for_create(res: Resource, obj: Obj) -> None:
    """Defaults, system-set fields and a fresh status, as the kind's create strategy does."""
    defaults.apply_defaults(res, obj)
    md = meta.metadata(obj)
    # a node registers with its status (capacity, addresses); other kinds start from a fresh one
    if ("status" in res.subresources or res.kind == "Namespace") and res.kind != "Node":
        obj["status"] = _initial_status(res, obj)
    if res.kind in _GENERATION_KINDS:
        md["generation"] = 1
    if res.kind == "Namespace":
        obj.setdefault("spec", {})["finalizers"] = ["kubernetes"]
    if res.kind == "Job":
        _job_selector(obj)


def _keep_allocated(new: Obj, old: Obj) -> None:
    """A service update that leaves out what the server allocated keeps it (patchAllocatedValues):
    a PUT without clusterIP or nodePort does not ask to change them."""
    spec, old_spec = new.get("spec"), old.get("spec") or {}
    if not isinstance(spec, dict):
        return
    if spec.get("type", "ClusterIP") != "ExternalName" and old_spec.get("type") != "ExternalName":
        if not spec.get("clusterIP") and old_spec.get("clusterIP"):
            spec["clusterIP"] = old_spec["clusterIP"]
        if not spec.get("clusterIPs") and old_spec.get("clusterIPs") and spec.get("clusterIP") == old_spec["clusterIP"]:
            spec["clusterIPs"] = list(old_spec["clusterIPs"])
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        allocated = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                     for p in old_spec.get("ports") or [] if isinstance(p, dict) and p.get("nodePort")}
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and not port.get("nodePort"):
                node_port = allocated.get((port.get("port"), port.get("protocol", "TCP")))
                if node_port:
                    port["nodePort"] = node_port
        if not spec.get("healthCheckNodePort") and old_spec.get("healthCheckNodePort"):
            spec["healthCheckNodePort"] = old_spec["healthCheckNodePort"]


def prepare_for_update(res: Resource, new: Obj, old: Obj) -> None:
    """A main-resource update: status kept, generation bumped when the spec changed."""
    if res.kind == "Service":
        _keep_allocated(new, old)
    defaults.apply_defaults(res, new)
    if "status" in res.subresources:
        if "status" in old:
            new["status"] = copy.deepcopy(old["status"])
        else:
            new.pop("status", None)
    if res.kind == "Namespace":
        new["spec"] = copy.deepcopy(old.get("spec") or {})
        new["status"] = copy.deepcopy(old.get("status") or {})
    if res.kind in _GENERATION_KINDS:
        generation = int((old.get("metadata") or {}).get("generation") or 1)
        if _desired_state(res, new) != _desired_state(res, old):
            generation += 1
        meta.metadata(new)["generation"] = generation


def prepare_for_status_update(res: Resource, new: Obj, old: Obj) -> None:
    """A status-subresource update changes only status: everything else is the old object's."""
    status = new.get("status")
    keep_meta = new.get("metadata") or {}
    new.clear()
    new.update(copy.deepcopy(old))
    if status is None:
        new.pop("status", None)
    else:
        new["status"] = status
    # the caller's resourceVersion is the precondition it sent; managedFields it computed
    for key in ("resourceVersion", "managedFields"):
        if key in keep_meta:
            meta.metadata(new)[key] = keep_meta[key]


def validate(res: Resource, obj: Obj, old: Obj | None = None) -> list[dict[str, Any]]:
    return validation.validate(res, obj, old)


def unknown_fields(res: Resource, obj: Obj) -> list[str]:
    """Field paths the kind's schema does not know: 'spec.containers[0].containersPort'."""
    return schema.unknown_fields(res.definition, obj)


def decode_check(res: Resource, obj: Obj, field_validation: str = "Warn") -> list[str]:
    """What decoding does before validation: 400 on a wrong type, and for unknown fields
    400 (Strict) or warnings to send back (Warn; Ignore gives none)."""
    prefix = f'{res.kind} in version "{res.version}" cannot be handled as a {res.kind}: '
    if not isinstance(obj, dict):
        raise bad_request(prefix + "json: cannot unmarshal into Go value of type struct")
    err = schema.type_error(res.definition, obj)
    if err:
        raise bad_request(prefix + err)
    if field_validation == "Ignore":
        return []
    unknown = [f'unknown field "{path}"' for path in unknown_fields(res, obj)]
    if unknown and field_validation == "Strict":
        raise bad_request(prefix + "strict decoding error: " + ", ".join(unknown))
    return unknown


def _s(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_set(res: Resource, obj: Obj) -> dict[str, str]:
    """What field selectors match on; the keys are every field the kind supports."""
    md = obj.get("metadata") or {}
    fields = {"metadata.name": _s(md.get("name"))}
    if res.namespaced:
        fields["metadata.namespace"] = _s(md.get("namespace"))
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    kind = res.kind
    if kind == "Pod":
        fields.update({
            "spec.nodeName": _s(spec.get("nodeName")),
            "spec.restartPolicy": _s(spec.get("restartPolicy")),
            "spec.schedulerName": _s(spec.get("schedulerName")),
            "spec.serviceAccountName": _s(spec.get("serviceAccountName")),
            "spec.hostNetwork": _s(bool(spec.get("hostNetwork"))),
            "status.phase": _s(status.get("phase")),
            "status.podIP": _s(status.get("podIP")),
            "status.nominatedNodeName": _s(status.get("nominatedNodeName")),
        })
    elif kind == "Node":
        fields["spec.unschedulable"] = _s(bool(spec.get("unschedulable")))
    elif kind == "Namespace":
        fields["status.phase"] = _s(status.get("phase"))
    elif kind == "Secret":
        fields["type"] = _s(obj.get("type"))
    elif kind in ("ReplicationController", "ReplicaSet"):
        fields["status.replicas"] = _s(status.get("replicas", 0))
    elif kind == "Job":
        fields["status.successful"] = _s(status.get("successful", 0))
    elif kind == "Event":
        involved = obj.get("involvedObject") or obj.get("regarding") or {}
        source = obj.get("source") or {}
        fields.update({
            "involvedObject.kind": _s(involved.get("kind")),
            "involvedObject.namespace": _s(involved.get("namespace")),
            "involvedObject.name": _s(involved.get("name")),
            "involvedObject.uid": _s(involved.get("uid")),
            "involvedObject.apiVersion": _s(involved.get("apiVersion")),
            "involvedObject.resourceVersion": _s(involved.get("resourceVersion")),
            "involvedObject.fieldPath": _s(involved.get("fieldPath")),
            "reason": _s(obj.get("reason")),
            "reportingComponent": _s(obj.get("reportingComponent") or obj.get("reportingController")),
            "source": _s(source.get("component") or obj.get("reportingController")),
            "type": _s(obj.get("type")),
        })
    return fields


def selector_string(res: Resource, obj: Obj) -> str:
    """The label selector of a workload as text (`app=web`), as Scale.status.selector has it."""
    selector = (obj.get("spec") or {}).get("selector")
    if res.kind == "ReplicationController":
        return str(LabelSelector.from_set(selector or {}))
    if selector is None:
        return ""
    return str(LabelSelector.from_object(selector))


def scale_of(res: Resource, obj: Obj) -> Obj:
    """The autoscaling/v1 Scale of a Deployment, ReplicaSet, StatefulSet or RC."""
    md = obj.get("metadata") or {}
    scale_meta = {k: md[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in md}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": int((obj.get("spec") or {}).get("replicas") or 0)},
        "status": {"replicas": int((obj.get("status") or {}).get("replicas") or 0),
                   "selector": selector_string(res, obj)},
    }


def apply_scale(res: Resource, obj: Obj, replicas: int) -> None:
    if res.kind not in _SCALABLE:
        raise bad_request(f"the server does not allow scaling of {res.group_resource}")
    spec = obj.setdefault("spec", {})
    if spec.get("replicas") != replicas:
        spec["replicas"] = replicas
        if res.kind in _GENERATION_KINDS:
            md = meta.metadata(obj)
            md["generation"] = int(md.get("generation") or 1) + 1
