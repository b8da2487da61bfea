"""Reading kubeconfig files from disk (the I/O half of `kubeconfig`).

No pathlib here: it imports ntpath, whose optional `_winapi` import makes the CLI's lean
launcher load site-packages for nothing."""

from __future__ import annotations

import os
from typing import Any

from skiff.cluster.client import kubeconfig
from skiff.common.errors import InvalidArgument


def parse_yaml(text: str) -> Any:
    from skiff.cluster.client import blockyaml

    fast = blockyaml.parse(text)  # kubeconfig files rarely need more; PyYAML is slow to import
    if fast is not None:
        return fast
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def read(paths: list[str], explicit: bool = False) -> dict[str, Any]:
    """The merged config of these files; a missing file is an error only when named with --kubeconfig."""
    docs = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            if explicit:
                raise InvalidArgument(f"stat {path}: no such file or directory") from None
            continue
        except IsADirectoryError:
            raise InvalidArgument(f'error loading config file "{path}": read {path}: is a directory') from None
        try:
            docs.append((path, parse_yaml(text) or {}))
        except Exception as e:  # YAML errors carry their own position text
            raise InvalidArgument(f'error loading config file "{path}": {e}') from None
    return kubeconfig.merge(docs)


def read_or_in_cluster(paths: list[str], explicit: bool = False) -> dict[str, Any]:
    """`read`; in a pod with no kubeconfig, the in-cluster config (what client-go, and so kubectl,
    falls back to when the service account token is mounted)."""
    config = read(paths, explicit)
    if explicit or config.get("clusters") or not os.path.exists(f"{kubeconfig.SERVICE_ACCOUNT_DIR}/token"):
        return config
    try:
        with open(f"{kubeconfig.SERVICE_ACCOUNT_DIR}/namespace", encoding="utf-8") as f:
            namespace = f.read().strip()
    except OSError:
        namespace = ""
    return kubeconfig.in_cluster(dict(os.environ), namespace) or config


def write(path: str, config: dict[str, Any]) -> None:
    """Write a kubeconfig (0600, as kubectl keeps it: it holds credentials)."""
    import yaml

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(config, Dumper=dumper, default_flow_style=False, sort_keys=False)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
