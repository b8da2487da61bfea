"""Which pod and container a streaming command (logs, exec, attach, cp, port-forward) means."""

from __future__ import annotations

import sys
from typing import Any

from skiff.cli.kubectl.session import CommandError
from skiff.common.goduration import parse_go_duration

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


def duration_seconds(text: str) -> int:
    """A Go duration (`1h30m`, `10s`) in whole seconds, as --since takes it."""
    try:
        seconds = parse_go_duration(text) if text else None
    except ValueError:
        seconds = None
    if seconds is None:
        raise CommandError(f'invalid argument "{text}" for "--since" flag: time: invalid duration "{text}"')
    return max(1, int(seconds))
