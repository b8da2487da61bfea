"""kubectl's describers for the common kinds, as pure functions of the object and what the
command fetched for it (events, related objects). Layout follows kubectl's describe.go."""

from __future__ import annotations

from typing import Any

from skiff.cli.kubectl.describe_text import (
    Writer,
    annotations_multiline,
    events_section,
    labels_multiline,
    object_header,
    rfc1123z,
)


def _selector_text(selector: dict[str, Any] | None) -> str:
    """A LabelSelector (matchLabels/matchExpressions) or a plain map as `a=b,c in (d)`."""
    if not selector:
        return "<none>"
    if "matchLabels" in selector or "matchExpressions" in selector:
        parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
        for expr in selector.get("matchExpressions") or []:
            op, key, values = expr.get("operator"), expr.get("key"), ",".join(sorted(expr.get("values") or []))
            parts.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key,
                          "DoesNotExist": f"!{key}"}.get(op, key))
        return ",".join(sorted(parts)) or "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def _ports(container: dict[str, Any]) -> tuple[str, str, bool]:
    ports = container.get("ports") or []
    if not ports:
        return "<none>", "<none>", False
    cps, hps = [], []
    for p in ports:
        proto = p.get("protocol", "TCP")
        cp = f"{p.get('containerPort', 0)}/{proto}"
        if p.get("name"):
            cp += f" ({p['name']})"
        cps.append(cp)
        hps.append(f"{p.get('hostPort', 0)}/{proto}")
    return ", ".join(cps), ", ".join(hps), len(ports) > 1


def _resources(w: Writer, container: dict[str, Any]) -> None:
    res = container.get("resources") or {}
    for title, key in (("Limits", "limits"), ("Requests", "requests")):
        if res.get(key):
            w.write(2, f"{title}:\n")
            for name in sorted(res[key]):
                w.write(3, f"{name}:\t{res[key][name]}\n")


def _env(w: Writer, container: dict[str, Any]) -> None:
    env = container.get("env") or []
    env_from = container.get("envFrom") or []
    if not env and not env_from:
        w.write(2, "Environment:\t<none>\n")
        return
    if env_from:
        w.write(2, "Environment Variables from:\n")
        for src in env_from:
            ref = src.get("configMapRef") or src.get("secretRef") or {}
            kind = "ConfigMap" if "configMapRef" in src else "Secret"
            optional = "true" if ref.get("optional") else "false"
            w.write(3, f"{ref.get('name', '')}\t{kind}\tOptional: {optional}\n")
    if not env:
        return
    w.write(2, "Environment:\n")
    for e in env:
        if "valueFrom" not in e:
            w.write(3, f"{e.get('name')}:\t{e.get('value', '')}\n")
            continue
        vf = e["valueFrom"]
        if "fieldRef" in vf:
            ref = vf["fieldRef"]
            w.write(3, f"{e.get('name')}:\t ({ref.get('apiVersion', 'v1')}:{ref.get('fieldPath')})\n")
        elif "secretKeyRef" in vf:
            ref = vf["secretKeyRef"]
            w.write(3, f"{e.get('name')}:\t<set to the key '{ref.get('key')}' in secret '{ref.get('name')}'>\t"
                       f"Optional: {'true' if ref.get('optional') else 'false'}\n")
        elif "configMapKeyRef" in vf:
            ref = vf["configMapKeyRef"]
            w.write(3, f"{e.get('name')}:\t<set to the key '{ref.get('key')}' of config map '{ref.get('name')}'>\t"
                       f"Optional: {'true' if ref.get('optional') else 'false'}\n")
        else:
            w.write(3, f"{e.get('name')}:\t<set from a resource field>\n")


def _mounts(w: Writer, container: dict[str, Any]) -> None:
    mounts = container.get("volumeMounts") or []
    if not mounts:
        w.write(2, "Mounts:\t<none>\n")
        return
    w.write(2, "Mounts:\n")
    for m in sorted(mounts, key=lambda m: m.get("mountPath", "")):
        flags = "ro" if m.get("readOnly") else "rw"
        sub = f",path=\"{m['subPath']}\"" if m.get("subPath") else ""
        w.write(3, f"{m.get('mountPath')} from {m.get('name')} ({flags}{sub})\n")


def _state(w: Writer, title: str, state: dict[str, Any]) -> None:
    if not state:
        return
    kind = next(iter(state))
    body = state[kind] or {}
    w.write(2, f"{title}:\t{kind.capitalize()}\n")
    if kind == "running":
        w.write(3, f"Started:\t{rfc1123z(body.get('startedAt'))}\n")
    elif kind == "waiting":
        if body.get("reason"):
            w.write(3, f"Reason:\t{body['reason']}\n")
    else:
        if body.get("reason"):
            w.write(3, f"Reason:\t{body['reason']}\n")
        w.write(3, f"Exit Code:\t{body.get('exitCode', 0)}\n")
        w.write(3, f"Started:\t{rfc1123z(body.get('startedAt'))}\n")
        w.write(3, f"Finished:\t{rfc1123z(body.get('finishedAt'))}\n")


def containers(w: Writer, title: str, items: list[dict[str, Any]], statuses: list[dict[str, Any]] | None,
               space: str, level: int = 0) -> None:
    by_name = {s.get("name"): s for s in statuses or []}
    w.write(level, f"{title}:\n")
    for c in items:
        st = by_name.get(c.get("name"))
        w.write(1, f"{space}{c.get('name')}:\n")
        if st is not None:
            w.write(2, f"Container ID:\t{st.get('containerID', '')}\n")
        w.write(2, f"Image:\t{c.get('image', '')}\n")
        if st is not None:
            w.write(2, f"Image ID:\t{st.get('imageID', '')}\n")
        port, host_port, many = _ports(c)
        w.write(2, f"{'Ports' if many else 'Port'}:\t{port}\n")
        w.write(2, f"{'Host Ports' if many else 'Host Port'}:\t{host_port}\n")
        for key, label in (("command", "Command"), ("args", "Args")):
            if c.get(key):
                w.write(2, f"{label}:\n")
                for part in c[key]:
                    w.write(3, f"{part}\n")
        if st is not None:
            _state(w, "State", st.get("state") or {})
            _state(w, "Last State", st.get("lastState") or {})
            w.write(2, f"Ready:\t{'True' if st.get('ready') else 'False'}\n")
            w.write(2, f"Restart Count:\t{st.get('restartCount', 0)}\n")
        _resources(w, c)
        _env(w, c)
        _mounts(w, c)


def _tolerations(w: Writer, tolerations: list[dict[str, Any]] | None, level: int, title: str = "Tolerations") -> None:
    if not tolerations:
        w.write(level, f"{title}:\t<none>\n")
        return
    for i, t in enumerate(sorted(tolerations, key=lambda t: t.get("key", ""))):
        text = t.get("key", "")
        if t.get("value"):
            text += f"={t['value']}"
        if t.get("effect"):
            text += f":{t['effect']}"
        if t.get("operator") == "Exists" and not t.get("value"):
            text += " op=Exists" if t.get("key") else "op=Exists"
        if t.get("tolerationSeconds") is not None:
            text += f" for {t['tolerationSeconds']}s"
        w.write(level, (f"{title}:\t" if i == 0 else "\t") + text + "\n")


def _map_multiline(w: Writer, level: int, title: str, values: dict[str, str] | None) -> None:
    if not values:
        w.write(level, f"{title}:\t<none>\n")
        return
    for i, key in enumerate(sorted(values)):
        w.write(level, (f"{title}:\t" if i == 0 else "\t") + f"{key}={values[key]}\n")


def _volumes(w: Writer, volumes: list[dict[str, Any]] | None, level: int) -> None:
    if not volumes:
        w.write(level, "Volumes:\t<none>\n")
        return
    w.write(level, "Volumes:\n")
    for v in volumes:
        w.write(level + 1, f"{v.get('name')}:\n")
        kinds = [k for k in v if k != "name"]
        if not kinds:
            continue
        kind, body = kinds[0], v[kinds[0]] or {}
        if kind == "projected":
            _projected(w, body, level + 2)
            continue
        w.write(level + 2, f"Type:\t{kind[:1].upper() + kind[1:]}\n")
        for key in sorted(body):
            w.write(level + 2, f"{key[:1].upper() + key[1:]}:\t{body[key]}\n")


def _optional(ref: dict[str, Any]) -> str:
    # kubectl prints the *bool with %v: <nil> when unset (a set one shows as its address there)
    return "<nil>" if ref.get("optional") is None else str(ref["optional"]).lower()


def _projected(w: Writer, body: dict[str, Any], level: int) -> None:
    """kubectl's printProjectedVolumeSource: one or two lines per source."""
    w.write(level, "Type:\tProjected (a volume that contains injected data from multiple sources)\n")
    pad = "  " * level
    for src in body.get("sources") or []:
        if "secret" in src:
            ref = src["secret"] or {}
            w.write(level, f"SecretName:\t{ref.get('name', '')}\n{pad}SecretOptionalName:\t{_optional(ref)}\n")
        elif "downwardAPI" in src:
            w.write(level, "DownwardAPI:\ttrue\n")
        elif "configMap" in src:
            ref = src["configMap"] or {}
            w.write(level, f"ConfigMapName:\t{ref.get('name', '')}\n{pad}ConfigMapOptional:\t{_optional(ref)}\n")
        elif "serviceAccountToken" in src:
            w.write(level, f"TokenExpirationSeconds:\t{(src['serviceAccountToken'] or {}).get('expirationSeconds', 3600)}\n")


def pod_template(w: Writer, template: dict[str, Any]) -> None:
    meta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    w.write(0, "Pod Template:\n")
    labels_multiline(w, "Labels", meta.get("labels"), level=1)
    if meta.get("annotations"):
        annotations_multiline(w, "Annotations", meta.get("annotations"), level=1)
    if spec.get("serviceAccountName"):
        w.write(1, f"Service Account:\t{spec['serviceAccountName']}\n")
    if spec.get("initContainers"):
        containers(w, "Init Containers", spec["initContainers"], None, " ", level=1)
    containers(w, "Containers", spec.get("containers") or [], None, " ", level=1)
    _volumes(w, spec.get("volumes"), 1)
    _map_multiline(w, 1, "Node-Selectors", spec.get("nodeSelector"))
    _tolerations(w, spec.get("tolerations"), 1)


def _qos(pod: dict[str, Any]) -> str:
    status = pod.get("status") or {}
    if status.get("qosClass"):
        return status["qosClass"]
    cs = (pod.get("spec") or {}).get("containers") or []
    requests = [((c.get("resources") or {}).get("requests") or {}) for c in cs]
    limits = [((c.get("resources") or {}).get("limits") or {}) for c in cs]
    if not any(requests) and not any(limits):
        return "BestEffort"
    if all(lim.get("cpu") and lim.get("memory") and (not req or req == {k: lim[k] for k in req})
           for req, lim in zip(requests, limits, strict=False)):
        return "Guaranteed"
    return "Burstable"


def _controller(meta: dict[str, Any]) -> str | None:
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller"):
            return f"{ref.get('kind')}/{ref.get('name')}"
    return None


def pod(obj: dict[str, Any], events: list | None, related: dict[str, Any]) -> str:
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    w = Writer()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    if spec.get("priority") is not None:
        w.write(0, f"Priority:\t{spec['priority']}\n")
    if spec.get("priorityClassName"):
        w.write(0, f"Priority Class Name:\t{spec['priorityClassName']}\n")
    if spec.get("runtimeClassName"):
        w.write(0, f"Runtime Class Name:\t{spec['runtimeClassName']}\n")
    w.write(0, f"Service Account:\t{spec.get('serviceAccountName') or ''}\n")
    node = spec.get("nodeName")
    w.write(0, f"Node:\t{node + '/' + status.get('hostIP', '') if node else '<none>'}\n")
    if status.get("startTime"):
        w.write(0, f"Start Time:\t{rfc1123z(status['startTime'])}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    if meta.get("deletionTimestamp"):
        w.write(0, f"Status:\tTerminating (lasts {related.get('deleting_for', '<unknown>')})\n")
        w.write(0, f"Termination Grace Period:\t{meta.get('deletionGracePeriodSeconds', 0)}s\n")
    else:
        w.write(0, f"Status:\t{status.get('phase', '')}\n")
    if status.get("reason"):
        w.write(0, f"Reason:\t{status['reason']}\n")
    if status.get("message"):
        w.write(0, f"Message:\t{status['message']}\n")
    w.write(0, f"IP:\t{status.get('podIP', '')}\n")
    ips = status.get("podIPs") or []
    if ips:
        w.write(0, "IPs:\n")
        for ip in ips:
            w.write(1, f"IP:\t{ip.get('ip', '')}\n")
    else:
        w.write(0, "IPs:\t<none>\n")
    owner = _controller(meta)
    if owner:
        w.write(0, f"Controlled By:\t{owner}\n")
    if spec.get("initContainers"):
        containers(w, "Init Containers", spec["initContainers"], status.get("initContainerStatuses"), "")
    containers(w, "Containers", spec.get("containers") or [], status.get("containerStatuses"), "")
    if status.get("conditions"):
        w.write(0, "Conditions:\n  Type\tStatus\n")
        for c in status["conditions"]:
            w.write(1, f"{c.get('type')} \t{c.get('status')} \n")
    _volumes(w, spec.get("volumes"), 0)
    w.write(0, f"QoS Class:\t{_qos(obj)}\n")
    _map_multiline(w, 0, "Node-Selectors", spec.get("nodeSelector"))
    _tolerations(w, spec.get("tolerations"), 0)
    events_section(w, events)
    return w.text()


def _replica_counts(pods: list[dict[str, Any]] | None) -> str:
    phases = [((p.get("status") or {}).get("phase") or "Pending") for p in pods or []]
    return (f"{phases.count('Running')} Running / {phases.count('Pending')} Waiting / "
            f"{phases.count('Succeeded')} Succeeded / {phases.count('Failed')} Failed")


def _conditions(w: Writer, conditions: list[dict[str, Any]] | None) -> None:
    if not conditions:
        return
    w.write(0, "Conditions:\n  Type\tStatus\tReason\n")
    w.write(1, "----\t------\t------\n")
    for c in conditions:
        w.write(1, f"{c.get('type')} \t{c.get('status')}\t{c.get('reason', '')}\n")


def replication_controller(obj: dict[str, Any], events: list | None, related: dict[str, Any]) -> str:
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    w = Writer()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    sel = spec.get("selector")
    w.write(0, f"Selector:\t{_selector_text(sel) if obj.get('kind') == 'ReplicaSet' else _selector_text(sel or {})}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    owner = _controller(meta)
    if owner:
        w.write(0, f"Controlled By:\t{owner}\n")
    w.write(0, f"Replicas:\t{status.get('replicas', 0)} current / {spec.get('replicas', 1)} desired\n")
    w.write(0, f"Pods Status:\t{_replica_counts(related.get('pods'))}\n")
    pod_template(w, spec.get("template") or {})
    _conditions(w, status.get("conditions"))
    events_section(w, events)
    return w.text()


def deployment(obj: dict[str, Any], events: list | None, related: dict[str, Any]) -> str:
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    w = Writer()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Namespace:\t{meta.get('namespace', '')}\n")
    w.write(0, f"CreationTimestamp:\t{rfc1123z(meta.get('creationTimestamp'))}\n")
    labels_multiline(w, "Labels", meta.get("labels"))
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    w.write(0, f"Selector:\t{_selector_text(spec.get('selector'))}\n")
    w.write(0, f"Replicas:\t{spec.get('replicas', 1)} desired | {status.get('updatedReplicas', 0)} updated | "
               f"{status.get('replicas', 0)} total | {status.get('availableReplicas', 0)} available | "
               f"{status.get('unavailableReplicas', 0)} unavailable\n")
    strategy = spec.get("strategy") or {}
    w.write(0, f"StrategyType:\t{strategy.get('type', '')}\n")
    w.write(0, f"MinReadySeconds:\t{spec.get('minReadySeconds', 0)}\n")
    ru = strategy.get("rollingUpdate")
    if ru:
        w.write(0, f"RollingUpdateStrategy:\t{ru.get('maxUnavailable')} max unavailable, {ru.get('maxSurge')} max surge\n")
    pod_template(w, spec.get("template") or {})
    _conditions(w, status.get("conditions"))
    if related.get("replicasets"):
        old, new = split_replicasets(obj, related["replicasets"])
        w.write(0, f"OldReplicaSets:\t{_replicasets_text(old)}\n")
        w.write(0, f"NewReplicaSet:\t{_replicasets_text([new] if new else [])}\n")
    events_section(w, events)
    return w.text()


def _template_key(template: dict[str, Any]) -> Any:
    """A pod template without the pod-template-hash label, to find a deployment's new ReplicaSet."""
    import json

    meta = dict(template.get("metadata") or {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k != "pod-template-hash"}
    meta["labels"] = labels
    return json.dumps({**template, "metadata": meta}, sort_keys=True)


def split_replicasets(deploy: dict[str, Any], replicasets: list[dict[str, Any]]) -> tuple[list, dict | None]:
    """(old, new): the ReplicaSets the deployment controls; new is the one running its template."""
    uid = (deploy.get("metadata") or {}).get("uid")
    owned = [rs for rs in replicasets
             if any(r.get("uid") == uid and r.get("controller") for r in (rs.get("metadata") or {}).get("ownerReferences") or [])]
    want = _template_key((deploy.get("spec") or {}).get("template") or {})
    new = next((rs for rs in owned if _template_key((rs.get("spec") or {}).get("template") or {}) == want), None)
    return [rs for rs in owned if rs is not new], new


def _replicasets_text(items: list[dict[str, Any]]) -> str:
    if not items:
        return "<none>"
    return ", ".join(f"{(rs.get('metadata') or {}).get('name')} ({(rs.get('status') or {}).get('replicas', 0)}/"
                     f"{(rs.get('spec') or {}).get('replicas', 1)} replicas created)" for rs in items)


def _service_ports(w: Writer, svc: dict[str, Any], endpoints: list[dict[str, Any]] | None) -> None:
    spec = svc.get("spec") or {}
    ports = spec.get("ports") or []
    if not ports:
        w.write(0, "Port:\t<unset>\t<unset>\n")
    for p in ports:
        name = p.get("name") or "<unset>"
        proto = p.get("protocol", "TCP")
        w.write(0, f"Port:\t{name}\t{p.get('port')}/{proto}\n")
        target = p.get("targetPort", p.get("port"))
        if isinstance(target, int):
            w.write(0, f"TargetPort:\t{target}/{proto}\n")
        else:
            w.write(0, f"TargetPort:\t{target}/{proto}\n")
        if p.get("nodePort") and spec.get("type") in ("NodePort", "LoadBalancer"):
            w.write(0, f"NodePort:\t{name}\t{p['nodePort']}/{proto}\n")
        w.write(0, f"Endpoints:\t{_endpoints_text(endpoints, p)}\n")


def _endpoints_text(slices: list[dict[str, Any]] | None, port: dict[str, Any]) -> str:
    """The ready addresses of the service's EndpointSlices for this port, as kubectl 1.32 shows them."""
    out = []
    for eps in slices or []:
        for ep_port in eps.get("ports") or []:
            if (ep_port.get("name") or "") != (port.get("name") or ""):
                continue
            for ep in eps.get("endpoints") or []:
                if (ep.get("conditions") or {}).get("ready") is False:
                    continue
                out += [f"{addr}:{ep_port.get('port')}" for addr in ep.get("addresses") or []]
    if not slices:
        return "<none>"  # no EndpointSlice at all; slices without ready endpoints print nothing
    return ",".join(out[:3]) + (f" + {len(out) - 3} more..." if len(out) > 3 else "")


def priority_class(obj: dict[str, Any], events: list | None, related: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    w = Writer()
    w.write(0, f"Name:\t{meta.get('name', '')}\n")
    w.write(0, f"Value:\t{obj.get('value', 0)}\n")
    w.write(0, f"GlobalDefault:\t{'true' if obj.get('globalDefault') else 'false'}\n")
    w.write(0, f"PreemptionPolicy:\t{obj.get('preemptionPolicy', '')}\n")
    w.write(0, f"Description:\t{obj.get('description', '')}\n")
    annotations_multiline(w, "Annotations", meta.get("annotations"))
    events_section(w, events)
    return w.text()


def service(obj: dict[str, Any], events: list | None, related: dict[str, Any]) -> str:
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    w = Writer()
    object_header(w, meta)
    w.write(0, f"Selector:\t{_selector_text(spec.get('selector'))}\n")
    w.write(0, f"Type:\t{spec.get('type', '')}\n")
    if spec.get("ipFamilyPolicy"):
        w.write(0, f"IP Family Policy:\t{spec['ipFamilyPolicy']}\n")
    if spec.get("ipFamilies"):
        w.write(0, f"IP Families:\t{','.join(spec['ipFamilies'])}\n")
    w.write(0, f"IP:\t{spec.get('clusterIP', '')}\n")
    if spec.get("clusterIPs"):
        w.write(0, f"IPs:\t{','.join(spec['clusterIPs'])}\n")
    if spec.get("externalIPs"):
        w.write(0, f"External IPs:\t{','.join(spec['externalIPs'])}\n")
    if spec.get("loadBalancerIP"):
        w.write(0, f"IP:\t{spec['loadBalancerIP']}\n")
    if spec.get("externalName"):
        w.write(0, f"External Name:\t{spec['externalName']}\n")
    ingress = ((status.get("loadBalancer") or {}).get("ingress")) or []
    if ingress:
        w.write(0, f"LoadBalancer Ingress:\t{', '.join(i.get('ip') or i.get('hostname', '') for i in ingress)}\n")
    _service_ports(w, obj, related.get("endpointslices"))
    w.write(0, f"Session Affinity:\t{spec.get('sessionAffinity', '')}\n")
    if spec.get("type") in ("NodePort", "LoadBalancer") and spec.get("externalTrafficPolicy"):
        w.write(0, f"External Traffic Policy:\t{spec['externalTrafficPolicy']}\n")
    if spec.get("internalTrafficPolicy"):
        w.write(0, f"Internal Traffic Policy:\t{spec['internalTrafficPolicy']}\n")
    events_section(w, events)
    return w.text()


def namespace(obj: dict[str, Any], events: list | None, related: dict[str, Any]) -> str:
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    w = Writer()
    object_header(w, meta, namespace=False)
    w.write(0, f"Status:\t{status.get('phase', '')}\n")
    quotas = related.get("quotas") or []
    if not quotas:
        w.write(0, "\nNo resource quota.\n")
    for q in quotas:
        w.write(0, "\n")
        w.write(0, f"Resource Quotas\n  Name:\t{(q.get('metadata') or {}).get('name')}\n")
        w.write(1, "Resource\tUsed\tHard\n")
        w.write(1, "--------\t---\t---\n")
        hard = (q.get("status") or {}).get("hard") or (q.get("spec") or {}).get("hard") or {}
        used = (q.get("status") or {}).get("used") or {}
        for key in sorted(hard):
            w.write(1, f"{key}\t{used.get(key, '0')}\t{hard[key]}\n")
    limits = related.get("limitranges") or []
    if not limits:
        w.write(0, "\nNo LimitRange resource.\n")
    for lr in limits:
        w.write(0, "\n")
        w.write(0, "Resource Limits\n  Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n")
        w.write(1, "----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n")
        for item in (lr.get("spec") or {}).get("limits") or []:
            names = set()
            for key in ("min", "max", "defaultRequest", "default", "maxLimitRequestRatio"):
                names |= set((item.get(key) or {}).keys())
            for name in sorted(names):
                vals = [str((item.get(k) or {}).get(name, "-")) for k in ("min", "max", "defaultRequest", "default",
                                                                           "maxLimitRequestRatio")]
                w.write(1, f"{item.get('type')}\t{name}\t" + "\t".join(vals) + "\n")
    return w.text()


def configmap(obj: dict[str, Any], events: list | None, related: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    w = Writer()
    object_header(w, meta)
    w.write(0, "\nData\n====\n")
    for key in sorted(obj.get("data") or {}):
        w.write(0, f"{key}:\n----\n{obj['data'][key]}\n\n")
    w.write(0, "\nBinaryData\n====\n")
    for key in sorted(obj.get("binaryData") or {}):
        import base64

        w.write(0, f"{key}: {len(base64.b64decode(obj['binaryData'][key]))} bytes\n")
    w.write(0, "\n")
    events_section(w, events)
    return w.text()


def secret(obj: dict[str, Any], events: list | None, related: dict[str, Any]) -> str:
    import base64

    meta = obj.get("metadata") or {}
    w = Writer()
    object_header(w, meta)
    w.write(0, f"\nType:\t{obj.get('type', '')}\n\nData\n====\n")
    for key in sorted(obj.get("data") or {}):
        raw = base64.b64decode(obj["data"][key])
        if key == "token" and obj.get("type") == "kubernetes.io/service-account-token":
            w.write(0, f"{key}:\t{raw.decode(errors='replace')}\n")
        else:
            w.write(0, f"{key}:\t{len(raw)} bytes\n")
    return w.text()


def service_account(obj: dict[str, Any], events: list | None, related: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    w = Writer()
    object_header(w, meta)
    for title, items in (("Image pull secrets", obj.get("imagePullSecrets")), ("Mountable secrets", obj.get("secrets"))):
        names = [i.get("name", "") for i in items or []]
        if not names:
            w.write(0, f"{title}:\t<none>\n")
        for i, name in enumerate(names):
            w.write(0, (f"{title}:\t" if i == 0 else "\t") + name + "\n")
    w.write(0, "Tokens:\t<none>\n")
    events_section(w, events)
    return w.text()
