"""The engine-wide network settings (dockerd's flags) and the default bridge they describe. Pure."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from skiff.common.errors import InvalidArgument
from skiff.engine.network import model


@dataclass
class NetworkConfig:
    prefix: str = "skiff"
    bip: str = ""  # --bip: the default bridge's gateway address with its prefix length, e.g. 10.9.0.1/24
    bridge: str = ""  # -b/--bridge: an existing bridge to use, "none" for no default bridge
    fixed_cidr: str = ""  # --fixed-cidr: the range containers on the default bridge draw from
    icc: bool = True  # --icc
    iptables: bool = True  # --iptables
    ip_forward: bool = True  # --ip-forward
    ip_masq: bool = True  # --ip-masq
    mtu: int = 0  # --mtu (0: the kernel's default, 1500)

    @property
    def default_bridge_enabled(self) -> bool:
        return self.bridge != "none"

    @property
    def default_bridge_name(self) -> str:
        return self.bridge or f"{self.prefix}0"


def parse_bip(text: str) -> tuple[str, str]:
    """`10.9.0.1/24` → (subnet "10.9.0.0/24", gateway "10.9.0.1"), with dockerd's checks."""
    try:
        iface = ipaddress.ip_interface(text)
    except ValueError:
        raise InvalidArgument(f"invalid --bip {text!r}: expected an address with a prefix length, "
                              "e.g. 192.168.1.1/24") from None
    if not isinstance(iface, ipaddress.IPv4Interface) or "/" not in text:
        raise InvalidArgument(f"invalid --bip {text!r}: expected an IPv4 address with a prefix length")
    net = iface.network
    if iface.ip in (net.network_address, net.broadcast_address):
        raise InvalidArgument(f"invalid --bip {text!r}: {iface.ip} is not a usable address of {net}")
    return str(net), str(iface.ip)


def default_options(cfg: NetworkConfig) -> dict[str, str]:
    """The default bridge's Options, as dockerd lists them."""
    return {
        model.OPT_DEFAULT_BRIDGE: "true",
        model.OPT_ICC: str(cfg.icc).lower(),
        model.OPT_MASQ: str(cfg.ip_masq).lower(),
        model.OPT_HOST_BINDING: "0.0.0.0",
        model.OPT_BRIDGE_NAME: cfg.default_bridge_name,
        model.OPT_MTU: str(cfg.mtu or 1500),
    }

