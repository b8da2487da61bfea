"""networking.k8s.io/v1 NetworkPolicy: defaulting and validation as kube-apiserver 1.32 does them
(pkg/apis/networking/v1/defaults.go and pkg/apis/networking/validation), with its messages."""

from __future__ import annotations

import ipaddress
from typing import Any

from skiff.cluster.apimachinery import fielderrors as fe
from skiff.cluster.apimachinery import names

Obj = dict[str, Any]
Causes = list[dict[str, Any]]

POLICY_TYPES = ["Egress", "Ingress"]
PROTOCOLS = ["SCTP", "TCP", "UDP"]
PORT_RANGE = "must be between 1 and 65535, inclusive"
CIDR_FORMAT = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
SELECTOR_OPERATORS = ["DoesNotExist", "Exists", "In", "NotIn"]


def defaults(obj: Obj) -> None:
    """podSelector is a struct (never null); ports default to TCP; policyTypes: Ingress always,
    Egress too when egress rules are given."""
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    if spec.get("podSelector") is None:
        spec["podSelector"] = {}
    for direction in ("ingress", "egress"):
        rules = [r for r in spec.get(direction) or [] if isinstance(r, dict)]
        for port in (p for rule in rules for p in rule.get("ports") or []):
            if isinstance(port, dict) and not port.get("protocol"):
                port["protocol"] = "TCP"
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def _label_selector(sel: Any, path: str) -> Causes:
    """metav1validation.ValidateLabelSelector: label keys/values and expression operators."""
    if not isinstance(sel, dict):
        return []
    causes: Causes = []
    for key, val in (sel.get("matchLabels") or {}).items():
        causes += [fe.invalid(f"{path}.matchLabels", key, m) for m in names.qualified_name(str(key))]
        causes += [fe.invalid(f"{path}.matchLabels", val, m) for m in names.label_value(str(val))]
    for i, expr in enumerate(sel.get("matchExpressions") or []):
        epath = f"{path}.matchExpressions[{i}]"
        op, values = expr.get("operator", ""), expr.get("values") or []
        if op in ("In", "NotIn") and not values:
            causes.append(fe.required(f"{epath}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif op in ("Exists", "DoesNotExist") and values:
            causes.append(fe.forbidden(f"{epath}.values",
                                       "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        elif op not in SELECTOR_OPERATORS:
            causes.append(fe.invalid(f"{epath}.operator", op, "not a valid selector operator"))
        causes += [fe.invalid(f"{epath}.key", expr.get("key", ""), m)
                   for m in names.qualified_name(str(expr.get("key", "")))]
    return causes


def _port(port: Obj, path: str) -> Causes:
    causes: Causes = []
    protocol, number, end = port.get("protocol"), port.get("port"), port.get("endPort")
    if protocol is not None and protocol not in PROTOCOLS:
        causes.append(fe.not_supported(f"{path}.protocol", protocol, PROTOCOLS))
    if number is None:
        if end is not None:
            causes.append(fe.invalid(f"{path}.endPort", end, "may not be specified when `port` is not specified"))
    elif isinstance(number, int):
        if not 1 <= number <= 65535:
            causes.append(fe.invalid(f"{path}.port", number, PORT_RANGE))
        if end is not None:
            if isinstance(end, int) and end < number:
                causes.append(fe.invalid(f"{path}.endPort", number, "must be greater than or equal to `port`"))
            if not isinstance(end, int) or not 1 <= end <= 65535:
                causes.append(fe.invalid(f"{path}.endPort", end, PORT_RANGE))
    else:
        if end is not None:
            causes.append(fe.invalid(f"{path}.endPort", end, "may not be specified when `port` is non-numeric"))
        causes += [fe.invalid(f"{path}.port", number, m) for m in names.port_name(str(number))]
    return causes


def _network(text: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(str(text), strict=False) if "/" in str(text) else None
    except ValueError:
        return None


def _ip_block(block: Obj, path: str) -> Causes:
    cidr = block.get("cidr")
    if not cidr:
        return [fe.required(f"{path}.cidr")]
    outer = _network(cidr)
    if outer is None:
        return [fe.invalid(f"{path}.cidr", cidr, CIDR_FORMAT)]
    causes: Causes = []
    for i, text in enumerate(block.get("except") or []):
        inner = _network(text)
        if inner is None:
            causes.append(fe.invalid(f"{path}.except[{i}]", text, CIDR_FORMAT))
        elif inner.version != outer.version or inner.prefixlen <= outer.prefixlen \
                or inner.network_address not in outer:
            causes.append(fe.invalid(f"{path}.except[{i}]", text, "must be a strict subset of `cidr`"))
    return causes


def _peer(peer: Obj, path: str) -> Causes:
    causes: Causes = []
    given = [key for key in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(key) is not None]
    for key in given:
        if key == "ipBlock":
            causes += _ip_block(peer[key], f"{path}.ipBlock")
        else:
            causes += _label_selector(peer[key], f"{path}.{key}")
    if not given:
        causes.append(fe.required(path, "must specify a peer"))
    elif len(given) > 1 and "ipBlock" in given:
        causes.append(fe.forbidden(path, "may not specify both ipBlock and another peer"))
    return causes


def validate(obj: Obj, old: Obj | None) -> Causes:
    spec = obj.get("spec") or {}
    causes = _label_selector(spec.get("podSelector"), "spec.podSelector")
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction) or []):
            rule = rule or {}
            for j, port in enumerate(rule.get("ports") or []):
                causes += _port(port or {}, f"spec.{direction}[{i}].ports[{j}]")
            for j, peer in enumerate(rule.get(peers) or []):
                causes += _peer(peer or {}, f"spec.{direction}[{i}].{peers}[{j}]")
    types = spec.get("policyTypes") or []
    for i, kind in enumerate(types):
        if kind not in POLICY_TYPES:
            causes.append(fe.not_supported(f"spec.policyTypes[{i}]", kind, POLICY_TYPES))
    if len(types) > len(POLICY_TYPES):
        causes.append(fe.invalid("spec.policyTypes", types, "may not specify more than two policyTypes"))
    return causes
