"""The admin kubeconfig `skiff server` writes for kubectl (k3s names its cluster, user and context `default`)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import yaml

from skiff.cluster.apiserver.certs import Pki


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def render(server_url: str, pki: Pki) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "default", "cluster": {
            "server": server_url, "certificate-authority-data": _b64(pki.ca_cert)}}],
        "users": [{"name": "default", "user": {
            "client-certificate-data": _b64(pki.admin_cert), "client-key-data": _b64(pki.admin_key)}}],
        "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
        "current-context": "default",
        "preferences": {},
    }


def write(path: Path, server_url: str, pki: Pki) -> None:
    """Write atomically, readable by the owner only (it holds the admin key)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(render(server_url, pki), f, default_flow_style=False, sort_keys=False)
    os.replace(tmp, path)
