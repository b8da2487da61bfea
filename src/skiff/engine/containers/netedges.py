"""What a container's start adds at the edges of its network, once its namespace and endpoints
exist and before its process runs: the /etc files (its own addresses, links, --add-host,
resolv.conf pointing at the embedded DNS on user-defined networks), the link environment,
published ports and the embedded DNS server in its namespace. And the reverse when it stops.

`install()` hangs it on ContainerService's network start/stop hooks (containers/networking.py);
`restore_running()` re-takes the ports of running containers after an engine restart.
In a start, in this order:
  targets = edges.link_targets(c)                      (thread; Conflict if a target is not running)
  env = edges.prepare(c, cdir, endpoints, targets)     (thread: writes hostname, hosts, resolv.conf)
  await edges.attach(c, endpoints, netns_path)          (ports and DNS; raises, releasing all, on failure)
  ... process runs ...
  await edges.detach(c.id)                             (on exit)
`c` is anything with `id`, `name` (no "/"), `config` and `host_config` (the container record).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from skiff.common.errors import Conflict, InvalidArgument, NotFound
from skiff.engine.containers import etcfiles
from skiff.engine.network import links, ports
from skiff.engine.network.attach import EndpointInfo
from skiff.engine.network.dns import EmbeddedDns
from skiff.engine.network.links import LinkTarget
from skiff.engine.network.portmap import IptablesPorts, PortMapper
from skiff.engine.network.ports import PortBinding, PortRequest

log = logging.getLogger("skiff.engine.network")

HOST_RESOLV = "/etc/resolv.conf"
HOST_BINDING_OPTION = "com.docker.network.bridge.host_binding_ipv4"


def read_host_resolv(path: str = HOST_RESOLV) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


class NetworkEdges:
    def __init__(self, root: str | Path, network: Any, lookup: Callable[[str], Any], engine_dns: list[str],
                 mapper: PortMapper | None = None, dns: EmbeddedDns | None = None, resolv_path: str = HOST_RESOLV):
        """`network` is the NetworkService (endpoints, resolve, find); `lookup(ref)` finds a
        container record by name or id (raising NotFound)."""
        self.network = network
        self.lookup = lookup
        self.engine_dns = list(engine_dns)
        self.resolv_path = resolv_path
        self.dir = Path(root) / "ports"
        # the network's own applier: `--iptables=false` leaves ports to the userland proxy alone
        self.mapper = mapper or PortMapper(network.prefix, rules=IptablesPorts(network.iptables))
        self.start_env: dict[str, list[str]] = {}  # link variables for the process being started
        self.prepared: dict[str, list[EndpointInfo]] = {}  # files written, endpoints for `attach`
        self.attached: set[str] = set()
        # ids of containers created with --link (None: not gathered yet), so a start looks at
        # them only instead of every record
        self.linkers: set[str] | None = None
        self.dns = dns or EmbeddedDns(self.resolve, etcfiles.upstreams(read_host_resolv(resolv_path)),
                                      reverse=self._reverse)

    # --- before the process: files and environment (worker thread) ---------------------------
    def link_targets(self, c: Any, starting: str = "") -> list[tuple[str, LinkTarget]]:
        """(alias, target) of each --link; the targets must be running (or be `starting`, the
        container whose start is under way)."""
        out = []
        for spec in c.host_config.get("Links") or []:
            name, alias = _link_parts(spec)
            target = self.lookup(name)
            if not target.state.running and target.id != starting:
                raise Conflict(f"Cannot link to a non running container: /{target.name} AS /{c.name}/{alias}")
            ip = self._link_ip(c.id, target.id)
            out.append((alias, LinkTarget(name=target.name, hostname=target.config.get("Hostname") or "",
                                          ip=ip, exposed=tuple(target.config.get("ExposedPorts") or {}),
                                          env=tuple(target.config.get("Env") or []))))
        return out

    def _link_ip(self, source_id: str, target_id: str) -> str:
        """The target's address on the default bridge, else on a network the source shares."""
        theirs = self.network.endpoints(target_id)
        mine = {e.network_id for e in self.network.endpoints(source_id)}
        for wanted in (lambda e: e.is_default_bridge, lambda e: e.network_id in mine, lambda e: True):
            ip = next((e.ip for e in theirs if wanted(e)), "")
            if ip:
                return ip
        return ""

    def prepare(self, c: Any, cdir: str | Path, endpoints: list[EndpointInfo],
                targets: list[tuple[str, LinkTarget]]) -> list[str]:
        """Write the container's hostname, hosts and resolv.conf; return the link environment."""
        d = Path(cdir)
        cfg = c.config
        for name, text in (("hostname", etcfiles.hostname_file(cfg.get("Hostname") or c.id[:12])),
                           ("hosts", self._hosts_text(c, endpoints, targets)),
                           ("resolv.conf", self._resolv_text(c, endpoints))):
            if _same_text(d / name, text):  # written at create: a file create+rename saved
                continue
            tmp = d / f".{name}.tmp"
            tmp.write_text(text)
            os.replace(tmp, d / name)
        return [e for alias, t in targets for e in links.link_env(c.name, alias, t)]

    def _resolv_text(self, c: Any, endpoints: list[EndpointInfo]) -> str:
        hc = c.host_config
        return etcfiles.resolv_conf(read_host_resolv(self.resolv_path), hc.get("Dns") or self.engine_dns,
                                    hc.get("DnsSearch"), hc.get("DnsOptions"),
                                    keep_localhost=(hc.get("NetworkMode") or "") == "host",
                                    internal=any(not e.is_default_bridge for e in endpoints))

    def _hosts_text(self, c: Any, endpoints: list[EndpointInfo], targets: list[tuple[str, LinkTarget]]) -> str:
        cfg, hc = c.config, c.host_config
        gateway = self._default_gateway()
        if (hc.get("NetworkMode") or "") == "host":
            hosts = Path("/etc/hosts").read_text() if Path("/etc/hosts").exists() else etcfiles.HOSTS_BASE
            return hosts + etcfiles.extra_host_lines(hc.get("ExtraHosts"), gateway)
        link_lines = [line for alias, t in targets if t.ip for line in links.hosts_entries(alias, t)]
        ip = endpoints[0].ip if endpoints else ""
        return etcfiles.hosts_file(cfg.get("Hostname") or c.id[:12], cfg.get("Domainname") or "", ip,
                                   hc.get("ExtraHosts"), link_lines, gateway)

    def refresh_linkers(self, target: Any, records: Any, cdir: Callable[[str], Path]) -> None:
        """After `target` (re)started with a new address: rewrite, in place (the running
        containers see the file through a bind mount of its inode), the /etc/hosts of the
        running containers that link to it, as dockerd does."""
        for c in records:
            if c.id == target.id or not c.state.running:
                continue
            if not any(_link_parts(spec)[0] == target.name for spec in c.host_config.get("Links") or []):
                continue
            with contextlib.suppress(Exception):  # a linker whose other targets are gone keeps its file
                text = self._hosts_text(c, self.network.endpoints(c.id), self.link_targets(c, starting=target.id))
                _write_in_place(Path(cdir(c.id)) / "hosts", text)

    async def networks_changed(self, c: Any, cdir: str | Path) -> None:
        """A running container joined or left a network: its /etc/hosts and resolv.conf are
        rewritten in place, and the embedded DNS serves it while it is on a user-defined one."""
        eps = self.network.endpoints(c.id)
        hosts = self._hosts_text(c, eps, self.link_targets(c))
        resolv = self._resolv_text(c, eps)
        await asyncio.to_thread(_write_in_place, Path(cdir) / "hosts", hosts)
        await asyncio.to_thread(_write_in_place, Path(cdir) / "resolv.conf", resolv)
        if any(not e.is_default_bridge for e in eps) and self.network.has_netns(c.id):
            if not self.dns.serves(c.id):
                await self.dns.attach(c.id, self.network.netns_path(c.id), c.host_config.get("Dns") or
                                      self.engine_dns or None)
        else:
            await self.dns.detach(c.id)

    def _default_gateway(self) -> str:
        with contextlib.suppress(Exception):
            net = self.network.find("bridge")
            if net is not None and net.pool is not None:
                return str(net.pool.gateway)
        return ""

    def resolve(self, cid: str, name: str) -> list[str]:
        """Addresses for a name asked by `cid`: a container name, alias or short id on a network
        they share, or "NAME.NETWORK" for that network only (as dockerd's embedded server)."""
        name = name.rstrip(".").lower()
        ips = self.network.resolve(cid, name)
        if not ips:  # a --link alias on a user-defined network resolves to its target there
            ips = self._resolve_link_alias(cid, name)
        if ips or "." not in name:
            return ips
        with contextlib.suppress(Exception):
            for net in list(self.network.nets.values()):
                suffix = "." + net.name.lower()
                if net.builtin or cid not in net.endpoints or not name.endswith(suffix):
                    continue
                head = name[:-len(suffix)]
                return [ep.ip for ep in net.endpoints.values()
                        if head in (ep.container_name.lower(), ep.container_id[:12], *(a.lower() for a in ep.aliases))]
        return []

    def _resolve_link_alias(self, cid: str, name: str) -> list[str]:
        with contextlib.suppress(Exception):
            for spec in self.lookup(cid).host_config.get("Links") or []:
                target, alias = _link_parts(spec)
                if alias.lower() == name:
                    return self.network.resolve(cid, target.lower())
        return []

    def _reverse(self, cid: str, ip: str) -> list[str]:
        """PTR names for an address on a user-defined network `cid` is on: "name.network"."""
        with contextlib.suppress(Exception):
            for net in list(self.network.nets.values()):
                if net.builtin or cid not in net.endpoints:
                    continue
                for ep in net.endpoints.values():
                    if ep.ip == ip:
                        return [f"{ep.container_name}.{net.name}"]
        return []

    # --- around the process: ports and DNS (event loop) --------------------------------------
    async def attach(self, c: Any, endpoints: list[EndpointInfo], netns_path: str | None,
                     restore: bool = False) -> list[PortBinding]:
        """Publish the container's ports (on its first bridge endpoint) and serve DNS in its
        namespace when it is on a user-defined network. All or nothing. With `restore` (an
        engine restart) the host ports recorded at the first start are taken again."""
        cfg, hc = c.config, c.host_config
        bound: list[PortBinding] = []
        if endpoints:
            ep = endpoints[0]
            saved = self._load(c.id) if restore else []
            if saved:  # the same host ports as before the engine restarted
                reqs = [PortRequest(b.proto, b.container_port, b.host_ip, b.host_port, b.host_port) for b in saved]
            else:
                reqs = ports.requests(cfg.get("ExposedPorts"), hc.get("PortBindings"), bool(hc.get("PublishAllPorts")))
                default_ip = self._host_binding_ip(ep.network_name)
                if default_ip:  # the network's host_binding_ipv4 stands in for "every address"
                    reqs = [r if r.host_ip else dataclasses.replace(r, host_ip=default_ip) for r in reqs]
            bound = await self.mapper.publish(c.id, c.name, ep.ip, ep.bridge, reqs, self._icc(ep.network_name))
            self._save(c.id, bound)
            if bound:
                self._hairpin(c.id, ep.network_name)
        self.attached.add(c.id)
        try:
            if netns_path and any(not e.is_default_bridge for e in endpoints):
                servers = hc.get("Dns") or self.engine_dns or None
                await self.dns.attach(c.id, netns_path, servers)
        except BaseException:
            await self.detach(c.id)
            raise
        return bound

    def _host_binding_ip(self, network_name: str) -> str:
        with contextlib.suppress(Exception):
            net = self.network.find(network_name)
            ip = str((net.options or {}).get(HOST_BINDING_OPTION) or "") if net is not None else ""
            return "" if ip in ("", "0.0.0.0") else ip
        return ""

    def _icc(self, network_name: str) -> bool:
        with contextlib.suppress(Exception):
            net = self.network.find(network_name)
            if net is not None:
                return bool(net.icc)  # the default bridge's comes from --icc
        return True

    def _hairpin(self, cid: str, network_name: str) -> None:
        """Let the bridge send a frame back out of the port it came in on, so the container
        reaches its own published port through a host address (the DNAT turns it around)."""
        with contextlib.suppress(Exception):
            _, ep = self.network.endpoint(cid, network_name)
            if ep is not None:
                Path(f"/sys/class/net/{ep.ifname}/brport/hairpin_mode").write_text("1")

    async def detach(self, cid: str) -> None:
        self.attached.discard(cid)
        await self.dns.detach(cid)
        await self.mapper.unpublish(cid)
        with contextlib.suppress(FileNotFoundError):
            (self.dir / f"{cid}.json").unlink()

    def ports_view(self, c: Any) -> dict:
        """NetworkSettings.Ports: empty unless the container runs."""
        if not c.state.running:
            return {}
        return ports.ports_view(c.config.get("ExposedPorts"), self.mapper.bound(c.id))

    def port_summary(self, c: Any) -> list[dict]:
        """ContainerSummary.Ports (what `docker ps` shows in PORTS), from NetworkSettings.Ports:
        nothing once the container stops."""
        out: list[dict] = []
        for key, bindings in self.ports_view(c).items():
            port, _, proto = key.partition("/")
            if not bindings:
                out.append({"PrivatePort": int(port), "Type": proto})
            for b in bindings or []:
                out.append({"IP": b["HostIp"], "PrivatePort": int(port), "PublicPort": int(b["HostPort"]),
                            "Type": proto})
        return out

    def clear_stale(self) -> None:
        """At engine start, before any container starts: drop the port chains a crash left."""
        with contextlib.suppress(Exception):
            self.mapper.rules.remove()

    async def close(self) -> None:
        """At engine stop: proxies, DNS servers and port chains go (restore_running brings them
        back for the containers that kept running)."""
        await self.dns.close()
        await self.mapper.close()

    # --- the host ports of running containers, for an engine restart ------------------------
    def _save(self, cid: str, bound: list[PortBinding]) -> None:
        if not bound:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.dir / f".{cid}.tmp"
        tmp.write_bytes(orjson.dumps([b.to_record() for b in bound]))
        os.replace(tmp, self.dir / f"{cid}.json")

    def _load(self, cid: str) -> list[PortBinding]:
        try:
            return [PortBinding.from_record(r) for r in orjson.loads((self.dir / f"{cid}.json").read_bytes())]
        except (OSError, ValueError, TypeError, IndexError):
            return []


def _write_in_place(path: Path, text: str) -> None:
    """Rewrite a file a running container sees through a bind mount of its inode."""
    with open(path, "r+") as f:
        f.write(text)
        f.truncate()


def _link_parts(spec: str) -> tuple[str, str]:
    """HostConfig.Links as sent ("db:alias") or as stored ("/db:/web/alias")."""
    name, _, alias = spec.partition(":")
    if alias.startswith("/"):
        alias = alias.rsplit("/", 1)[-1]
    return links.parse_link(f"{name}:{alias}" if alias else name)


def check_network_mode(body: dict, hc: dict) -> None:
    """dockerd's create-time conflicts between the network mode and the edge options (400).
    `body` is the create request as sent (before the image's config is merged in)."""
    mode = hc.get("NetworkMode") or ""
    if mode.startswith("container:"):
        if not mode.split(":", 1)[1]:
            raise InvalidArgument("Invalid network mode: invalid container format container:<name|id>")
        for present, what in ((body.get("Hostname"), "conflicting options: hostname and the network mode"),
                              (hc.get("Links"), "conflicting options: container type network can't be used with "
                                                "links. This would result in undefined behavior"),
                              (hc.get("Dns"), "conflicting options: dns and the network mode"),
                              (hc.get("ExtraHosts"), "conflicting options: custom host-to-IP mapping and the "
                                                     "network mode"),
                              (hc.get("PortBindings") or hc.get("PublishAllPorts"),
                               "conflicting options: port publishing and the container type network mode"),
                              (body.get("ExposedPorts"),
                               "conflicting options: port exposing and the container type network mode")):
            if present:
                raise InvalidArgument(what)
    if mode == "host" and hc.get("Links"):
        raise InvalidArgument("conflicting options: host type networking can't be used with links. This would "
                              "result in undefined behavior")


def normalize_links(specs: list[str] | None, source_name: str, lookup: Callable[[str], Any]) -> list[str] | None:
    """HostConfig.Links at create, stored as Docker shows them ("/db:/web/alias"). An unknown
    target is a 400, as in dockerd (a 404 would make the docker CLI try to pull the image)."""
    if not specs:
        return None
    out = []
    for spec in specs:
        name, alias = _link_parts(spec)
        try:
            target = lookup(name)
        except NotFound as e:
            raise InvalidArgument(f"could not get container for {name}: {e.message}") from None
        out.append(links.api_form(source_name, f"{name}:{alias}", target.name))
    return out


def remove_link(link_name: str, lookup: Callable[[str], Any], save: Callable[[Any], None]) -> None:
    """`docker rm --link /web/alias`: drop the link from its parent's HostConfig.Links (the
    parent's /etc/hosts and environment change at its next start)."""
    name = link_name if link_name.startswith("/") else "/" + link_name
    parent, _, _ = name.rpartition("/")
    if not parent:
        raise InvalidArgument("Conflict, cannot remove the default link name of the container")
    try:
        owner = lookup(parent.lstrip("/"))
    except NotFound:
        raise InvalidArgument(f"Cannot get parent {parent} for link name {name}") from None
    links = list(owner.host_config.get("Links") or [])
    kept = [spec for spec in links if not spec.endswith(":" + name)]
    if len(kept) == len(links):
        raise NotFound(f"No such container: {link_name}")
    owner.host_config["Links"] = kept or None
    save(owner)


def link_names(records: Any) -> dict[str, list[str]]:
    """Container name → the link names others know it by ("/web/db"), which `docker ps` lists
    after its own name (ContainerSummary.Names)."""
    out: dict[str, list[str]] = {}
    for c in records:
        for spec in c.host_config.get("Links") or []:
            target, _, link = spec.partition(":")
            if link.startswith("/"):
                out.setdefault(target.lstrip("/"), []).append(link)
    return out


def merge_env(link_env: list[str], env: list[str]) -> list[str]:
    """The link variables, then the container's own, which win on a clash (as dockerd's
    ReplaceOrAppendEnvValues)."""
    own = {e.partition("=")[0] for e in env}
    return [e for e in link_env if e.partition("=")[0] not in own] + list(env)


def _same_text(path: Path, text: str) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(len(text) + 1) == text
    except (OSError, ValueError):
        return False


def install(containers: Any, network: Any, engine_dns: list[str]) -> NetworkEdges:
    """Build the edges for a ContainerService with networking and hang them on its start/stop hooks."""
    edges = NetworkEdges(containers.root, network, containers.get, engine_dns)

    def files(c: Any) -> list:
        eps = network.endpoints(c.id)
        edges.start_env[c.id] = edges.prepare(c, containers.cdir(c.id), eps, edges.link_targets(c))
        edges.refresh_linkers(c, linker_records(c), containers.cdir)
        return eps

    def linker_records(c: Any) -> list:
        if edges.linkers is None:  # once: the records loaded at engine start
            edges.linkers = {x.id for x in containers.store.all() if x.host_config.get("Links")}
        if c.host_config.get("Links"):
            edges.linkers.add(c.id)
        found = [x for x in map(containers.store.find, edges.linkers) if x is not None]
        edges.linkers = {x.id for x in found}  # removed ones drop out
        return found

    def on_prepare(c: Any) -> None:  # in the thread that set the namespace up: no hop of its own
        edges.prepared[c.id] = files(c)

    async def on_start(c: Any) -> None:
        prepared = edges.prepared.pop(c.id, None)
        eps = prepared if prepared is not None else await asyncio.to_thread(files, c)
        path = network.netns_path(c.id) if network.has_netns(c.id) else None
        await edges.attach(c, eps, path)

    async def on_stop(c: Any) -> None:
        edges.start_env.pop(c.id, None)
        edges.prepared.pop(c.id, None)
        await edges.detach(c.id)

    async def on_change(c: Any) -> None:
        await edges.networks_changed(c, containers.cdir(c.id))

    containers.network_prepare_hooks.append(on_prepare)
    containers.network_start_hooks.append(on_start)
    containers.network_stop_hooks.append(on_stop)
    containers.network_change_hooks = [*getattr(containers, "network_change_hooks", []), on_change]
    containers.edges = edges
    return edges


async def restore_running(edges: NetworkEdges, containers: Any) -> None:
    """After an engine restart: take the running containers' host ports again and serve their
    DNS; forget the ports of containers that went while the engine was down."""
    running = {c.id for c in containers.store.all() if c.state.running}
    for record in edges.dir.glob("*.json") if edges.dir.is_dir() else []:
        if record.stem not in running:
            record.unlink(missing_ok=True)
    for c in containers.store.all():
        if not c.state.running or c.id in edges.attached:  # restarted by restore(): already done
            continue
        eps = edges.network.endpoints(c.id)
        path = edges.network.netns_path(c.id) if edges.network.has_netns(c.id) else None
        try:
            await edges.attach(c, eps, path, restore=True)
        except Exception as e:  # the container keeps running; say why its ports are gone
            log.warning("re-publishing ports of %s after restart: %s", c.id[:12], e)
