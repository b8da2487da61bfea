"""Reading kubeconfig files from disk (the I/O half of `kubeconfig`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from skiff.cluster.client import kubeconfig
from skiff.common.errors import InvalidArgument


def parse_yaml(text: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)


def read(paths: list[str], explicit: bool = False) -> dict[str, Any]:
    """The merged config of these files; a missing file is an error only when named with --kubeconfig."""
    docs = []
    for path in paths:
        p = Path(path)
        if not p.exists():
            if explicit:
                raise InvalidArgument(f'stat {path}: no such file or directory')
            continue
        try:
            docs.append((path, parse_yaml(p.read_text()) or {}))
        except Exception as e:  # YAML errors carry their own position text
            raise InvalidArgument(f'error loading config file "{path}": {e}') from None
    return kubeconfig.merge(docs)


def write(path: str, config: dict[str, Any]) -> None:
    import yaml

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    p.write_text(yaml.dump(config, Dumper=dumper, default_flow_style=False, sort_keys=False))
