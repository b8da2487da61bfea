"""iptables rules for published ports, rendered as iptables-restore text. Pure.

Three chains of our own, rewritten whole on every change (in `--noflush` mode a chain's
declaration line empties it), so a container's rules go by re-rendering without it:

- nat `<P>-DNAT`, jumped from PREROUTING (any local destination) and from OUTPUT (local
  destinations outside 127/8: the kernel does not route DNAT'd loopback traffic, so the
  userland proxy serves 127.0.0.1): host port → container address and port.
- nat `<P>-HAIRPIN`, jumped from POSTROUTING: a container reaching its own published port
  through a host address gets masqueraded, or its reply would skip the DNAT's reverse.
- filter `<P>-PORTS`, jumped from FORWARD: accept the DNAT'd traffic into the bridge.
"""

from __future__ import annotations

from dataclasses import dataclass

from skiff.engine.network.ports import PortBinding


@dataclass(frozen=True)
class Published:
    """One bound host port and where it leads."""

    binding: PortBinding
    container_ip: str
    bridge: str


def chain_names(prefix: str) -> dict[str, str]:
    return {"dnat": f"{prefix}-DNAT", "hairpin": f"{prefix}-HAIRPIN", "ports": f"{prefix}-PORTS"}


def jumps(prefix: str) -> list[tuple[str, str, list[str]]]:
    """(table, builtin chain, rule args) of the jumps into our chains."""
    c = chain_names(prefix)
    return [
        ("nat", "PREROUTING", ["-m", "addrtype", "--dst-type", "LOCAL", "-j", c["dnat"]]),
        ("nat", "OUTPUT", ["!", "-d", "127.0.0.0/8", "-m", "addrtype", "--dst-type", "LOCAL", "-j", c["dnat"]]),
        ("nat", "POSTROUTING", ["-j", c["hairpin"]]),
        ("filter", "FORWARD", ["-j", c["ports"]]),
    ]


def _dest(p: Published) -> str:
    return f"{p.container_ip}:{p.binding.container_port}"


def render(prefix: str, published: list[Published]) -> str:
    """iptables-restore --noflush input that sets our three chains to exactly `published`."""
    c = chain_names(prefix)
    nat = ["*nat", f":{c['dnat']} - [0:0]", f":{c['hairpin']} - [0:0]"]
    flt = ["*filter", f":{c['ports']} - [0:0]"]
    for p in published:
        b = p.binding
        if b.host_ip.startswith("127.") or b.host_ip == "::1":
            continue  # loopback bindings are the userland proxy's alone
        dst = ["-d", f"{b.host_ip}/32"] if b.host_ip else []
        nat.append(" ".join(["-A", c["dnat"], *dst, "-p", b.proto, "-m", b.proto, "--dport", str(b.host_port),
                             "-j", "DNAT", "--to-destination", _dest(p)]))
        nat.append(" ".join(["-A", c["hairpin"], "-s", f"{p.container_ip}/32", "-d", f"{p.container_ip}/32",
                             "-p", b.proto, "-m", b.proto, "--dport", str(b.container_port), "-j", "MASQUERADE"]))
        flt.append(" ".join(["-A", c["ports"], "-d", f"{p.container_ip}/32", "-o", p.bridge,
                             "-p", b.proto, "-m", b.proto, "--dport", str(b.container_port), "-j", "ACCEPT"]))
    return "\n".join([*nat, "COMMIT", *flt, "COMMIT", ""])


def teardown(prefix: str) -> str:
    """iptables-restore --noflush input that empties our chains (the caller drops the jumps
    first, then deletes the chains with `iptables -X`)."""
    return render(prefix, [])
