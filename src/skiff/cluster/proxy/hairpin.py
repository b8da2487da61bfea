"""Hairpin mode on the pod bridge's ports, as the kubelet's `--hairpin-mode=hairpin-veth` did.

A pod reaching itself through its Service: with br_netfilter the DNAT happens while the frame is
being bridged, and the bridge sends it back out the port it came in by only when that port is in
hairpin mode. The proxy turns it on for every port of the node's pod bridge on each sync (a new
pod's veth is there before its endpoint is ready)."""

from __future__ import annotations

from pathlib import Path

SYS_NET = Path("/sys/class/net")


def enable(bridge: str, sys_net: Path = SYS_NET) -> int:
    """Turn hairpin mode on for the bridge's ports that have it off; how many were changed."""
    changed = 0
    if not bridge:
        return 0
    try:
        ports = list((sys_net / bridge / "brif").iterdir())
    except OSError:  # no such bridge (yet)
        return 0
    for port in ports:
        mode = port / "hairpin_mode"
        try:
            if mode.read_text().strip() != "1":
                mode.write_text("1")
                changed += 1
        except OSError:  # the port went away meanwhile
            continue
    return changed
