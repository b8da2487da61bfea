"""Answers for the cluster domain, as the Kubernetes DNS-based service discovery spec (schema
1.1.0) and CoreDNS's kubernetes plugin give them (pure).

`Resolver.reply(data, tcp)` returns the reply bytes, or None when the query is not ours and
goes to the upstream servers: names outside the cluster domain, and reverse names of
addresses no Service owns (CoreDNS's `fallthrough in-addr.arpa ip6.arpa`).

Inside the domain the server is authoritative: a name that does not exist is NXDOMAIN, a name
that exists without records of the asked type is NODATA (NOERROR, no answer); both carry the
zone's SOA in the authority section so resolvers can cache the negative answer (RFC 2308).
TTL is CoreDNS's kubernetes-plugin default, 5 seconds, for answers and the SOA minimum alike.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field

from skiff.cluster.dns.index import CLUSTER_IP, EXTERNAL, HEADLESS, ClusterIndex, Endpoint, Port, fqdn
from skiff.engine.network import dns_codec as codec
from skiff.engine.network.dns_codec import Record

DEFAULT_TTL = 5
SCHEMA_VERSION = "1.1.0"
UDP_LIMIT = 512  # without EDNS0 a UDP reply longer than this is truncated (TC) and retried over TCP
CACHE_SIZE = 10_000  # replies kept while the index does not change


@dataclass
class Answer:
    rcode: int = codec.RCODE_OK
    answers: list[Record] = field(default_factory=list)
    additional: list[Record] = field(default_factory=list)
    negative: bool = False  # NXDOMAIN or NODATA: the SOA goes in the authority section
    chase: str = ""  # an ExternalName's target the upstream servers must resolve (the server does)


def nxdomain() -> Answer:
    return Answer(codec.RCODE_NXDOMAIN, negative=True)


def nodata() -> Answer:
    return Answer(negative=True)


class Resolver:
    def __init__(self, index: ClusterIndex, dns_ip: str = "10.43.0.10", ttl: int = DEFAULT_TTL):
        self.index = index
        self.domain = index.domain
        self.dns_ip = dns_ip
        self.ttl = ttl
        # message after its id → reply after its id, valid for one index generation: most queries
        # repeat (every pod looks up the same few names, each through its search list)
        self._cache: dict[tuple[bytes, bool], bytes] = {}
        self._cache_generation = -1

    # --- the wire ----------------------------------------------------------------------
    def reply(self, data: bytes, tcp: bool = False) -> bytes | None:
        if self._cache_generation != self.index.generation:
            self._cache.clear()
            self._cache_generation = self.index.generation
        key = (data[2:], tcp)
        cached = self._cache.get(key)
        if cached is not None:
            return data[:2] + cached
        out = self._reply(data, tcp)
        if out and len(out) > 2 and len(self._cache) < CACHE_SIZE:
            self._cache[key] = out[2:]
        return out

    def _reply(self, data: bytes, tcp: bool) -> bytes | None:
        try:
            q = codec.parse_query(data)
        except codec.DnsFormatError:
            return formerr(data)
        if q.qclass != codec.CLASS_IN:
            return None
        ans = self.lookup(q.name, q.qtype)
        if ans is None or ans.chase:
            return None
        authority = [self.soa()] if ans.negative else []
        return codec.build_reply(q, ans.rcode, ans.answers, authority, ans.additional, authoritative=True,
                                 max_size=reply_limit(q, tcp))

    def external_chase(self, data: bytes) -> tuple[codec.Query, Record, str] | None:
        """For an A/AAAA query of an ExternalName Service whose target is outside the zone:
        (query, the CNAME record, target), so the server can resolve the target upstream and
        answer both, as CoreDNS does; None otherwise."""
        try:
            q = codec.parse_query(data)
        except codec.DnsFormatError:
            return None
        ans = self.lookup(q.name, q.qtype) if q.qclass == codec.CLASS_IN else None
        if ans is None or not ans.chase:
            return None
        return q, ans.answers[0], ans.chase

    def soa(self) -> Record:
        d = self.domain
        return Record(d, codec.TYPE_SOA, self.ttl, (f"ns.dns.{d}", f"hostmaster.{d}",
                                                    self.index.generation & 0xFFFFFFFF, 7200, 1800, 86400, self.ttl))

    # --- names -------------------------------------------------------------------------
    def is_ours(self, name: str) -> bool:
        return name == self.domain or name.endswith("." + self.domain)

    def lookup(self, name: str, qtype: int) -> Answer | None:
        """The answer for a lowercase name without its trailing dot; None: forward it."""
        if name.endswith(".in-addr.arpa") or name.endswith(".ip6.arpa"):
            return self._reverse(name, qtype)
        if not self.is_ours(name):
            return None
        labels = name[:-len(self.domain)].rstrip(".").split(".") if name != self.domain else []
        if not labels:
            return self._apex(qtype)
        if labels == ["dns-version"]:
            return self._only(qtype, codec.TYPE_TXT, Record(name, codec.TYPE_TXT, self.ttl, SCHEMA_VERSION))
        if labels == ["ns", "dns"]:
            return self._only(qtype, codec.TYPE_A, Record(name, codec.TYPE_A, self.ttl, self.dns_ip))
        if labels in (["svc"], ["pod"], ["dns"]):
            return nodata()  # empty non-terminals
        if labels[-1] == "svc":
            return self._service_names(name, labels[:-1], qtype)
        if labels[-1] == "pod" and len(labels) == 3:
            return self._pod(name, labels[0], qtype)
        return nxdomain()

    def _apex(self, qtype: int) -> Answer:
        if qtype == codec.TYPE_SOA:
            return Answer(answers=[self.soa()])
        if qtype == codec.TYPE_NS:
            d = self.domain
            return Answer(answers=[Record(d, codec.TYPE_NS, self.ttl, f"ns.dns.{d}")],
                          additional=[Record(f"ns.dns.{d}", codec.TYPE_A, self.ttl, self.dns_ip)])
        return nodata()

    def _only(self, qtype: int, rtype: int, record: Record) -> Answer:
        return Answer(answers=[record]) if qtype in (rtype, codec.TYPE_ANY) else nodata()

    def _service_names(self, name: str, labels: list[str], qtype: int) -> Answer:
        if len(labels) == 1:  # <ns>.svc.<zone>
            return nodata() if self.index.has_namespace(labels[0]) else nxdomain()
        ns = labels[-1]
        svc = self.index.service(ns, labels[-2])
        if svc is None:
            return nxdomain()
        if len(labels) == 2:
            return self._service(name, svc.namespace, svc.name, qtype)
        if len(labels) == 3:
            if labels[0].startswith("_"):  # _<proto>.<svc>: a name only on the way to SRV records
                return nodata() if any("_" + p.protocol == labels[0] for p in self._ports(svc)) else nxdomain()
            return self._endpoint(name, ns, svc.name, svc.kind, labels[0], qtype)
        if len(labels) == 4 and labels[0].startswith("_") and labels[1].startswith("_"):
            return self._srv(name, ns, svc.name, svc.kind, labels[0][1:], labels[1][1:], qtype)
        return nxdomain()

    def _ports(self, svc) -> list[Port]:
        if svc.kind == HEADLESS:
            return [p for _, ports in self.index.endpoints(svc.namespace, svc.name) for p in ports]
        return svc.ports

    def _service(self, name: str, ns: str, svc_name: str, qtype: int) -> Answer:
        svc = self.index.service(ns, svc_name)
        assert svc is not None
        if svc.kind == EXTERNAL:
            if not svc.external_name:
                return nodata()
            cname = Record(name, codec.TYPE_CNAME, self.ttl, svc.external_name)
            target = svc.external_name.lower()
            if qtype in (codec.TYPE_A, codec.TYPE_ANY) and self.is_ours(target) and target != name:
                chased = self.lookup(target, codec.TYPE_A)  # a name in the zone: followed here
                if chased is not None and not chased.negative:
                    return Answer(answers=[cname, *[r for r in chased.answers if r.rtype != codec.TYPE_CNAME]])
            elif qtype in (codec.TYPE_A, codec.TYPE_AAAA) and not self.is_ours(target):
                return Answer(answers=[cname], chase=target)
            return Answer(answers=[cname])
        if svc.kind == CLUSTER_IP:
            if qtype in (codec.TYPE_A, codec.TYPE_ANY):
                v4 = [ip for ip in svc.cluster_ips if ":" not in ip]
                return Answer(answers=[Record(name, codec.TYPE_A, self.ttl, ip) for ip in v4]) if v4 else nodata()
            if qtype == codec.TYPE_SRV:
                named = [p for p in svc.ports if p.name]
                weight = _weight(len(named))
                return Answer(answers=[Record(name, codec.TYPE_SRV, self.ttl, (0, weight, p.port, name))
                                       for p in named],
                              additional=self._a_records(name, svc.cluster_ips) if named else [])
            return nodata()
        # headless: the ready endpoints, NXDOMAIN when there are none (the spec's rule)
        endpoints = self.index.endpoints(ns, svc_name)
        if not endpoints:
            return nxdomain()
        if qtype in (codec.TYPE_A, codec.TYPE_ANY):
            v4 = [ep.ip for ep, _ in endpoints if ":" not in ep.ip]
            return Answer(answers=[Record(name, codec.TYPE_A, self.ttl, ip) for ip in v4]) if v4 else nodata()
        if qtype == codec.TYPE_SRV:
            pairs = [(ep, p) for ep, ports in endpoints for p in ports if p.name]
            return self._headless_srv(name, ns, svc_name, pairs)
        return nodata()

    def _headless_srv(self, name: str, ns: str, svc_name: str, pairs: list[tuple[Endpoint, Port]]) -> Answer:
        weight = _weight(len(pairs))
        answers, additional = [], []
        for ep, p in pairs:
            target = fqdn(ep.label, svc_name, ns, "svc", self.domain)
            answers.append(Record(name, codec.TYPE_SRV, self.ttl, (0, weight, p.port, target)))
            if ":" not in ep.ip:
                additional.append(Record(target, codec.TYPE_A, self.ttl, ep.ip))
        return Answer(answers=answers, additional=additional)

    def _endpoint(self, name: str, ns: str, svc_name: str, kind: str, label: str, qtype: int) -> Answer:
        """<hostname>.<svc>.<ns>.svc.<zone>: an endpoint of a headless Service."""
        if kind != HEADLESS:
            return nxdomain()
        ips = [ep.ip for ep, _ in self.index.endpoints(ns, svc_name) if ep.label == label]
        if not ips:
            return nxdomain()
        if qtype in (codec.TYPE_A, codec.TYPE_ANY):
            v4 = [ip for ip in ips if ":" not in ip]
            return Answer(answers=self._a_records(name, v4)) if v4 else nodata()
        return nodata()

    def _srv(self, name: str, ns: str, svc_name: str, kind: str, port: str, proto: str, qtype: int) -> Answer:
        if kind == EXTERNAL:
            return nxdomain()
        if kind == CLUSTER_IP:
            svc = self.index.service(ns, svc_name)
            assert svc is not None
            matching = [p for p in svc.ports if p.name and p.name == port and p.protocol == proto]
            if not matching:
                return nxdomain()
            if qtype not in (codec.TYPE_SRV, codec.TYPE_ANY):
                return nodata()
            target = fqdn(svc_name, ns, "svc", self.domain)
            return Answer(answers=[Record(name, codec.TYPE_SRV, self.ttl, (0, 100, p.port, target)) for p in matching],
                          additional=self._a_records(target, svc.cluster_ips))
        pairs = [(ep, p) for ep, ports in self.index.endpoints(ns, svc_name) for p in ports
                 if p.name and p.name == port and p.protocol == proto]
        if not pairs:
            return nxdomain()
        if qtype not in (codec.TYPE_SRV, codec.TYPE_ANY):
            return nodata()
        return self._headless_srv(name, ns, svc_name, pairs)

    def _pod(self, name: str, dashed: str, qtype: int) -> Answer:
        """<a-b-c-d>.<ns>.pod.<zone> → a.b.c.d, for any namespace (CoreDNS's `pods insecure`, as k3s)."""
        try:
            ip = str(ipaddress.IPv4Address(dashed.replace("-", ".")))
        except ValueError:
            return nxdomain()
        return self._only(qtype, codec.TYPE_A, Record(name, codec.TYPE_A, self.ttl, ip))

    def _reverse(self, name: str, qtype: int) -> Answer | None:
        ip = codec.reverse_name_to_ip(name) if name.endswith(".in-addr.arpa") else _ip6_from_reverse(name)
        names = self.index.reverse(ip) if ip else []
        if not names:
            return None  # not a Service's address: the upstream servers may know it
        if qtype not in (codec.TYPE_PTR, codec.TYPE_ANY):
            return nodata()
        return Answer(answers=[Record(name, codec.TYPE_PTR, self.ttl, n) for n in names])

    def _a_records(self, name: str, ips: list[str]) -> list[Record]:
        return [Record(name, codec.TYPE_A, self.ttl, ip) for ip in ips if ":" not in ip]


def reply_limit(q: codec.Query, tcp: bool) -> int:
    """How long a reply may be: any length over TCP; over UDP 512 bytes, or what the client's
    EDNS0 record offers up to ours."""
    if tcp:
        return 0
    return min(q.edns_size, codec.EDNS_SIZE) if q.edns_size else UDP_LIMIT


def _weight(count: int) -> int:
    """SRV weight when `count` records share a name: an equal share of 100, as CoreDNS gives."""
    return max(1, 100 // count) if count else 100


def _ip6_from_reverse(name: str) -> str | None:
    nibbles = name[:-len(".ip6.arpa")].split(".")
    if len(nibbles) != 32 or not all(len(n) == 1 for n in nibbles):
        return None
    try:
        return str(ipaddress.IPv6Address(bytes.fromhex("".join(reversed(nibbles)))))
    except ValueError:
        return None


def formerr(data: bytes) -> bytes:
    """The reply to a message we cannot read: FORMERR echoing its id, or nothing at all."""
    if len(data) < 12:
        return b""
    qid, flags = struct.unpack("!HH", data[:4])
    return struct.pack("!HHHHHH", qid, 0x8000 | (flags & 0x7900) | codec.RCODE_FORMERR, 0, 0, 0, 0)
