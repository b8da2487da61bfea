"""iptables rules for published ports, as `Rule` data (and the jump and teardown batches as
iptables-restore text). Pure.

Three chains of our own, rewritten whole on every change (`Iptables.set_chains`: in
`--noflush` mode a chain's declaration line empties it), so a container's rules go by
re-rendering without it, one batch per change:

- nat `<P>-DNAT`, jumped from PREROUTING (any local destination) and from OUTPUT (local
  destinations outside 127/8: the kernel does not route DNAT'd loopback traffic, so the
  userland proxy serves 127.0.0.1): host port → container address and port, except for
  traffic from another of the engine's bridges, which the userland proxy serves.
- nat `<P>-HAIRPIN`, jumped from POSTROUTING: a container reaching its own published port
  through a host address gets masqueraded, or its reply would skip the DNAT's reverse.
- filter `<P>-PORTS`, jumped from FORWARD: accept the DNAT'd traffic into the bridge.
"""

from __future__ import annotations

from dataclasses import dataclass

from skiff.engine.network.iptables import BUILTIN, Rule, parse_save
from skiff.engine.network.ports import PortBinding


@dataclass(frozen=True)
class Published:
    """One bound host port and where it leads."""

    binding: PortBinding
    container_ip: str
    bridge: str
    icc: bool = True  # False: the bridge drops traffic between its containers, so they use the proxy


def chain_names(prefix: str) -> dict[str, str]:
    return {"dnat": f"{prefix}-DNAT", "hairpin": f"{prefix}-HAIRPIN", "ports": f"{prefix}-PORTS"}


def owned(prefix: str) -> list[tuple[str, str]]:
    """(table, chain) of our chains."""
    c = chain_names(prefix)
    return [("nat", c["dnat"]), ("nat", c["hairpin"]), ("filter", c["ports"])]


def jumps(prefix: str) -> list[Rule]:
    """The rules in built-in chains that lead into ours."""
    c = chain_names(prefix)
    return [
        Rule("nat", "PREROUTING", ("-m", "addrtype", "--dst-type", "LOCAL", "-j", c["dnat"])),
        Rule("nat", "OUTPUT", ("!", "-d", "127.0.0.0/8", "-m", "addrtype", "--dst-type", "LOCAL", "-j", c["dnat"])),
        Rule("nat", "POSTROUTING", ("-j", c["hairpin"])),
        Rule("filter", "FORWARD", ("-j", c["ports"])),
    ]


def render(prefix: str, published: list[Published]) -> dict[tuple[str, str], list[Rule]]:
    """The whole content of our three chains for `published` (for `Iptables.set_chains`)."""
    c = chain_names(prefix)
    dnat: list[Rule] = []
    hairpin: list[Rule] = []
    accept: list[Rule] = []
    for p in published:
        b = p.binding
        if b.host_ip.startswith("127.") or ":" in b.host_ip:
            continue  # loopback and IPv6 bindings (no ip6tables rules) are the userland proxy's alone
        dst = ("-d", f"{b.host_ip}/32") if b.host_ip else ()
        match = ("-p", b.proto, "-m", b.proto)
        to = ("-j", "DNAT", "--to-destination", f"{p.container_ip}:{b.container_port}")
        port = (*dst, *match, "--dport", str(b.host_port))
        # From the container's own network: NAT (hairpin), unless icc is off there. From another
        # of our networks: the userland proxy, as isolation would drop the replies of a NAT'd flow.
        # From anywhere else (outside, the host): NAT.
        if p.icc:
            dnat.append(Rule("nat", c["dnat"], ("-i", p.bridge, *port, *to)))
        dnat.append(Rule("nat", c["dnat"], ("-i", f"{prefix}+", *port, "-j", "RETURN")))
        dnat.append(Rule("nat", c["dnat"], (*port, *to)))
        hairpin.append(Rule("nat", c["hairpin"], ("-s", f"{p.container_ip}/32", "-d", f"{p.container_ip}/32", *match,
                                                  "--dport", str(b.container_port), "-j", "MASQUERADE")))
        # from outside the bridge only: between containers the network's own icc rule decides
        accept.append(Rule("filter", c["ports"], ("-d", f"{p.container_ip}/32", "!", "-i", p.bridge, "-o", p.bridge,
                                                  *match, "--dport", str(b.container_port), "-j", "ACCEPT")))
    return {("nat", c["dnat"]): dnat, ("nat", c["hairpin"]): hairpin, ("filter", c["ports"]): accept}


def render_jumps(saved: str, prefix: str) -> str:
    """iptables-restore text inserting the jumps `iptables-save` output `saved` lacks."""
    _, rules = parse_save(saved)
    present = {(r.table, r.chain, tuple(r.args)) for r in rules}
    return "".join(_block(j.table, [j.line("-I")]) for j in jumps(prefix)
                   if (j.table, j.chain, j.args) not in present)


def render_teardown(saved: str, prefix: str) -> str:
    """Delete the jumps into our chains, then empty and delete the chains, whatever a crash left."""
    declared, rules = parse_save(saved)
    ours = {name for _, name in owned(prefix)}
    out = ""
    for r in rules:
        if r.chain in BUILTIN and any(a in ours for a in r.args):
            out += _block(r.table, [Rule(r.table, r.chain, tuple(r.args)).line("-D")])
    for table, chain in owned(prefix):
        if chain in declared.get(table, []):
            out += _block(table, [f"-F {chain}", f"-X {chain}"])
    return out


def _block(table: str, lines: list[str]) -> str:
    return "\n".join([f"*{table}", *lines, "COMMIT"]) + "\n"
