"""kubeconfig files: where they are, how several merge, and what one context resolves to.

Pure: callers read and parse the files (see `load`), these functions take dicts. The merge
follows kubectl's rules: for a list of files (KUBECONFIG), the first file that sets a map
entry or `current-context` wins.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from skiff.common.errors import InvalidArgument

DEFAULT_NAMESPACE = "default"


class Connection:
    """Everything needed to reach and authenticate to one API server. (A plain class: the
    CLI starts faster without importing dataclasses.)"""

    def __init__(self, server: str, context: str = "", namespace: str = DEFAULT_NAMESPACE,
                 ca_data: bytes | None = None, ca_file: str | None = None, cert_data: bytes | None = None,
                 cert_file: str | None = None, key_data: bytes | None = None, key_file: str | None = None,
                 token: str | None = None, username: str | None = None, password: str | None = None,
                 insecure: bool = False):
        self.server = server
        self.context = context
        self.namespace = namespace
        self.ca_data, self.ca_file = ca_data, ca_file
        self.cert_data, self.cert_file = cert_data, cert_file
        self.key_data, self.key_file = key_data, key_file
        self.token, self.username, self.password = token, username, password
        self.insecure = insecure

    def __repr__(self) -> str:
        return f"Connection(server={self.server!r}, context={self.context!r}, namespace={self.namespace!r})"


def default_paths(environ: dict[str, str] | None = None) -> list[str]:
    """The files kubectl reads when no --kubeconfig is given: $KUBECONFIG's list, else ~/.kube/config."""
    env = os.environ if environ is None else environ
    listed = env.get("KUBECONFIG", "")
    if listed:
        return [p for p in listed.split(os.pathsep) if p]
    home = env.get("HOME") or os.path.expanduser("~")
    return [os.path.join(home, ".kube", "config")]


SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
IN_CLUSTER = "in-cluster"


def in_cluster(environ: dict[str, str], namespace: str = "") -> dict[str, Any] | None:
    """The config a pod's client uses when it has no kubeconfig (client-go's in-cluster config):
    the `kubernetes` Service from KUBERNETES_SERVICE_HOST/PORT, the mounted token and CA; the
    namespace from $POD_NAMESPACE, else the mounted `namespace` file (given). None outside a pod."""
    host, port = environ.get("KUBERNETES_SERVICE_HOST", ""), environ.get("KUBERNETES_SERVICE_PORT", "")
    if not host or not port:
        return None
    server = f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
    context: dict[str, Any] = {"cluster": IN_CLUSTER, "user": IN_CLUSTER}
    if environ.get("POD_NAMESPACE") or namespace:
        context["namespace"] = environ.get("POD_NAMESPACE") or namespace
    return {"clusters": [{"name": IN_CLUSTER, "cluster": {
                "server": server, "certificate-authority": f"{SERVICE_ACCOUNT_DIR}/ca.crt"}}],
            "users": [{"name": IN_CLUSTER, "user": {"tokenFile": f"{SERVICE_ACCOUNT_DIR}/token"}}],
            "contexts": [{"name": IN_CLUSTER, "context": context}], "current-context": IN_CLUSTER}


def _absolutize(entry: dict[str, Any], keys: tuple[str, ...], base: str) -> dict[str, Any]:
    out = dict(entry)
    for key in keys:
        value = out.get(key)
        if isinstance(value, str) and value and not os.path.isabs(value):
            out[key] = os.path.join(base, value)
    return out


_PATH_KEYS = {"clusters": ("certificate-authority",), "users": ("client-certificate", "client-key", "tokenFile")}


def merge(documents: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Merge parsed kubeconfig documents given as (file path, content); first one wins.

    Relative file references are made absolute against the directory of the file they came from."""
    merged: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": [],
                              "current-context": "", "preferences": {}}
    seen: dict[str, set[str]] = {"clusters": set(), "users": set(), "contexts": set()}
    for path, doc in documents:
        if not doc:
            continue
        if not isinstance(doc, dict):
            raise InvalidArgument(f"error loading config file \"{path}\": not a kubeconfig")
        base = os.path.dirname(os.path.abspath(path))
        for section, inner in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            for item in doc.get(section) or []:
                name = item.get("name", "")
                if name in seen[section]:
                    continue
                seen[section].add(name)
                body = item.get(inner) or {}
                if section in _PATH_KEYS:
                    body = _absolutize(body, _PATH_KEYS[section], base)
                merged[section].append({"name": name, inner: body})
        if not merged["current-context"] and doc.get("current-context"):
            merged["current-context"] = doc["current-context"]
    return merged


def named(config: dict[str, Any], section: str, name: str) -> dict[str, Any] | None:
    inner = section[:-1]
    for item in config.get(section) or []:
        if item.get("name") == name:
            return item.get(inner) or {}
    return None


def _decode(value: str | None) -> bytes | None:
    return base64.b64decode(value) if value else None


def resolve(config: dict[str, Any], context: str | None = None, server: str | None = None,
            token: str | None = None, namespace: str | None = None, insecure: bool | None = None,
            cluster: str | None = None, user: str | None = None) -> Connection:
    """The connection a context (or the current one) describes, with command-line overrides applied."""
    ctx_name = context or config.get("current-context") or ""
    ctx: dict[str, Any] = {}
    if ctx_name:
        found = named(config, "contexts", ctx_name)
        if found is None:
            if context:
                raise InvalidArgument(f'context was not found for specified context: {ctx_name}')
            found = {}
        ctx = found
    cluster_name = cluster or ctx.get("cluster", "")
    user_name = user or ctx.get("user", "")
    cl = named(config, "clusters", cluster_name) or {}
    us = named(config, "users", user_name) or {}
    url = server or cl.get("server") or ""
    if not url:
        raise InvalidArgument("The connection to the server localhost:8080 was refused - did you specify the right host or port?")
    if "://" not in url:
        url = "https://" + url
    token_value = token or us.get("token")
    if not token_value and us.get("tokenFile"):
        with open(us["tokenFile"]) as f:
            token_value = f.read().strip()
    return Connection(
        server=url.rstrip("/"),
        context=ctx_name,
        namespace=namespace or ctx.get("namespace") or DEFAULT_NAMESPACE,
        ca_data=_decode(cl.get("certificate-authority-data")),
        ca_file=cl.get("certificate-authority"),
        cert_data=_decode(us.get("client-certificate-data")),
        cert_file=us.get("client-certificate"),
        key_data=_decode(us.get("client-key-data")),
        key_file=us.get("client-key"),
        token=token_value,
        username=us.get("username"),
        password=us.get("password"),
        insecure=bool(insecure if insecure is not None else cl.get("insecure-skip-tls-verify", False)),
    )


def redacted(config: dict[str, Any], raw: bool = False) -> dict[str, Any]:
    """What `kubectl config view` shows: secrets as DATA+OMITTED / REDACTED unless --raw."""
    if raw:
        return config
    out = dict(config)
    clusters = []
    for item in config.get("clusters") or []:
        body = dict(item.get("cluster") or {})
        if "certificate-authority-data" in body:
            body["certificate-authority-data"] = "DATA+OMITTED"
        clusters.append({"name": item.get("name"), "cluster": body})
    users = []
    for item in config.get("users") or []:
        body = dict(item.get("user") or {})
        for key in ("client-certificate-data", "client-key-data"):
            if key in body:
                body[key] = "DATA+OMITTED" if key == "client-certificate-data" else "DATA+OMITTED"
        for key in ("token", "password"):
            if key in body:
                body[key] = "REDACTED"
        users.append({"name": item.get("name"), "user": body})
    out["clusters"] = clusters
    out["users"] = users
    return out


def minified(config: dict[str, Any], context: str | None = None) -> dict[str, Any]:
    """Only the context in use and what it references (`config view --minify`)."""
    ctx_name = context or config.get("current-context") or ""
    ctx = named(config, "contexts", ctx_name)
    if ctx is None:
        raise InvalidArgument("current-context must exist in order to minify")
    out = dict(config)
    out["contexts"] = [{"name": ctx_name, "context": ctx}]
    out["clusters"] = [c for c in config.get("clusters") or [] if c.get("name") == ctx.get("cluster")]
    out["users"] = [u for u in config.get("users") or [] if u.get("name") == ctx.get("user")]
    out["current-context"] = ctx_name
    return out
