"""Which pod and container a streaming command (logs, exec, attach, cp, port-forward) means."""

from __future__ import annotations

import re
import sys
from typing import Any

from skiff.cli.kubectl.session import CommandError

DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"
POD_TYPES = ("pod", "pods", "po")


def pod_name(word: str) -> str:
    """`NAME`, `pod/NAME` or `pods/NAME`; other kinds are not resolved to a pod here."""
    kind, sep, name = word.partition("/")
    if not sep:
        return word
    if kind.lower().split(".", 1)[0] not in POD_TYPES:
        raise CommandError(f"skiff kubectl resolves only pods for this command, not {kind!r}")
    return name


def default_container(pod: dict[str, Any], quiet: bool = False) -> str:
    """The annotated default container, else the first one (saying so when there are several)."""
    spec = pod.get("spec") or {}
    names = [c["name"] for c in spec.get("containers") or []]
    annotated = ((pod.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CONTAINER, "")
    if annotated in names:
        return annotated
    if not names:
        raise CommandError(f"pod {pod['metadata']['name']} has no containers")
    if len(names) > 1 and not quiet:
        shown = ", ".join(names + [f"{c['name']} (init)" for c in spec.get("initContainers") or []])
        sys.stderr.write(f'Defaulted container "{names[0]}" out of: {shown}\n')
    return names[0]


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")


def duration_seconds(text: str) -> int:
    """A Go duration (`1h30m`, `10s`) in whole seconds, as --since takes it."""
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * {"h": 3600, "m": 60, "s": 1, "ms": 0.001}[m.group(2)]
        pos = m.end()
    if not text or pos != len(text):
        raise CommandError(f'invalid argument "{text}" for "--since" flag: time: invalid duration "{text}"')
    return max(1, int(total))
