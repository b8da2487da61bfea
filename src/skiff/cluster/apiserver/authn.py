"""Who is calling: a client certificate signed by the cluster CA, or a bearer token.

Tokens come from a static token file in Kubernetes' CSV format (`token,user,uid,"group1,group2"`)
and from `--token` (the node-join secret, user `node`). Authorization beyond "authenticated
means admin" comes later, so the identity is only checked for presence.
"""

from __future__ import annotations

import csv
import hmac
from dataclasses import dataclass, field
from pathlib import Path

from skiff.cluster.apiserver.satokens import Claims, Signer

# Paths anyone may read, as a default kube-apiserver allows (system:public-info-viewer).
PUBLIC_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/version"})


@dataclass(frozen=True)
class User:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = field(default_factory=tuple)


def service_account_user(c: Claims) -> User:
    return User(f"system:serviceaccount:{c.namespace}:{c.name}", c.uid,
                ("system:serviceaccounts", f"system:serviceaccounts:{c.namespace}", "system:authenticated"))


def user_from_peercert(peercert: dict | None) -> User | None:
    """The identity in a verified client certificate: CN is the user, each O a group."""
    if not peercert:
        return None
    cn, orgs = "", []
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                cn = value
            elif key == "organizationName":
                orgs.append(value)
    return User(cn, groups=(*orgs, "system:authenticated")) if cn else None


def parse_token_file(text: str) -> dict[str, User]:
    tokens: dict[str, User] = {}
    for row in csv.reader(text.splitlines()):
        if not row or row[0].startswith("#"):
            continue
        if len(row) < 3:
            raise ValueError(f"token file line {row!r}: want token,user,uid[,\"groups\"]")
        groups = tuple(g for g in (row[3].split(",") if len(row) > 3 else []) if g)
        tokens[row[0]] = User(row[1], row[2], (*groups, "system:authenticated"))
    return tokens


class Authenticator:
    def __init__(self, token_file: Path | None = None, join_token: str = "", signer: Signer | None = None):
        self.tokens = parse_token_file(Path(token_file).read_text()) if token_file else {}
        self.join_token = join_token
        self.signer = signer  # service account tokens (satokens.py)

    def service_account(self, authorization: str) -> Claims | None:
        """The claims of a service account token this server signed; the caller checks that the
        account still exists (a token outlives nothing it was issued for)."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or self.signer is None or token.count(".") != 2:
            return None
        return self.signer.verify(token.strip())

    def from_bearer(self, header: str) -> User | None:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        for known, user in self.tokens.items():
            if hmac.compare_digest(known, token):
                return user
        if self.join_token and hmac.compare_digest(self.join_token, token):
            return User("node", groups=("system:nodes", "system:authenticated"))
        return None

    def authenticate(self, peercert: dict | None, authorization: str) -> User | None:
        return user_from_peercert(peercert) or (self.from_bearer(authorization) if authorization else None)
