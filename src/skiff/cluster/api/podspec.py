"""Validation of pod specs (ValidatePodSpec), shared by pods and every pod template."""

from __future__ import annotations

import copy
from typing import Any

from skiff.cluster.apimachinery import fielderrors as fe
from skiff.cluster.apimachinery import names, quantity

Causes = list[dict[str, Any]]

RESTART_POLICIES = ["Always", "OnFailure", "Never"]
DNS_POLICIES = ["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]
PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]


def _dns_label(value: Any, path: str) -> Causes:
    if not value:
        return [fe.required(path)]
    return [fe.invalid(path, value, m) for m in names.dns1123_label(str(value))]


def _port_number(value: Any, path: str) -> Causes:
    if not isinstance(value, int) or not 1 <= value <= 65535:
        return [fe.invalid(path, value, "must be between 1 and 65535, inclusive")]
    return []


def resources(res: Any, path: str) -> Causes:
    causes: Causes = []
    if not isinstance(res, dict):
        return causes
    parsed: dict[str, dict[str, quantity.Quantity]] = {}
    for part in ("limits", "requests"):
        parsed[part] = {}
        for name, value in (res.get(part) or {}).items():
            field = f"{path}.{part}[{name}]"
            try:
                q = quantity.parse(value)
            except Exception:
                causes.append(fe.invalid(field, value, quantity.SYNTAX_ERROR))
                continue
            if q.value < 0:
                causes.append(fe.invalid(field, value, "must be greater than or equal to 0"))
            parsed[part][name] = q
    for name, request in parsed["requests"].items():
        limit = parsed["limits"].get(name)
        if limit is not None and request.value > limit.value:
            causes.append(fe.invalid(f"{path}.requests", str(res["requests"][name]),
                                     f"must be less than or equal to {name} limit of {res['limits'][name]}"))
    return causes


def container(c: Any, path: str, volumes: set[str]) -> Causes:
    if not isinstance(c, dict):
        return [fe.required(path)]
    causes = _dns_label(c.get("name"), f"{path}.name")
    image = c.get("image")
    if not image:
        causes.append(fe.required(f"{path}.image"))
    elif isinstance(image, str) and image != image.strip():
        causes.append(fe.invalid(f"{path}.image", image, "must not have leading or trailing whitespace"))
    policy = c.get("imagePullPolicy")
    if policy is not None and policy not in PULL_POLICIES:
        causes.append(fe.not_supported(f"{path}.imagePullPolicy", policy, PULL_POLICIES))
    port_names: set[str] = set()
    for i, port in enumerate(c.get("ports") or []):
        ppath = f"{path}.ports[{i}]"
        if not isinstance(port, dict):
            continue
        if port.get("name"):
            causes += [fe.invalid(f"{ppath}.name", port["name"], m) for m in names.port_name(port["name"])]
            if port["name"] in port_names:
                causes.append(fe.duplicate(f"{ppath}.name", port["name"]))
            port_names.add(port["name"])
        if port.get("containerPort") is None:
            causes.append(fe.required(f"{ppath}.containerPort"))
        else:
            causes += _port_number(port.get("containerPort"), f"{ppath}.containerPort")
        if port.get("hostPort"):
            causes += _port_number(port["hostPort"], f"{ppath}.hostPort")
        protocol = port.get("protocol")
        if protocol is not None and protocol not in PROTOCOLS:
            causes.append(fe.not_supported(f"{ppath}.protocol", protocol, PROTOCOLS))
    env_names = set()
    for i, env in enumerate(c.get("env") or []):
        if isinstance(env, dict):
            if not env.get("name"):
                causes.append(fe.required(f"{path}.env[{i}].name"))
            env_names.add(env.get("name"))
    for i, mount in enumerate(c.get("volumeMounts") or []):
        if not isinstance(mount, dict):
            continue
        mpath = f"{path}.volumeMounts[{i}]"
        if not mount.get("name"):
            causes.append(fe.required(f"{mpath}.name"))
        elif mount["name"] not in volumes:
            causes.append(fe.not_found(f"{mpath}.name", mount["name"]))
        if not mount.get("mountPath"):
            causes.append(fe.required(f"{mpath}.mountPath"))
    causes += resources(c.get("resources"), f"{path}.resources")
    return causes


TOLERATION_EFFECTS = ["NoExecute", "NoSchedule", "PreferNoSchedule"]


def tolerations(items: Any, path: str) -> Causes:
    causes: Causes = []
    for i, t in enumerate(items or []):
        if not isinstance(t, dict):
            continue
        tpath = f"{path}[{i}]"
        operator = t.get("operator") or "Equal"
        if t.get("key"):
            causes += [fe.invalid(f"{tpath}.key", t["key"], m) for m in names.qualified_name(t["key"])]
        elif operator != "Exists":
            causes.append(fe.invalid(f"{tpath}.operator", operator,
                                     "operator must be Exists when `key` is empty, which means \"match all values "
                                     "and all keys\""))
        if operator not in ("Equal", "Exists"):
            causes.append(fe.not_supported(f"{tpath}.operator", operator, ["Equal", "Exists"]))
        elif operator == "Exists" and t.get("value"):
            causes.append(fe.invalid(f"{tpath}.operator", t["value"],
                                     "value must be empty when `operator` is 'Exists'"))
        effect = t.get("effect")
        if effect and effect not in TOLERATION_EFFECTS:
            causes.append(fe.not_supported(f"{tpath}.effect", effect, TOLERATION_EFFECTS))
        if t.get("tolerationSeconds") is not None and effect != "NoExecute":
            causes.append(fe.invalid(f"{tpath}.effect", effect,
                                     "effect must be 'NoExecute' when `tolerationSeconds` is set"))
    return causes


def pod_spec(spec: Any, path: str = "spec") -> Causes:
    if not isinstance(spec, dict):
        return [fe.required(path)]
    causes: Causes = []
    volumes: set[str] = set()
    for i, v in enumerate(spec.get("volumes") or []):
        name = (v or {}).get("name") if isinstance(v, dict) else None
        causes += _dns_label(name, f"{path}.volumes[{i}].name")
        if name in volumes:
            causes.append(fe.duplicate(f"{path}.volumes[{i}].name", name))
        if name:
            volumes.add(name)
    containers = spec.get("containers") or []
    if not containers:
        causes.append(fe.required(f"{path}.containers"))
    seen: set[str] = set()
    for key in ("initContainers", "containers"):
        for i, c in enumerate(spec.get(key) or []):
            cpath = f"{path}.{key}[{i}]"
            causes += container(c, cpath, volumes)
            name = c.get("name") if isinstance(c, dict) else None
            if name:
                if name in seen:
                    causes.append(fe.duplicate(f"{cpath}.name", name))
                seen.add(name)
    policy = spec.get("restartPolicy")
    if policy is not None and policy not in RESTART_POLICIES:
        causes.append(fe.not_supported(f"{path}.restartPolicy", policy, RESTART_POLICIES))
    dns = spec.get("dnsPolicy")
    if dns is not None and dns not in DNS_POLICIES:
        causes.append(fe.not_supported(f"{path}.dnsPolicy", dns, DNS_POLICIES))
    grace = spec.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and grace < 0:
        causes.append(fe.invalid(f"{path}.terminationGracePeriodSeconds", grace,
                                 "must be greater than or equal to 0"))
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and (not isinstance(deadline, int) or deadline <= 0):
        causes.append(fe.invalid(f"{path}.activeDeadlineSeconds", deadline, "must be greater than or equal to 1"))
    causes += tolerations(spec.get("tolerations"), f"{path}.tolerations")
    for key, value in (spec.get("nodeSelector") or {}).items():
        causes += [fe.invalid(f"{path}.nodeSelector", key, m) for m in names.qualified_name(str(key))]
        causes += [fe.invalid(f"{path}.nodeSelector", value, m) for m in names.label_value(str(value))]
    if spec.get("nodeName"):
        causes += [fe.invalid(f"{path}.nodeName", spec["nodeName"], m)
                   for m in names.dns1123_subdomain(spec["nodeName"])]
    if spec.get("hostname"):
        causes += [fe.invalid(f"{path}.hostname", spec["hostname"], m) for m in names.dns1123_label(spec["hostname"])]
    return causes


# Pod spec fields an update may change (ValidatePodUpdate).
POD_UPDATE_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def _without_mutable(spec: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    for key in ("containers", "initContainers"):
        for i, c in enumerate(spec.get(key) or []):
            old_list = old.get(key) or []
            if isinstance(c, dict) and i < len(old_list) and isinstance(old_list[i], dict):
                c["image"] = old_list[i].get("image")
    spec.pop("serviceAccount", None)  # derived from serviceAccountName
    for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"):
        if key in old:
            spec[key] = old[key]
        else:
            spec.pop(key, None)
    # the scheduler binds a pod once: nodeName may go from empty to set
    if not old.get("nodeName"):
        spec.pop("nodeName", None)
    return spec


def pod_spec_update(new: dict[str, Any], old: dict[str, Any]) -> Causes:
    if _without_mutable(new, old) != _without_mutable(old, old):
        return [fe.forbidden("spec", POD_UPDATE_FORBIDDEN)]
    return []
