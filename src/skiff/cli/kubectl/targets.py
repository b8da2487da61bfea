"""kubectl's ways of naming objects on the command line: `TYPE[,TYPE] [NAME...]` or `TYPE/NAME ...`."""

from __future__ import annotations

from skiff.cli.kubectl.session import CommandError, Session
from skiff.cluster.client.paths import Resource


class Target:
    """A resource and the names asked for (none: every object, by selector)."""

    def __init__(self, resource: Resource, names: list[str] | None = None):
        self.resource = resource
        self.names = names or []


def parse_words(words: list[str]) -> list[tuple[str, list[str]]]:
    """(type word, names) pairs, types not yet resolved. Pure, so it is unit-tested alone."""
    if not words:
        return []
    if "/" in words[0]:
        out: list[tuple[str, list[str]]] = []
        for word in words:
            kind, sep, name = word.partition("/")
            if not sep or not kind or not name:
                raise CommandError("there is no need to specify a resource type as a separate argument when passing "
                                   "arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' "
                                   "instead of 'kubectl get resource resource/<resource_name>'")
            for existing in out:
                if existing[0] == kind:
                    existing[1].append(name)
                    break
            else:
                out.append((kind, [name]))
        return out
    types = [t for t in words[0].split(",") if t]
    names = words[1:]
    for name in names:
        if "/" in name:
            raise CommandError("there is no need to specify a resource type as a separate argument when passing "
                               "arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead "
                               "of 'kubectl get resource resource/<resource_name>'")
    return [(t, list(names)) for t in types]


def resolve(session: Session, words: list[str], allow_all: bool = True) -> list[Target]:
    from skiff.cluster.client import discovery

    out: list[Target] = []
    for kind, names in parse_words(words):
        if kind.lower() == "all" and allow_all and not names:
            out += [Target(r) for r in discovery.in_category(session.resources, "all")]
            continue
        res = session.resource(kind)
        for t in out:
            if t.resource == res:
                t.names += names
                break
        else:
            out.append(Target(res, list(names)))
    return out


def require_type_message(command: str) -> str:
    return (f"You must specify the type of resource to {command}. Use \"kubectl api-resources\" for a complete "
            "list of supported resources.\n")
