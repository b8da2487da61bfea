"""Table rows for core/v1 kinds (pods, services, nodes, events, ...)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from skiff.cluster.api.printers import AGE, NAME, Column, register
from skiff.cluster.apimachinery.duration import age
from skiff.cluster.apimachinery.meta import get_path, parse_rfc3339

Obj = dict[str, Any]
NONE = "<none>"


def _meta(o: Obj) -> Obj:
    return o.get("metadata") or {}


def _name(o: Obj) -> str:
    return str(_meta(o).get("name", ""))


def _age(o: Obj, now: datetime) -> str:
    return age(_meta(o).get("creationTimestamp"), now)


def format_labels(labels: dict[str, str] | None) -> str:
    """labels.FormatLabels: sorted k=v joined by ',', or <none>."""
    if not labels:
        return NONE
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


# ---- pods ----------------------------------------------------------------------------------

def _terminated_reason(state: Obj, prefix: str = "") -> str:
    if state.get("reason"):
        return prefix + state["reason"]
    if state.get("signal"):
        return f"{prefix}Signal:{state['signal']}"
    return f"{prefix}ExitCode:{state.get('exitCode', 0)}"


def pod_status_and_ready(pod: Obj, now: datetime) -> tuple[str, str, str]:
    """(READY, STATUS, RESTARTS) as printPod computes them."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    total = len(spec.get("containers") or [])
    ready = restarts = 0
    last_restart: str | None = None
    reason = status.get("reason") or status.get("phase") or ""
    initializing = False
    init_specs = spec.get("initContainers") or []
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        state = cs.get("state") or {}
        term, waiting = state.get("terminated"), state.get("waiting")
        if term is not None and term.get("exitCode", 0) == 0:
            continue
        if term is not None:
            reason = _terminated_reason(term, "Init:")
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    if not initializing:
        restarts = 0
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            finished = get_path(cs, "lastState", "terminated", "finishedAt")
            if finished and (last_restart is None or parse_rfc3339(finished) > parse_rfc3339(last_restart)):
                last_restart = finished
            state = cs.get("state") or {}
            if (state.get("waiting") or {}).get("reason"):
                reason = state["waiting"]["reason"]
            elif state.get("terminated") is not None:
                reason = _terminated_reason(state["terminated"])
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            conditions = status.get("conditions") or []
            is_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
            reason = "Running" if is_ready else "NotReady"
    if _meta(pod).get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    restart_text = str(restarts)
    if restarts and last_restart:
        restart_text = f"{restarts} ({age(last_restart, now)} ago)"
    return f"{ready}/{total}", reason, restart_text


def _pod_row(pod: Obj, now: datetime) -> list[Any]:
    ready, reason, restarts = pod_status_and_ready(pod, now)
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    gates = spec.get("readinessGates") or []
    gate_text = NONE
    if gates:
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        passed = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
        gate_text = f"{passed}/{len(gates)}"
    return [_name(pod), ready, reason, restarts, _age(pod, now), status.get("podIP") or NONE,
            spec.get("nodeName") or NONE, status.get("nominatedNodeName") or NONE, gate_text]


register("", "Pod", (
    NAME, Column("Ready"), Column("Status"), Column("Restarts"), AGE,
    Column("IP", priority=1), Column("Node", priority=1), Column("Nominated Node", priority=1),
    Column("Readiness Gates", priority=1)), _pod_row)


# ---- services, endpoints -------------------------------------------------------------------

def service_external_ip(svc: Obj) -> str:
    spec = svc.get("spec") or {}
    kind = spec.get("type", "ClusterIP")
    external = list(spec.get("externalIPs") or [])
    if kind in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else NONE
    if kind == "ExternalName":
        return spec.get("externalName") or NONE
    if kind == "LoadBalancer":
        ingress = get_path(svc, "status", "loadBalancer", "ingress", default=[])
        ips = [i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")]
        ips += external
        return ",".join(ips) if ips else "<pending>"
    return "<unknown>"


def service_ports(ports: list[Obj] | None) -> str:
    parts = []
    for p in ports or []:
        protocol = p.get("protocol") or "TCP"
        if p.get("nodePort"):
            parts.append(f"{p.get('port')}:{p['nodePort']}/{protocol}")
        else:
            parts.append(f"{p.get('port')}/{protocol}")
    return ",".join(parts) if parts else NONE


def _service_row(svc: Obj, now: datetime) -> list[Any]:
    spec = svc.get("spec") or {}
    return [_name(svc), spec.get("type", "ClusterIP"), spec.get("clusterIP") or NONE, service_external_ip(svc),
            service_ports(spec.get("ports")), _age(svc, now), format_labels(spec.get("selector"))]


register("", "Service", (NAME, Column("Type"), Column("Cluster-IP"), Column("External-IP"), Column("Port(s)"),
                         AGE, Column("Selector", priority=1)), _service_row)


def format_endpoints(subsets: list[Obj] | None) -> str:
    addresses, count, more = [], 0, False
    for subset in subsets or []:
        ports = subset.get("ports") or [{}]
        for port in ports:
            for addr in subset.get("addresses") or []:
                if count < 3:
                    ip = addr.get("ip", "")
                    addresses.append(f"{ip}:{port['port']}" if port.get("port") else ip)
                else:
                    more = True
                count += 1
    if not addresses:
        return NONE
    text = ",".join(addresses)
    return text + (f" + {count - 3} more..." if more else "")


register("", "Endpoints", (NAME, Column("Endpoints"), AGE),
         lambda o, now: [_name(o), format_endpoints(o.get("subsets")), _age(o, now)])


# ---- nodes, namespaces ---------------------------------------------------------------------

def node_status(node: Obj) -> str:
    conditions = get_path(node, "status", "conditions", default=[])
    states = []
    for c in conditions:
        if c.get("type") == "Ready":
            states.append("Ready" if c.get("status") == "True" else "NotReady")
    if not states:
        states.append("Unknown")
    if get_path(node, "spec", "unschedulable"):
        states.append("SchedulingDisabled")
    return ",".join(states)


def node_roles(node: Obj) -> str:
    roles = set()
    for key, value in (_meta(node).get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/"):
            role = key.removeprefix("node-role.kubernetes.io/")
            if role:
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) if roles else NONE


def _node_address(node: Obj, kind: str) -> str:
    for addr in get_path(node, "status", "addresses", default=[]):
        if addr.get("type") == kind:
            return str(addr.get("address"))
    return NONE


def _node_row(node: Obj, now: datetime) -> list[Any]:
    info = get_path(node, "status", "nodeInfo", default={})
    return [_name(node), node_status(node), node_roles(node), _age(node, now), info.get("kubeletVersion", ""),
            _node_address(node, "InternalIP"), _node_address(node, "ExternalIP"), info.get("osImage") or "<unknown>",
            info.get("kernelVersion") or "<unknown>", info.get("containerRuntimeVersion") or "<unknown>"]


register("", "Node", (NAME, Column("Status"), Column("Roles"), AGE, Column("Version"),
                      Column("Internal-IP", priority=1), Column("External-IP", priority=1),
                      Column("OS-Image", priority=1), Column("Kernel-Version", priority=1),
                      Column("Container-Runtime", priority=1)), _node_row)

register("", "Namespace", (NAME, Column("Status"), AGE),
         lambda o, now: [_name(o), get_path(o, "status", "phase", default=""), _age(o, now)])


# ---- config ---------------------------------------------------------------------------------

register("", "ConfigMap", (NAME, Column("Data", type="integer"), AGE),
         lambda o, now: [_name(o), len(o.get("data") or {}) + len(o.get("binaryData") or {}), _age(o, now)])
register("", "Secret", (NAME, Column("Type"), Column("Data", type="integer"), AGE),
         lambda o, now: [_name(o), o.get("type", ""), len(o.get("data") or {}), _age(o, now)])
register("", "ServiceAccount", (NAME, Column("Secrets", type="integer"), AGE),
         lambda o, now: [_name(o), len(o.get("secrets") or []), _age(o, now)])
register("", "LimitRange", (NAME, Column("Created At", type="date")),
         lambda o, now: [_name(o), _meta(o).get("creationTimestamp", "")])


def quota_usage(quota: Obj) -> tuple[str, str]:
    hard = get_path(quota, "status", "hard", default=None) or get_path(quota, "spec", "hard", default={})
    used = get_path(quota, "status", "used", default={})
    requests: list[str] = []
    limits: list[str] = []
    for name in sorted(hard):
        text = f"{name}: {used.get(name, '0')}/{hard[name]}"
        (limits if name.startswith("limits.") else requests).append(text)
    return ", ".join(requests), ", ".join(limits)


register("", "ResourceQuota", (NAME, AGE, Column("Request"), Column("Limit")),
         lambda o, now: [_name(o), _age(o, now), *quota_usage(o)])


# ---- storage --------------------------------------------------------------------------------

_MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}


def access_modes(modes: list[str] | None) -> str:
    return ",".join(_MODES.get(m, m) for m in modes or [])


def _pv_row(pv: Obj, now: datetime) -> list[Any]:
    spec, status = pv.get("spec") or {}, pv.get("status") or {}
    claim = spec.get("claimRef")
    claim_text = f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else ""
    phase = "Terminating" if _meta(pv).get("deletionTimestamp") else status.get("phase", "")
    return [_name(pv), (spec.get("capacity") or {}).get("storage", ""), access_modes(spec.get("accessModes")),
            spec.get("persistentVolumeReclaimPolicy", ""), phase, claim_text, spec.get("storageClassName", ""),
            spec.get("volumeAttributesClassName") or "<unset>", status.get("reason", ""), _age(pv, now),
            spec.get("volumeMode") or "<unset>"]


register("", "PersistentVolume", (
    NAME, Column("Capacity"), Column("Access Modes"), Column("Reclaim Policy"), Column("Status"), Column("Claim"),
    Column("StorageClass"), Column("VolumeAttributesClass"), Column("Reason"), AGE,
    Column("VolumeMode", priority=1)), _pv_row)


def _pvc_row(pvc: Obj, now: datetime) -> list[Any]:
    spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
    phase = "Terminating" if _meta(pvc).get("deletionTimestamp") else status.get("phase", "")
    bound = bool(spec.get("volumeName"))
    capacity = (status.get("capacity") or {}).get("storage", "") if bound else ""
    modes = access_modes(status.get("accessModes")) if bound else ""
    return [_name(pvc), phase, spec.get("volumeName", ""), capacity, modes, spec.get("storageClassName", ""),
            spec.get("volumeAttributesClassName") or "<unset>", _age(pvc, now), spec.get("volumeMode") or "<unset>"]


register("", "PersistentVolumeClaim", (
    NAME, Column("Status"), Column("Volume"), Column("Capacity"), Column("Access Modes"), Column("StorageClass"),
    Column("VolumeAttributesClass"), AGE, Column("VolumeMode", priority=1)), _pvc_row)


# ---- events ---------------------------------------------------------------------------------

def _event_source(source: Obj | None, controller: str, instance: str) -> str:
    component = (source or {}).get("component") or controller
    host = (source or {}).get("host") or instance
    if not component:
        return ""
    return f"{component}, {host}" if host else component


def _event_row(ev: Obj, now: datetime) -> list[Any]:
    # events.k8s.io/v1 names the same fields differently
    involved = ev.get("involvedObject") or ev.get("regarding") or {}
    first_ts = ev.get("firstTimestamp") or ev.get("deprecatedFirstTimestamp")
    last_ts = ev.get("lastTimestamp") or ev.get("deprecatedLastTimestamp")
    first = age(first_ts, now) if first_ts else age(ev.get("eventTime"), now)
    last = age(last_ts, now) if last_ts else first
    count = ev.get("count") or ev.get("deprecatedCount") or 0
    series = ev.get("series")
    if series:
        last = age(series.get("lastObservedTime"), now)
        count = series.get("count", 0)
    elif not count:
        count = 1
    kind = str(involved.get("kind", "")).lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    message = str(ev.get("message") or ev.get("note") or "").strip()
    source = _event_source(ev.get("source") or ev.get("deprecatedSource"), ev.get("reportingController", ""),
                           ev.get("reportingInstance", ""))
    return [last, ev.get("type", ""), ev.get("reason", ""), target, involved.get("fieldPath", ""), source,
            message, first, count, _name(ev)]


_EVENT_COLUMNS = (Column("Last Seen"), Column("Type"), Column("Reason"), Column("Object"),
                  Column("Subobject", priority=1), Column("Source", priority=1), Column("Message"),
                  Column("First Seen", priority=1), Column("Count", type="integer", priority=1),
                  Column("Name", priority=1))
register("", "Event", _EVENT_COLUMNS, _event_row)
register("events.k8s.io", "Event", _EVENT_COLUMNS, _event_row)
