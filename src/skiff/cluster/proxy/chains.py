"""The proxy's iptables chain names (pure): kube-proxy's iptables-mode chains with the node
agent's prefix in place of `KUBE`, so several agents (and engines) on one host never touch
each other's rules, and a crash leaves chains the next start finds by name.

Per service port chains end in a hash of what they stand for (kube-proxy hashes the
ServicePortName and protocol, plus the endpoint for SEP chains; base32 of SHA-256), cut to fit
iptables' 28-character chain names."""

from __future__ import annotations

import base64
import functools
import hashlib
from dataclasses import dataclass

from skiff.common.errors import InvalidArgument
from skiff.engine.network.iptables import Chains, Rule

MAX_CHAIN = 28  # XT_EXTENSION_MAXNAMELEN - 1
MIN_HASH = 6
MASQ_MARK = "0x4000/0x4000"  # kube-proxy's masquerade bit


def proxy_prefix(agent_prefix: str) -> str:
    """The agent's prefix plus `-K`: apart from the engine's `<prefix>-POSTROUTING` and the like."""
    return f"{agent_prefix}-K"


@functools.lru_cache(maxsize=1 << 16)
def short_hash(*parts: str, length: int = 16) -> str:
    digest = hashlib.sha256("".join(parts).encode()).digest()
    return base64.b32encode(digest).decode()[:length]


@dataclass(frozen=True)
class ProxyChains(Chains):
    """The chains of one proxy; `prefix` is already the proxy's (see `proxy_prefix`)."""

    def __post_init__(self) -> None:
        if self.hash_length < MIN_HASH or any(len(name) > MAX_CHAIN for _, name in self.all()):
            raise InvalidArgument(f"prefix {self.prefix!r} is too long for iptables chain names")

    @property
    def hash_length(self) -> int:
        return min(16, MAX_CHAIN - len(self.prefix) - len("-SVC-"))

    def named(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    @property
    def services(self) -> str:
        return self.named("SERVICES")

    @property
    def external_services(self) -> str:
        return self.named("EXTERNAL")  # kube-proxy's KUBE-EXTERNAL-SERVICES, shortened to leave room for the prefix

    @property
    def nodeports(self) -> str:
        return self.named("NODEPORTS")

    @property
    def mark_masq(self) -> str:
        return self.named("MARK-MASQ")

    @property
    def postrouting(self) -> str:
        return self.named("POSTROUTING")

    def svc(self, key: str, protocol: str) -> str:
        return self.named("SVC-" + short_hash(key, protocol, length=self.hash_length))

    def svl(self, key: str, protocol: str) -> str:
        return self.named("SVL-" + short_hash(key, protocol, length=self.hash_length))

    def ext(self, key: str, protocol: str) -> str:
        return self.named("EXT-" + short_hash(key, protocol, length=self.hash_length))

    def sep(self, key: str, protocol: str, address: str) -> str:
        return self.named("SEP-" + short_hash(key, protocol, address, length=self.hash_length))

    def all(self) -> list[tuple[str, str]]:
        """The fixed chains (per-service chains come and go with the services)."""
        return [("nat", self.services), ("nat", self.nodeports), ("nat", self.mark_masq), ("nat", self.postrouting),
                ("filter", self.services), ("filter", self.external_services)]

    def jumps(self) -> list[Rule]:
        """kube-proxy's hooks into the built-in chains."""
        new = ("-m", "conntrack", "--ctstate", "NEW")
        return [
            Rule("nat", "PREROUTING", ("-j", self.services)),
            Rule("nat", "OUTPUT", ("-j", self.services)),
            Rule("nat", "POSTROUTING", ("-j", self.postrouting)),
            Rule("filter", "INPUT", (*new, "-j", self.external_services)),
            Rule("filter", "FORWARD", (*new, "-j", self.services)),
            Rule("filter", "FORWARD", (*new, "-j", self.external_services)),
            Rule("filter", "OUTPUT", (*new, "-j", self.services)),
        ]

    def owns(self, chain: str) -> bool:
        return chain.startswith(self.prefix + "-")
