"""The iptables rules the bridge networks need, as pure data.

All bridges' rules are rendered together and written as whole chains in one batch
(`Iptables.set_chains`), so adding or removing a network never leaves a half-edited chain.
Port publishing's chains (`<P>-DNAT`, `<P>-PORTS`, ...) are its own and never rendered here.
"""

from __future__ import annotations

from dataclasses import dataclass

from skiff.engine.network.iptables import Chains, Rule


@dataclass(frozen=True)
class BridgePolicy:
    bridge: str  # interface name of the bridge
    subnet: str  # CIDR
    internal: bool = False  # no traffic in or out of the bridge but between its containers
    icc: bool = True  # containers on this bridge may talk to each other
    masquerade: bool = True  # NAT outbound traffic to the host's address


def render(chains: Chains, bridges: list[BridgePolicy]) -> dict[tuple[str, str], list[Rule]]:
    fwd, iso1, iso2 = chains.forward, chains.isolation, chains.isolation2
    # Published ports are for everyone: a connection port publishing DNAT'd may cross from one
    # of our bridges to another (a container reaching another network's published port through
    # a host address), which the isolation stage would otherwise drop.
    forward: list[Rule] = [Rule("filter", fwd, ("-m", "conntrack", "--ctstate", "DNAT", "-j", "ACCEPT")),
                           Rule("filter", fwd, ("-j", iso1))]
    isolation: list[Rule] = []
    isolation2: list[Rule] = []
    postrouting: list[Rule] = []

    def f(*args: str) -> Rule:
        return Rule("filter", fwd, args)

    for b in bridges:
        br = b.bridge
        # traffic from this bridge to any other of our bridges goes through stage 2, which drops
        # it when the output is one of them: networks are isolated from each other, as in Docker
        isolation.append(Rule("filter", iso1, ("-i", br, "!", "-o", br, "-j", iso2)))
        isolation2.append(Rule("filter", iso2, ("-o", br, "-j", "DROP")))
        forward.append(f("-i", br, "-o", br, "-j", "ACCEPT" if b.icc else "DROP"))
        if b.internal:
            forward.append(f("-i", br, "!", "-o", br, "-j", "DROP"))
            forward.append(f("-o", br, "!", "-i", br, "-j", "DROP"))
            continue
        forward.append(f("-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"))
        forward.append(f("-i", br, "!", "-o", br, "-j", "ACCEPT"))
        if b.masquerade:
            postrouting.append(Rule("nat", chains.postrouting,
                                    ("-s", b.subnet, "!", "-o", br, "-j", "MASQUERADE")))
    return {("filter", fwd): forward, ("filter", iso1): isolation, ("filter", iso2): isolation2,
            ("nat", chains.postrouting): postrouting}
