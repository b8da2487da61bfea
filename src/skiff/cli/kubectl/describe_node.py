"""kubectl's node describer: conditions, addresses, capacity, system info, the pods on the node
and what they request. Pure: the command passes the node's lease and pods in `related`."""

from __future__ import annotations

from typing import Any

from skiff.cli.kubectl.describe_text import (
    Writer,
    annotations_multiline,
    events_section,
    labels_multiline,
    rfc1123z,
    since,
)

INFO = (("Machine ID", "machineID"), ("System UUID", "systemUUID"), ("Boot ID", "bootID"),
        ("Kernel Version", "kernelVersion"), ("OS Image", "osImage"), ("Operating System", "operatingSystem"),
        ("Architecture", "architecture"), ("Container Runtime Version", "containerRuntimeVersion"),
        ("Kubelet Version", "kubeletVersion"), ("Kube-Proxy Version", "kubeProxyVersion"))


def _quantity(value: Any) -> float:
    from skiff.cluster.apimachinery.quantity import parse_quantity

    try:
        return float(parse_quantity(str(value)))
    except Exception:
        return 0.0


def _requests(pod: dict[str, Any], kind: str, resource: str) -> float:
    total = 0.0
    for c in (pod.get("spec") or {}).get("containers") or []:
        total += _quantity(((c.get("resources") or {}).get(kind) or {}).get(resource, 0))
    return total


def _fmt(resource: str, amount: float) -> str:
    if resource == "cpu":
        milli = round(amount * 1000)
        return f"{milli // 1000}" if milli % 1000 == 0 else f"{milli}m"
    return str(int(amount)) if amount.is_integer() else str(amount)


def _pct(amount: float, allocatable: float) -> str:
    return f"{int(amount / allocatable * 100) if allocatable else 0}%"


def node(obj: dict[str, Any], events: list | None, related: dict[str, Any]) -> str:
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    labels = meta.get("labels") or {}
    w = Writer()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/") and "/" in k)
    w.write(0, f"Roles:\t{','.join(roles) or '<none>'}\n")
    labels_multiline(w, "Labels", labels)
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"CreationTimestamp:\t{rfc1123z(meta.get('creationTimestamp'))}\n")
    taints = spec.get("taints") or []
    if not taints:
        w.write(0, "Taints:\t<none>\n")
    for i, t in enumerate(taints):
        text = t.get("key", "") + (f"={t['value']}" if t.get("value") else "") + f":{t.get('effect', '')}"
        w.write(0, ("Taints:\t" if i == 0 else "\t") + text + "\n")
    w.write(0, f"Unschedulable:\t{'true' if spec.get('unschedulable') else 'false'}\n")
    lease = related.get("lease")
    if isinstance(lease, str):
        w.write(0, f"Lease:\t{lease}\n")
    elif lease:
        ls = lease.get("spec") or {}
        w.write(0, "Lease:\n")
        w.write(1, f"HolderIdentity:\t{ls.get('holderIdentity', '<unset>')}\n")
        w.write(1, f"AcquireTime:\t{rfc1123z(ls.get('acquireTime')) if ls.get('acquireTime') else '<unset>'}\n")
        w.write(1, f"RenewTime:\t{rfc1123z(ls.get('renewTime')) if ls.get('renewTime') else '<unset>'}\n")
    conditions = status.get("conditions") or []
    if conditions:
        w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
        w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
        for c in conditions:
            w.write(1, f"{c.get('type')} \t{c.get('status')} \t{rfc1123z(c.get('lastHeartbeatTime'))} \t"
                       f"{rfc1123z(c.get('lastTransitionTime'))} \t{c.get('reason', '')} \t{c.get('message', '')}\n")
    w.write(0, "Addresses:\n")
    for a in status.get("addresses") or []:
        w.write(1, f"{a.get('type')}:\t{a.get('address')}\n")
    for title, key in (("Capacity", "capacity"), ("Allocatable", "allocatable")):
        if status.get(key):
            w.write(0, f"{title}:\n")
            for name in sorted(status[key]):
                w.write(1, f"{name}:\t{status[key][name]}\n")
    info = status.get("nodeInfo") or {}
    w.write(0, "System Info:\n")
    for title, key in INFO:
        w.write(1, f"{title}:\t{info.get(key, '')}\n")
    if spec.get("podCIDR"):
        w.write(0, f"PodCIDR:\t{spec['podCIDR']}\n")
    if spec.get("podCIDRs"):
        w.write(0, f"PodCIDRs:\t{','.join(spec['podCIDRs'])}\n")
    if spec.get("providerID"):
        w.write(0, f"ProviderID:\t{spec['providerID']}\n")
    pods = related.get("pods") or []
    allocatable = status.get("allocatable") or {}
    w.write(0, f"Non-terminated Pods:\t({len(pods)} in total)\n")
    w.write(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
    w.write(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
    totals = {"requests": {"cpu": 0.0, "memory": 0.0, "ephemeral-storage": 0.0},
              "limits": {"cpu": 0.0, "memory": 0.0, "ephemeral-storage": 0.0}}
    for p in pods:
        pm = p.get("metadata") or {}
        cells = []
        for kind, res in (("requests", "cpu"), ("limits", "cpu"), ("requests", "memory"), ("limits", "memory")):
            amount = _requests(p, kind, res)
            totals[kind][res] += amount
            cells.append(f"{_fmt(res, amount)} ({_pct(amount, _quantity(allocatable.get(res, 0)))})")
        for kind in ("requests", "limits"):
            totals[kind]["ephemeral-storage"] += _requests(p, kind, "ephemeral-storage")
        w.write(1, f"{pm.get('namespace')}\t{pm.get('name')}\t\t" + "\t".join(cells) + f"\t{since(pm.get('creationTimestamp'))}\n")
    w.write(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
    w.write(1, "Resource\tRequests\tLimits\n")
    w.write(1, "--------\t--------\t------\n")
    for res in ("cpu", "memory", "ephemeral-storage"):
        alloc = _quantity(allocatable.get(res, 0))
        req, lim = totals["requests"][res], totals["limits"][res]
        w.write(1, f"{res}\t{_fmt(res, req)} ({_pct(req, alloc)})\t{_fmt(res, lim)} ({_pct(lim, alloc)})\n")
    events_section(w, events)
    return w.text()
