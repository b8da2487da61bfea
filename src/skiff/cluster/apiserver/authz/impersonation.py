"""Impersonation headers (`kubectl --as`, `--as-group`, `--as-uid`), each checked with the `impersonate` verb."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from multidict import CIMultiDictProxy

from skiff.cluster.apimachinery.errors import bad_request
from skiff.cluster.apiserver.authn import User
from skiff.cluster.apiserver.authz.attributes import Attributes, for_resource
from skiff.cluster.apiserver.authz.index import SA_PREFIX

USER, GROUP, UID, EXTRA = "Impersonate-User", "Impersonate-Group", "Impersonate-Uid", "Impersonate-Extra-"
Check = Callable[[Attributes], Awaitable[None]]  # raises Forbidden when not allowed


def wanted(headers: CIMultiDictProxy[str]) -> bool:
    return USER in headers or GROUP in headers or UID in headers


def requested(requester: User, headers: CIMultiDictProxy[str]) -> tuple[str, list[str], str, list[Attributes]]:
    """Who is asked for (user, groups, uid) and the `impersonate` checks that must pass."""
    name = headers.get(USER, "")
    groups = headers.getall(GROUP, [])
    uid = headers.get(UID, "")
    extras = [k for k in headers if k.lower().startswith(EXTRA.lower())]
    if not name and (groups or uid or extras):
        raise bad_request("requested " + ("groups" if groups else "uid" if uid else "extra")
                          + " without impersonating a user")
    checks: list[Attributes] = []
    if name.startswith(SA_PREFIX) and name.count(":") == 3:
        ns, sa = name[len(SA_PREFIX):].split(":", 1)
        checks.append(for_resource(requester, "impersonate", "", "serviceaccounts", namespace=ns, name=sa))
    else:
        checks.append(for_resource(requester, "impersonate", "", "users", name=name))
    checks.extend(for_resource(requester, "impersonate", "", "groups", name=g) for g in groups)
    if uid:
        checks.append(for_resource(requester, "impersonate", "authentication.k8s.io", "uids", name=uid))
    for key in extras:
        for value in headers.getall(key):
            checks.append(for_resource(requester, "impersonate", "authentication.k8s.io",
                                       f"userextras/{key[len(EXTRA):].lower()}", name=value))
    return name, groups, uid, checks


def impersonated(name: str, groups: list[str], uid: str) -> User:
    """The user a request acts as: the groups asked for, plus what authentication would add."""
    out = list(groups)
    if name.startswith(SA_PREFIX) and name.count(":") == 3:
        ns = name[len(SA_PREFIX):].split(":", 1)[0]
        for g in ("system:serviceaccounts", f"system:serviceaccounts:{ns}"):
            if g not in out:
                out.append(g)
    extra = "system:unauthenticated" if name == "system:anonymous" else "system:authenticated"
    if extra not in out:
        out.append(extra)
    return User(name, uid, tuple(out))
