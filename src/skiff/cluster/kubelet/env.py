"""A container's environment from its env and envFrom, plus the Service variables, as the
kubelet builds it.

Pure: the ConfigMaps and Secrets the spec names are fetched by the caller (`referenced`) and
passed in, and so are the Services (`service_env`). A missing required object or key raises `ConfigError`, which the pod worker reports
as the container's `CreateContainerConfigError`, in the kubelet's words.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Mapping
from fractions import Fraction

from skiff.cluster.apimachinery.quantity import parse_quantity
from skiff.cluster.kubelet.command import expand

_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


class ConfigError(Exception):
    """The container cannot be configured (CreateContainerConfigError)."""


def referenced(container: dict) -> tuple[set[str], set[str]]:
    """(configMap names, secret names) the container's env and envFrom read."""
    cms: set[str] = set()
    secrets: set[str] = set()
    for e in container.get("env") or []:
        src = e.get("valueFrom") or {}
        if "configMapKeyRef" in src:
            cms.add(src["configMapKeyRef"].get("name", ""))
        if "secretKeyRef" in src:
            secrets.add(src["secretKeyRef"].get("name", ""))
    for f in container.get("envFrom") or []:
        if "configMapRef" in f:
            cms.add(f["configMapRef"].get("name", ""))
        if "secretRef" in f:
            secrets.add(f["secretRef"].get("name", ""))
    return cms, secrets


def secret_data(secret: dict) -> dict[str, str]:
    return {k: base64.b64decode(v).decode(errors="replace") for k, v in (secret.get("data") or {}).items()}


def configmap_data(cm: dict) -> dict[str, str]:
    return dict(cm.get("data") or {})


def _jsonpath_key(path: str, prefix: str) -> str | None:
    m = re.fullmatch(re.escape(prefix) + r"\['([^']*)'\]", path)
    return m.group(1) if m else None


def field_value(path: str, pod: dict, host_ip: str, pod_ip: str) -> str:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    simple = {"metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", ""),
              "metadata.uid": meta.get("uid", ""), "spec.nodeName": spec.get("nodeName", ""),
              "spec.serviceAccountName": spec.get("serviceAccountName", ""), "status.hostIP": host_ip,
              "status.hostIPs": host_ip, "status.podIP": pod_ip, "status.podIPs": pod_ip}
    if path in simple:
        return simple[path]
    for prefix, values in (("metadata.labels", meta.get("labels") or {}),
                           ("metadata.annotations", meta.get("annotations") or {})):
        key = _jsonpath_key(path, prefix)
        if key is not None:
            return str(values.get(key, ""))
        if path == prefix:
            return "\n".join(f'{k}="{v}"' for k, v in sorted(values.items()))
    raise ConfigError(f'unsupported fieldPath: "{path}"')


def resource_value(ref: dict, container: dict, node_allocatable: Mapping[str, str]) -> str:
    """limits.cpu / requests.memory / ... divided by the divisor and rounded up, as Kubernetes does;
    an unset limit is the node's allocatable."""
    resource = ref.get("resource", "")
    kind, _, name = resource.partition(".")
    res = container.get("resources") or {}
    raw = (res.get(kind) or {}).get(name)
    if raw is None and kind == "limits":
        raw = node_allocatable.get(name)
    if raw is None and kind == "requests":
        raw = (res.get("limits") or {}).get(name, "0")
    if raw is None:
        raise ConfigError(f"unsupported container resource : {resource}")
    divisor = parse_quantity(ref.get("divisor") or "1") or Fraction(1)
    return str(math.ceil(parse_quantity(raw) / divisor))


MASTER_NAMESPACE = "default"
MASTER_SERVICE = "kubernetes"


def _env_name(name: str) -> str:
    """A Service name as a variable name: upper case, dashes as underscores (envvars.go)."""
    return name.replace("-", "_").upper()


def _has_cluster_ip(svc: dict) -> bool:
    ip = (svc.get("spec") or {}).get("clusterIP") or ""
    return ip not in ("", "None") and bool((svc.get("spec") or {}).get("ports"))


def _one_service_env(svc: dict) -> dict[str, str]:
    prefix = _env_name(svc["metadata"]["name"])
    spec = svc["spec"]
    ip, ports = spec["clusterIP"], spec["ports"]
    host = f"[{ip}]" if ":" in ip else ip
    out = {f"{prefix}_SERVICE_HOST": ip, f"{prefix}_SERVICE_PORT": str(ports[0].get("port", ""))}
    for p in ports:
        if p.get("name"):
            out[f"{prefix}_SERVICE_PORT_{_env_name(p['name'])}"] = str(p.get("port", ""))
    for i, p in enumerate(ports):  # the Docker-link variables; Docker special-cases the first port
        proto = p.get("protocol") or "TCP"
        url = f"{proto.lower()}://{host}:{p.get('port', '')}"
        if i == 0:
            out[f"{prefix}_PORT"] = url
        port_prefix = f"{prefix}_PORT_{p.get('port', '')}_{proto.upper()}"
        out.update({port_prefix: url, f"{port_prefix}_PROTO": proto.lower(),
                    f"{port_prefix}_PORT": str(p.get("port", "")), f"{port_prefix}_ADDR": ip})
    return out


def service_env(services: list[dict], namespace: str, enable_service_links: bool = True) -> dict[str, str]:
    """The variables the kubelet gives a pod for the Services it can see: every Service with a
    cluster IP in the pod's namespace (when enableServiceLinks), and always the `kubernetes`
    Service of the default namespace, unless the pod's namespace has its own of that name.
    Headless and ExternalName Services have no cluster IP and give nothing."""
    chosen: dict[str, dict] = {}
    for svc in services:
        if not _has_cluster_ip(svc):
            continue
        name, ns = svc["metadata"]["name"], svc["metadata"].get("namespace", "")
        if ns == MASTER_NAMESPACE and name == MASTER_SERVICE:
            chosen.setdefault(name, svc)
        elif ns == namespace and enable_service_links:
            chosen[name] = svc
    out: dict[str, str] = {}
    for name in sorted(chosen):
        out.update(_one_service_env(chosen[name]))
    return out


def build_env(container: dict, pod: dict, configmaps: Mapping[str, dict | None], secrets: Mapping[str, dict | None],
              host_ip: str = "", pod_ip: str = "", node_allocatable: Mapping[str, str] | None = None,
              services: Mapping[str, str] | None = None) -> dict[str, str]:
    """The container's environment, in order: envFrom first, then env (later entries win, with
    `$(VAR)` expanded from the entries before them and the Service variables), then the Service
    variables (`service_env`) the container does not set itself."""
    out: dict[str, str] = {}
    services = services or {}
    for f in container.get("envFrom") or []:
        prefix = f.get("prefix", "")
        data_of: Callable[[dict], dict[str, str]]
        if "configMapRef" in f:
            ref, kind, objs, data_of = f["configMapRef"], "configmap", configmaps, configmap_data
        elif "secretRef" in f:
            ref, kind, objs, data_of = f["secretRef"], "secret", secrets, secret_data
        else:
            continue
        obj = objs.get(ref.get("name", ""))
        if obj is None:
            if ref.get("optional"):
                continue
            raise ConfigError(f'{kind} "{ref.get("name", "")}" not found')
        for k, v in data_of(obj).items():
            if _ENV_NAME.match(prefix + k):  # invalid names are skipped (an event in Kubernetes)
                out[prefix + k] = v
    for e in container.get("env") or []:
        name = e.get("name", "")
        if "valueFrom" not in e:
            out[name] = expand(e.get("value", ""), {**services, **out})
            continue
        src = e["valueFrom"]
        if "fieldRef" in src:
            out[name] = field_value(src["fieldRef"].get("fieldPath", ""), pod, host_ip, pod_ip)
        elif "resourceFieldRef" in src:
            out[name] = resource_value(src["resourceFieldRef"], container, node_allocatable or {})
        else:
            sources: tuple[tuple[str, str, Mapping[str, dict | None], Callable[[dict], dict[str, str]]], ...] = (
                ("configMapKeyRef", "configmap", configmaps, configmap_data),
                ("secretKeyRef", "secret", secrets, secret_data))
            for key, kind, objs, data_of in sources:
                if key not in src:
                    continue
                ref = src[key]
                obj = objs.get(ref.get("name", ""))
                if obj is None:
                    if ref.get("optional"):
                        break
                    raise ConfigError(f'{kind} "{ref.get("name", "")}" not found')
                data = data_of(obj)
                if ref.get("key", "") not in data:
                    if ref.get("optional"):
                        break
                    raise ConfigError(f"couldn't find key {ref.get('key', '')} in {'ConfigMap' if kind == 'configmap' else 'Secret'} "
                                      f"{pod['metadata'].get('namespace', '')}/{ref.get('name', '')}")
                out[name] = data[ref["key"]]
    for k, v in services.items():
        out.setdefault(k, v)
    return out
