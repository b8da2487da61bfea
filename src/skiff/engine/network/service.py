"""NetworkService: Docker's networks (bridge, host, none and user-defined bridges) and the
endpoints of containers on them.

State lives in `networks/<id>.json` (config, IPAM pool with its allocations, endpoints) and
`networks/<id>.journal` (endpoint changes since, appended: journal.py), so addresses survive
an engine restart. Host objects — bridges, veth pairs, namespace files
under `netns/`, iptables chains — carry the instance prefix; `startup` removes what a crash
left behind, `shutdown` removes bridges and chains nothing uses any more.

Every mutation runs under one lock in a worker thread (netlink and iptables block); the
async methods are what the API calls, and they publish the network events. The container
side (attach at start, detach at exit, hot-plug) is in `attach.py`, mixed in here.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import fcntl
import hashlib
import logging
import os
import queue
import threading
from pathlib import Path
from typing import Any

import orjson

from skiff.common.errors import Conflict, Forbidden, InvalidArgument, NotFound
from skiff.common.ids import new_id
from skiff.common.timefmt import now_rfc3339, parse_rfc3339
from skiff.engine.images.filters import parse_until
from skiff.engine.network import config as netconfig
from skiff.engine.network import ipam, journal, model, netdev, netns, rules
from skiff.engine.network.attach import AttachMixin
from skiff.engine.network.config import NetworkConfig
from skiff.engine.network.iptables import Iptables
from skiff.engine.network.model import Network

log = logging.getLogger("skiff.engine.network")

# Engines on one host pick free subnets under this lock, so two starting at once never take the same.
SUBNET_LOCK = "/run/lock/skiff-network-subnets.lock"


class NetworkService(AttachMixin):
    def __init__(self, root: str | Path, events: Any, cfg: NetworkConfig, engine_id: str = ""):
        self.root = Path(root)
        self.dir = self.root / "networks"
        self.netns_dir = self.root / "netns"
        self.events = events
        self.cfg = cfg
        self.prefix = cfg.prefix
        self.engine_id = engine_id
        self.iptables = Iptables(cfg.prefix, cfg.iptables)
        self.nets: dict[str, Network] = {}
        self.namespaces: set[str] = set()  # containers whose netns/<id> this engine holds
        self.members: dict[str, dict[str, str]] = {"host": {}, "none": {}}  # running cid -> name
        self.lock = threading.RLock()
        self._events: list[tuple[str, str, dict[str, str]]] = []
        self._doomed: queue.Queue[str] = queue.Queue()
        self._reaper: threading.Thread | None = None
        self.journals = journal.Journals(self.dir)
        self.spare_ns = netns.SpareNamespace()  # made ahead for the next bridge container

    # --- deleting veths off the hot path -------------------------------------------------------
    def _reap(self, ifname: str) -> None:
        """Delete an interface in the background: the kernel takes ~15 ms per veth deletion
        (an RCU grace period), which a container's exit or `run --rm` need not wait for."""
        self._doomed.put(ifname)
        if self._reaper is None or not self._reaper.is_alive():
            self._reaper = threading.Thread(target=self._reap_loop, name="skiff-net-reaper", daemon=True)
            self._reaper.start()

    def _reap_loop(self) -> None:
        while True:
            name = self._doomed.get()
            try:
                netdev.delete_link(name)
            except Exception as e:  # startup removes what is left after a crash
                log.warning("cannot delete %s: %s", name, e)
            finally:
                self._doomed.task_done()

    def drain(self) -> None:
        """Wait until every interface handed to the reaper is gone."""
        self._doomed.join()

    # --- records -----------------------------------------------------------------------------
    def _save(self, net: Network) -> None:
        if net.builtin and net.driver != "bridge":
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{net.id}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(net.to_dict()))
        os.replace(tmp, path)
        self.journals.reset(net.id)

    def _save_endpoint_change(self, net: Network, line: bytes) -> None:
        """A plug or unplug: one line appended to the network's journal (journal.py), or the
        whole record saved when the journal is due for compaction."""
        if not self.journals.append(net.id, line):
            self._save(net)

    def _load(self) -> None:
        self.nets.clear()
        if self.dir.is_dir():
            for path in self.dir.glob("*.json"):
                try:
                    net = Network.from_dict(orjson.loads(path.read_bytes()))
                except (ValueError, TypeError, KeyError) as e:
                    log.warning("ignoring unreadable network record %s: %s", path, e)
                    continue
                self.journals.loaded(net.id, journal.replay(net, self.journals.read(net.id)))
                self.nets[net.id] = net

    def _event(self, action: str, net: Network, **attrs: str) -> None:
        self._events.append((action, net.id, {"name": net.name, "type": net.driver, **attrs}))

    def flush_events(self) -> None:
        """Publish what the worker threads recorded (the event bus belongs to the event loop)."""
        with self.lock:
            pending, self._events = self._events, []
        for action, nid, attrs in pending:
            self.events.publish("network", action, nid, attrs)

    # --- lookup ------------------------------------------------------------------------------
    def get(self, ref: str) -> Network:
        """By full name, full id, or unique id prefix (Docker's order)."""
        with self.lock:
            for net in self.nets.values():
                if net.name == ref:
                    return net
            if ref in self.nets:
                return self.nets[ref]
            hits = [n for n in self.nets.values() if ref and n.id.startswith(ref)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise NotFound(f"network {ref} is ambiguous ({len(hits)} matches found on id)")
        raise NotFound(f"network {ref} not found")

    def find(self, ref: str) -> Network | None:
        try:
            return self.get(ref)
        except NotFound:
            return None

    # --- startup and shutdown ----------------------------------------------------------------
    def startup(self, running: dict[str, tuple[str, str]]) -> None:
        """Load records, make the built-in networks and every bridge exist, drop endpoints of
        containers that no longer run, and remove what a crashed engine left on the host.
        `running`: id -> (name, network mode) of the containers recorded running."""
        with self.lock:
            self._load()
            for cid, (name, mode) in running.items():
                if mode in self.members:
                    self.members[mode][cid] = name
            for name, driver in (("host", "host"), ("none", "null")):
                nid = hashlib.sha256(f"{self.engine_id}/{name}".encode()).hexdigest()
                self.nets[nid] = Network(id=nid, name=name, driver=driver, created=now_rfc3339())
            self._ensure_default_bridge()
            for net in list(self.nets.values()):
                for cid in [c for c in net.endpoints if c not in running]:
                    self._unplug(net, cid)
            keep_links = {n.bridge for n in self.nets.values() if n.driver == "bridge"}
            keep_links |= {ep.ifname for n in self.nets.values() for ep in n.endpoints.values()}
            for name in netdev.links_with_prefix(self.prefix):
                if model.is_engine_link(self.prefix, name) and name not in keep_links:
                    log.info("removing stale interface %s", name)
                    netdev.delete_link(name)
            if self.netns_dir.is_dir():
                for path in self.netns_dir.iterdir():
                    if path.name in running and netns.is_mounted(str(path)):
                        self.namespaces.add(path.name)
                    else:
                        netns.remove(str(path))
            if self.cfg.ip_forward:
                with contextlib.suppress(OSError):
                    Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")
            for net in self.nets.values():
                if net.driver == "bridge":
                    self._ensure_bridge(net)
                    self._save(net)
            self.iptables.setup()
            self._apply_rules()

    def shutdown(self) -> None:
        """Remove bridges no container uses; with no endpoints left at all, our chains too
        (containers that keep running keep their bridges and NAT)."""
        self.drain()
        with self.lock:
            busy = False
            for net in self.nets.values():
                if net.driver != "bridge":
                    continue
                if net.endpoints:
                    busy = True
                elif not net.external_bridge:
                    netdev.delete_link(net.bridge)
            if not busy:
                self.iptables.teardown()
            else:
                self._apply_rules()
            self.journals.close()
        self.spare_ns.close()

    def _taken_subnets(self, exclude: Network | None = None) -> list[ipam.IPv4Network]:
        """Subnets of our networks and every host route not through our own bridges (other
        engines' bridges, the host's own links)."""
        own = {n.bridge for n in self.nets.values() if n.bridge}
        taken = [n.pool.subnet for n in self.nets.values() if n.pool and n is not exclude]
        taken += [ipam.IPv4Network(cidr, strict=False) for cidr, dev in netdev.host_routes() if dev not in own]
        return taken

    @contextlib.contextmanager
    def _subnet_lock(self):
        fd = os.open(SUBNET_LOCK if os.path.isdir(os.path.dirname(SUBNET_LOCK)) else "/tmp/skiff-network-subnets.lock",
                     os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _ensure_default_bridge(self) -> None:
        cfg = self.cfg
        old = next((n for n in self.nets.values() if n.is_default), None)
        if not cfg.default_bridge_enabled:
            if old is not None and not old.endpoints:
                if not old.external_bridge:
                    netdev.delete_link(old.bridge)
                self._drop_record(old)
            return
        subnet = gateway = None
        external = bool(cfg.bridge)
        if cfg.bip:
            subnet, gateway = netconfig.parse_bip(cfg.bip)
        elif external:
            kind = netdev.link_kind(cfg.bridge)
            if kind is None:
                raise InvalidArgument(f"bridge {cfg.bridge} not found: create it first, or leave out -b")
            if kind != "bridge":
                raise InvalidArgument(f"-b {cfg.bridge}: it is a {kind or 'network'} device, not a bridge")
            addrs = netdev.bridge_addresses(cfg.bridge)
            if addrs:
                gateway, plen = addrs[0]
                subnet = str(ipam.IPv4Network(f"{gateway}/{plen}", strict=False))
        options = netconfig.default_options(cfg)
        with self._subnet_lock():
            if old is not None and old.pool is not None:
                same = (subnet is None and old.bridge == cfg.default_bridge_name) or (
                    subnet == str(old.pool.subnet) and gateway == str(old.pool.gateway))
                # a picked subnet another engine took while ours was down is given up
                taken = subnet is None and not external and any(
                    old.pool.subnet.overlaps(t) for t in self._taken_subnets(exclude=old))
                if old.endpoints or (same and not taken):
                    old.options = options
                    old.bridge = cfg.default_bridge_name
                    old.external_bridge = external
                    self._ensure_bridge(old)  # under the lock: the subnet is claimed on the host
                    return
                self._drop_record(old)
            if subnet is None:
                subnet = str(ipam.pick_default_subnet(self._taken_subnets()))
            pool = ipam.Pool.create(subnet, gateway, cfg.fixed_cidr or None)
            net = Network(id=old.id if old else new_id(), name=model.DEFAULT_BRIDGE, driver="bridge",
                          created=old.created if old else now_rfc3339(), bridge=cfg.default_bridge_name,
                          options=options, pool=pool, external_bridge=external)
            self.nets[net.id] = net
            self._ensure_bridge(net)
        self._save(net)

    def _drop_record(self, net: Network) -> None:
        self.nets.pop(net.id, None)
        with contextlib.suppress(FileNotFoundError):
            (self.dir / f"{net.id}.json").unlink()
        self.journals.drop(net.id)

    def _ensure_bridge(self, net: Network) -> None:
        assert net.pool is not None
        netdev.ensure_bridge(net.bridge, str(net.pool.gateway), net.pool.subnet.prefixlen, net.mtu,
                             exclusive=not net.external_bridge)

    def _apply_rules(self) -> None:
        if not self.cfg.iptables:
            return
        policies = [rules.BridgePolicy(n.bridge, str(n.pool.subnet), n.internal, n.icc, n.masquerade)
                    for n in sorted(self.nets.values(), key=lambda n: n.created)
                    if n.driver == "bridge" and n.pool is not None]
        self.iptables.set_chains(rules.render(self.iptables.chains, policies))

    # --- the API's verbs ---------------------------------------------------------------------
    async def create(self, body: dict) -> dict:
        result = await asyncio.to_thread(self._create, dict(body or {}))
        self.flush_events()
        return result

    def _create(self, body: dict) -> dict:
        name = body.get("Name") or ""
        if not name:
            raise InvalidArgument("network name must not be empty")
        driver = body.get("Driver") or "bridge"
        if driver != "bridge":
            if driver in ("host", "null"):
                raise Forbidden(f"only one instance of \"{driver}\" network is allowed")
            raise NotFound(f"plugin \"{driver}\" not found")
        if name in model.BUILTIN_NAMES:
            raise Forbidden(f"{name} is a pre-defined network and cannot be created")
        if body.get("EnableIPv6"):
            raise InvalidArgument("IPv6 networks are not supported by this engine")
        ipam_body = body.get("IPAM") or {}
        if (ipam_body.get("Driver") or "default") != "default":
            raise NotFound(f"plugin \"{ipam_body['Driver']}\" not found")
        configs = [c for c in ipam_body.get("Config") or [] if c.get("Subnet") or c.get("Gateway") or c.get("IPRange")]
        if len(configs) > 1:
            raise InvalidArgument("this engine supports one IPv4 subnet per network")
        options = {str(k): str(v) for k, v in (body.get("Options") or {}).items()}
        for key in (model.OPT_ICC, model.OPT_MASQ):
            model.parse_bool_option(options, key, True)
        with self.lock:
            if self.find(name) is not None and self.get(name).name == name:
                raise Conflict(f"network with name {name} already exists")
            with self._subnet_lock():
                pool = self._pool_for(configs[0] if configs else None)
                nid = new_id()
                bridge, external = self._bridge_for(options.get(model.OPT_BRIDGE_NAME), nid)
                net = Network(id=nid, name=name, driver="bridge", created=now_rfc3339(), bridge=bridge,
                              internal=bool(body.get("Internal")), attachable=bool(body.get("Attachable")),
                              options=options, labels=dict(body.get("Labels") or {}), pool=pool,
                              external_bridge=external)
                self.nets[nid] = net
                try:
                    self._ensure_bridge(net)
                    self._apply_rules()
                    self._save(net)
                except BaseException:
                    self.nets.pop(nid, None)
                    if not external:
                        netdev.delete_link(bridge)
                    raise
            self._event("create", net)
        return {"Id": nid, "Warning": ""}

    def _pool_for(self, cfg: dict | None) -> ipam.Pool:
        """The pool an IPAM.Config entry asks for, or a free default subnet."""
        if cfg is None:
            return ipam.Pool.create(str(ipam.pick_default_subnet(self._taken_subnets())))
        if not cfg.get("Subnet"):
            raise InvalidArgument("invalid network config: a gateway or ip-range needs a subnet")
        pool = ipam.Pool.create(cfg["Subnet"], cfg.get("Gateway") or None, cfg.get("IPRange") or None)
        ipam.check_no_overlap(pool.subnet, [(n.name, n.pool.subnet) for n in self.nets.values() if n.pool])
        for host_name, addr in (cfg.get("AuxiliaryAddresses") or {}).items():  # --aux-address
            pool.allocate(f"{model.AUX_OWNER}{host_name}", addr)
        return pool

    def _bridge_for(self, requested: str | None, nid: str) -> tuple[str, bool]:
        """(bridge name, whether it exists already): ours is `<P>-<id>`; a name given with
        com.docker.network.bridge.name may be an existing bridge, used but never deleted."""
        bridge = requested or model.bridge_name(self.prefix, nid)
        if len(bridge) > model.IFNAMSIZ:
            raise InvalidArgument(f"invalid bridge name {bridge!r}: longer than {model.IFNAMSIZ} characters")
        if any(n.bridge == bridge for n in self.nets.values()):
            raise Conflict(f"bridge name {bridge} is already used by another network")
        kind = netdev.link_kind(bridge) if requested else None
        if kind not in (None, "bridge"):
            raise Conflict(f"cannot use {bridge} as a bridge: the host has a {kind or 'network'} device by that name")
        return bridge, kind == "bridge"

    def list(self, filters: dict[str, builtins.list[str]]) -> builtins.list[dict]:
        with self.lock:
            nets = sorted(self.nets.values(), key=lambda n: n.created)
            return [model.network_view(n, with_containers=False) for n in nets if model.matches(n, filters)]

    def inspect(self, ref: str) -> dict:
        net = self.get(ref)
        with self.lock:
            view = model.network_view(net)
            for cid, name in self.members.get(net.name, {}).items() if net.builtin else ():
                view["Containers"][cid] = {"Name": name, "EndpointID": "", "MacAddress": "", "IPv4Address": "",
                                           "IPv6Address": ""}
            return view

    async def remove(self, ref: str) -> None:
        await asyncio.to_thread(self._remove, ref)
        self.flush_events()

    def _remove(self, ref: str) -> None:
        with self.lock:
            net = self.get(ref)
            if net.builtin:
                raise Forbidden(f"{net.name} is a pre-defined network and cannot be removed")
            if net.endpoints:
                ep = next(iter(net.endpoints.values()))
                raise Forbidden(f"error while removing network: network {net.name} has active endpoints "
                                f"(name:\"{ep.container_name}\" id:\"{ep.container_id[:12]}\")")
            self._destroy(net)

    def _destroy(self, net: Network) -> None:
        self.nets.pop(net.id, None)
        if not net.external_bridge:
            netdev.delete_link(net.bridge)
        self._apply_rules()
        with contextlib.suppress(FileNotFoundError):
            (self.dir / f"{net.id}.json").unlink()
        self.journals.drop(net.id)
        self._event("destroy", net)

    async def prune(self, filters: dict[str, builtins.list[str]]) -> builtins.list[str]:
        names = await asyncio.to_thread(self._prune, filters)
        self.flush_events()
        return names

    def _prune(self, filters: dict[str, builtins.list[str]]) -> builtins.list[str]:
        until = filters.pop("until", None)
        label_not = filters.pop("label!", None)
        gone = []
        with self.lock:
            for net in sorted(self.nets.values(), key=lambda n: n.created):
                if net.builtin or net.endpoints or not model.matches(net, filters):
                    continue
                if until and parse_rfc3339(net.created) >= parse_until(until[0]):
                    continue
                if label_not and any(_label_hit(net.labels, v) for v in label_not):
                    continue
                self._destroy(net)
                gone.append(net.name)
        return gone


def _label_hit(labels: dict, v: str) -> bool:
    k, sep, want = v.partition("=")
    return k in labels and (not sep or labels[k] == want)

