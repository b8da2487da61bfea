"""The containers' side of networking: which networks a container asks for, plugging them in at
start (before the runtime creates the process) and out at exit, hot-plug (`network connect`
and `disconnect`), and NetworkSettings for inspect and ps. Mixed into ContainerService.

`self.network` is the engine's NetworkService, or None (then every container that is not
`host` gets a loopback-only namespace from the runtime, as before networking existed).

Hooks for the parts that build on addresses (hosts files, published ports, embedded DNS):
`network_prepare_hooks` (plain callables) run in the worker thread that configured the
namespace, right after it; `network_start_hooks` are awaited next, before the runtime creates
the process; `network_stop_hooks` after the container's process is gone. Each takes the
Container; the start and stop hooks are async.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from skiff.common.errors import Conflict, Forbidden, SkiffError, SystemError_
from skiff.engine.containers.record import Container

_Base: Any = object  # the mixin sees ContainerService's attributes

Hook = Callable[[Container], Awaitable[None]]


class NetworkingMixin(_Base):
    network: Any = None
    network_prepare_hooks: list[Callable[[Container], None]]
    network_start_hooks: list[Hook]
    network_stop_hooks: list[Hook]

    def _endpoints_config(self, c: Container) -> dict:
        return dict((c.networking_config or {}).get("EndpointsConfig") or {})

    def _check_networks(self, hc: dict, networking_config: dict) -> dict:
        """At create: validate and normalize NetworkingConfig (EndpointsConfig keyed by network name)."""
        if self.network is None:
            return networking_config
        configs = self.network.check_container_networks(hc.get("NetworkMode") or "bridge",
                                                        (networking_config or {}).get("EndpointsConfig"))
        return {**networking_config, "EndpointsConfig": configs}

    def _netns_for(self, c: Container) -> str:
        """The namespace path config.json joins: ours, or the one of the container named by container:X."""
        if self.network is None:
            return ""
        mode = c.network_mode
        if mode.startswith("container:"):
            target = self.get(mode.split(":", 1)[1])
            return self.network.netns_path(target.id) if self.network.has_netns(target.id) else ""
        # none: the runtime makes the namespace (no file); bridges: the network service's file
        return self.network.netns_path(c.id) if mode != "host" and self.network.has_netns(c.id) else ""

    async def _networks_up(self, c: Container) -> None:
        if self.network is None:
            return
        # checked again: a network may have gone since create; records older than networking
        # have no EndpointsConfig, and get their primary network from NetworkMode
        configs = self.network.check_container_networks(c.network_mode, self._endpoints_config(c))

        def up() -> None:  # one thread hop for the namespace and the files built on its addresses
            try:
                self.network.setup_container(c.id, c.name, c.network_mode, configs)
            except OSError as e:
                raise SystemError_(f"failed to set up container networking: {e}") from None
            for prepare in self.network_prepare_hooks:
                prepare(c)

        try:
            await asyncio.to_thread(up)
        finally:
            self.network.flush_events()
        for hook in self.network_start_hooks:
            await hook(c)

    def _networks_down_sync(self, cid: str) -> None:
        if self.network is not None:
            self.network.release_container(cid)

    async def _networks_down(self, c: Container) -> None:
        if self.network is None:
            return
        self.network.flush_events()
        for hook in self.network_stop_hooks:
            try:
                await hook(c)
            except Exception as e:  # a hook's failure must not stop the container's clean-up
                self._log_hook_failure(c, e)

    def _log_hook_failure(self, c: Container, e: Exception) -> None:
        import logging

        logging.getLogger("skiff.engine.containers").warning("network stop hook for %s failed: %s", c.id, e)

    # --- network connect / disconnect --------------------------------------------------------
    async def network_connect(self, net_ref: str, ref: str, endpoint_config: dict | None) -> None:
        c = self.get(ref)
        net = self.network.get(net_ref)
        cfg = dict(endpoint_config or {})
        mode = c.network_mode
        if mode == "none":
            raise Forbidden(f"Container cannot be connected to network endpoints: none, {net.name}")
        if mode == "host" or mode.startswith("container:"):
            raise Forbidden("container sharing network namespace with another container or host cannot be "
                            "connected to any other network")
        configs = self._endpoints_config(c)
        if net.name in configs:
            raise Forbidden(f"endpoint with name {c.name} already exists in network {net.name}")
        async with self._lock(c.id):
            self.network._check_endpoint_config(net, cfg)
            if c.state.running:
                await asyncio.to_thread(self.network.connect_running, c.id, c.name, net.name, cfg)
                self.network.flush_events()
                await self._networks_changed(c)
            configs[net.name] = cfg
            c.networking_config = {**(c.networking_config or {}), "EndpointsConfig": configs}
            self.store.save(c)

    async def network_disconnect(self, net_ref: str, ref: str, force: bool = False) -> None:
        c = self.get(ref)
        net = self.network.get(net_ref)
        configs = self._endpoints_config(c)
        if net.name not in configs:
            if force:
                return
            raise Forbidden(f"container {c.id} is not connected to network {net.name}")
        if c.network_mode.startswith("container:") or c.network_mode == "host":
            raise Conflict("container sharing network namespace with another container or host cannot be "
                           "disconnected from any network")
        async with self._lock(c.id):
            if c.state.running and c.id in net.endpoints:
                await asyncio.to_thread(self.network.disconnect_running, c.id, net.name)
                self.network.flush_events()
                await self._networks_changed(c)
            configs.pop(net.name, None)
            c.networking_config = {**(c.networking_config or {}), "EndpointsConfig": configs}
            self.store.save(c)

    async def _networks_changed(self, c: Container) -> None:
        """A running container was connected or disconnected: `network_change_hooks` (async,
        `hook(container)`) bring its /etc files and embedded DNS up to date."""
        for hook in getattr(self, "network_change_hooks", []):
            await hook(c)

    # --- views -------------------------------------------------------------------------------
    def _network_settings(self, c: Container) -> dict | None:
        """NetworkSettings fields from live endpoints: Networks, SandboxKey and the legacy
        top-level address fields (from the default bridge), as dockerd shows them."""
        if self.network is None:
            return None
        from skiff.engine.network.model import endpoint_settings

        networks: dict[str, dict] = {}
        out: dict[str, Any] = {"Networks": networks}
        mode = c.network_mode
        if mode in ("host", "none"):
            try:
                net = self.network.get(mode)
                networks[mode] = endpoint_settings(net, None, {})
                networks[mode]["NetworkID"] = net.id
            except SkiffError:
                pass
        for name, cfg in self._endpoints_config(c).items():
            try:
                net, ep = self.network.endpoint(c.id, name)
            except SkiffError:
                continue
            networks[net.name] = endpoint_settings(net, ep, cfg)
            if ep is not None and net.is_default:
                out.update({"EndpointID": ep.id, "Gateway": ep.gateway, "IPAddress": ep.ip,
                            "IPPrefixLen": ep.prefixlen, "MacAddress": ep.mac})
        if getattr(self, "edges", None) is not None:
            out["Ports"] = self.edges.ports_view(c)
        if c.state.running and self.network.has_netns(c.id):
            out["SandboxKey"] = self.network.netns_path(c.id)
            out["SandboxID"] = c.id
        return out
