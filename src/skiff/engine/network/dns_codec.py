"""DNS messages, as much of RFC 1035 as the embedded and the cluster resolvers need: read a
query's header and question, write answers (A, PTR; and through `Record`/`build_reply` also NS,
CNAME, SOA, TXT, SRV with authority and additional sections, truncated to a size) or an
empty/error reply. Pure.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from typing import Any

TYPE_A = 1
TYPE_NS = 2
TYPE_CNAME = 5
TYPE_SOA = 6
TYPE_PTR = 12
TYPE_TXT = 16
TYPE_AAAA = 28
TYPE_SRV = 33
TYPE_OPT = 41  # EDNS0's pseudo-record (RFC 6891)
TYPE_ANY = 255
CLASS_IN = 1
RCODE_OK = 0
RCODE_FORMERR = 1
RCODE_SERVFAIL = 2
RCODE_NXDOMAIN = 3
DEFAULT_TTL = 600  # dockerd's embedded resolver answers with this TTL
EDNS_SIZE = 1232  # the UDP payload we offer and accept at most (the DNS flag day 2020 figure)


class DnsFormatError(ValueError):
    pass


@dataclass(frozen=True)
class Query:
    id: int
    flags: int
    name: str  # lowercase, no trailing dot
    qtype: int
    qclass: int
    question: bytes  # the question section as received, echoed in replies
    edns_size: int = 0  # the client's EDNS0 UDP payload size; 0 when it sent no OPT record

    @property
    def recursion_desired(self) -> bool:
        return bool(self.flags & 0x0100)


def _read_name(data: bytes, pos: int) -> tuple[str, int]:
    """A possibly compressed name at `pos` → (name, position after it)."""
    labels: list[str] = []
    end = -1
    jumps = 0
    while True:
        if pos >= len(data):
            raise DnsFormatError("name runs past the message")
        length = data[pos]
        if length & 0xC0 == 0xC0:
            if pos + 1 >= len(data) or jumps > 16:
                raise DnsFormatError("bad compression pointer")
            if end < 0:
                end = pos + 2
            pos = ((length & 0x3F) << 8) | data[pos + 1]
            jumps += 1
            continue
        if length & 0xC0:
            raise DnsFormatError("bad label length")
        pos += 1
        if length == 0:
            break
        label = data[pos:pos + length]
        if len(label) < length:
            raise DnsFormatError("label runs past the message")
        labels.append(label.decode("ascii", errors="replace"))
        pos += length
    return ".".join(labels).lower(), (end if end >= 0 else pos)


def parse_query(data: bytes) -> Query:
    if len(data) < 12:
        raise DnsFormatError("message shorter than its header")
    qid, flags, qdcount = struct.unpack("!HHH", data[:6])
    if flags & 0x8000:
        raise DnsFormatError("not a query")
    if qdcount != 1:
        raise DnsFormatError("expected one question")
    name, pos = _read_name(data, 12)
    if pos + 4 > len(data):
        raise DnsFormatError("question runs past the message")
    qtype, qclass = struct.unpack("!HH", data[pos:pos + 4])
    return Query(qid, flags, name, qtype, qclass, data[12:pos + 4], _edns_size(data, pos + 4))


def _edns_size(data: bytes, pos: int) -> int:
    """The UDP payload size of an OPT record first in the additional section (0 without one)."""
    if struct.unpack("!H", data[10:12])[0] < 1 or pos + 11 > len(data) or data[pos] != 0:
        return 0
    rtype, size = struct.unpack("!HH", data[pos + 1:pos + 5])
    return max(512, size) if rtype == TYPE_OPT else 0


def encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            raw = label.encode("ascii")
            if len(raw) > 63:
                raise DnsFormatError("label longer than 63 bytes")
            out += bytes([len(raw)]) + raw
    return out + b"\x00"


def _header(q: Query, rcode: int, ancount: int, authoritative: bool = False) -> bytes:
    flags = 0x8000 | (q.flags & 0x7900) | 0x0080 | rcode  # QR, opcode+RD copied, RA
    if authoritative:
        flags |= 0x0400
    return struct.pack("!HHHHHH", q.id, flags, 1, ancount, 0, 0)


def reply(q: Query, rcode: int = RCODE_OK) -> bytes:
    """An answer-less reply: NXDOMAIN, SERVFAIL, or NOERROR for a name that has no record of the type."""
    return _header(q, rcode, 0) + q.question


def answer_a(q: Query, addresses: list[str], ttl: int = DEFAULT_TTL) -> bytes:
    records = b"".join(
        b"\xc0\x0c" + struct.pack("!HHIH", TYPE_A, CLASS_IN, ttl, 4) + ipaddress.IPv4Address(a).packed
        for a in addresses)
    return _header(q, RCODE_OK, len(addresses)) + q.question + records


def answer_ptr(q: Query, names: list[str], ttl: int = DEFAULT_TTL) -> bytes:
    records = b""
    for n in names:
        target = encode_name(n)
        records += b"\xc0\x0c" + struct.pack("!HHIH", TYPE_PTR, CLASS_IN, ttl, len(target)) + target
    return _header(q, RCODE_OK, len(names)) + q.question + records


@dataclass(frozen=True)
class Record:
    """One resource record. `data` by type: A an IPv4 string; NS, CNAME, PTR a name; TXT a string;
    SRV (priority, weight, port, target); SOA (mname, rname, serial, refresh, retry, expire, minimum)."""

    name: str
    rtype: int
    ttl: int
    data: Any


def _rdata(r: Record) -> bytes:
    if r.rtype == TYPE_A:
        return ipaddress.IPv4Address(r.data).packed
    if r.rtype in (TYPE_NS, TYPE_CNAME, TYPE_PTR):
        return encode_name(r.data)
    if r.rtype == TYPE_TXT:
        raw = str(r.data).encode()
        return b"".join(bytes([len(raw[i:i + 255])]) + raw[i:i + 255] for i in range(0, max(len(raw), 1), 255))
    if r.rtype == TYPE_SRV:
        priority, weight, port, target = r.data
        return struct.pack("!HHH", priority, weight, port) + encode_name(target)
    if r.rtype == TYPE_SOA:
        mname, rname, *numbers = r.data
        return encode_name(mname) + encode_name(rname) + struct.pack("!IIIII", *numbers)
    raise ValueError(f"cannot encode a record of type {r.rtype}")


def encode_record(r: Record, qname: str = "") -> bytes:
    """The record on the wire; an owner equal to the question's name points at it (offset 12)."""
    owner = b"\xc0\x0c" if qname and r.name.lower().rstrip(".") == qname else encode_name(r.name)
    data = _rdata(r)
    return owner + struct.pack("!HHIH", r.rtype, CLASS_IN, r.ttl, len(data)) + data


def build_reply(q: Query, rcode: int = RCODE_OK, answers: list[Record] | tuple = (),
                authority: list[Record] | tuple = (), additional: list[Record] | tuple = (),
                authoritative: bool = False, max_size: int = 0) -> bytes:
    """A full reply. With `max_size` (512 over UDP, or the client's EDNS0 size) the additional
    section goes first, then the answers that do not fit, with the TC bit set so the client asks
    again over TCP. A query with an OPT record gets ours back."""
    sections = [[encode_record(r, q.name) for r in part] for part in (answers, authority, additional)]
    opt = [b"\x00" + struct.pack("!HHIH", TYPE_OPT, EDNS_SIZE, 0, 0)] if q.edns_size else []

    def assemble(an: list[bytes], ns: list[bytes], ar: list[bytes], truncated: bool) -> bytes:
        flags = 0x8000 | (q.flags & 0x7900) | 0x0080 | rcode | (0x0400 if authoritative else 0)
        if truncated:
            flags |= 0x0200
        ar = ar + opt
        head = struct.pack("!HHHHHH", q.id, flags, 1, len(an), len(ns), len(ar))
        return head + q.question + b"".join(an) + b"".join(ns) + b"".join(ar)

    out = assemble(sections[0], sections[1], sections[2], truncated=False)
    if not max_size or len(out) <= max_size:
        return out
    out = assemble(sections[0], sections[1], [], truncated=False)
    if len(out) <= max_size:
        return out
    size = 12 + len(q.question) + sum(map(len, opt))
    kept: list[bytes] = []
    for rec in sections[0]:
        if size + len(rec) > max_size:
            break
        kept.append(rec)
        size += len(rec)
    return assemble(kept, [], [], truncated=True)


def parse_reply(data: bytes) -> tuple[int, list[list[tuple[str, int, int, Any]]]]:
    """A reply → (flags, [answers, authority, additional]), each record (name, type, ttl, value)
    with values as `Record.data` holds them (for tests, probes and the benchmark)."""
    _, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", data[:12])
    pos = 12
    for _ in range(qd):
        _, pos = _read_name(data, pos)
        pos += 4
    out: list[list[tuple[str, int, int, Any]]] = []
    for count in (an, ns, ar):
        section = []
        for _ in range(count):
            name, pos = _read_name(data, pos)
            rtype, _, ttl, rdlen = struct.unpack("!HHIH", data[pos:pos + 10])
            pos += 10
            value: Any = data[pos:pos + rdlen]
            if rtype == TYPE_A:
                value = str(ipaddress.IPv4Address(value))
            elif rtype in (TYPE_NS, TYPE_CNAME, TYPE_PTR):
                value = _read_name(data, pos)[0]
            elif rtype == TYPE_SRV:
                value = (*struct.unpack("!HHH", value[:6]), _read_name(data, pos + 6)[0])
            elif rtype == TYPE_SOA:
                mname, p = _read_name(data, pos)
                rname, p = _read_name(data, p)
                value = (mname, rname, *struct.unpack("!IIIII", data[p:p + 20]))
            elif rtype == TYPE_TXT:
                value = value[1:1 + value[0]].decode() if value else ""
            section.append((name, rtype, ttl, value))
            pos += rdlen
        out.append(section)
    return flags, out


def build_query(name: str, qtype: int = TYPE_A, qid: int = 0x1234, edns_size: int = 0) -> bytes:
    """A recursive query, with an EDNS0 OPT record offering `edns_size` (for tests and probes)."""
    opt = b"\x00" + struct.pack("!HHIH", TYPE_OPT, edns_size, 0, 0) if edns_size else b""
    return (struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1 if opt else 0) + encode_name(name)
            + struct.pack("!HH", qtype, CLASS_IN) + opt)


def parse_answers(data: bytes) -> tuple[int, list[tuple[int, str]]]:
    """A reply → (rcode, [(type, value)]) for A and PTR records (for tests and probes)."""
    _, flags, qd, an = struct.unpack("!HHHH", data[:8])
    pos = 12
    for _ in range(qd):
        _, pos = _read_name(data, pos)
        pos += 4
    out: list[tuple[int, str]] = []
    for _ in range(an):
        _, pos = _read_name(data, pos)
        rtype, _, _, rdlen = struct.unpack("!HHIH", data[pos:pos + 10])
        pos += 10
        rdata = data[pos:pos + rdlen]
        if rtype == TYPE_A:
            out.append((rtype, str(ipaddress.IPv4Address(rdata))))
        elif rtype == TYPE_PTR:
            out.append((rtype, _read_name(data, pos)[0]))
        pos += rdlen
    return flags & 0xF, out


def reverse_name_to_ip(name: str) -> str | None:
    """"4.0.17.172.in-addr.arpa" → "172.17.0.4"; None for anything else."""
    suffix = ".in-addr.arpa"
    if not name.endswith(suffix):
        return None
    parts = name[:-len(suffix)].split(".")
    if len(parts) != 4:
        return None
    try:
        return str(ipaddress.IPv4Address(".".join(reversed(parts))))
    except ValueError:
        return None
