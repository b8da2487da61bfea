"""Contents of the files Docker bind-mounts over a container's /etc: hostname, hosts, resolv.conf.

Pure: the service writes the returned text into `containers/<id>/`.
"""

from __future__ import annotations

HOSTS_BASE = (
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "ff00::0\tip6-mcastprefix\n"
    "ff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)

DEFAULT_DNS = ["8.8.8.8", "8.8.4.4"]


def hostname_file(hostname: str) -> str:
    return hostname + "\n"


def extra_host_lines(extra_hosts: list[str] | None, host_gateway: str = "") -> str:
    """`--add-host name:ip` (or `name=ip`) → "ip\tname" lines; the address `host-gateway` is
    the default bridge's gateway, as dockerd's --host-gateway-ip defaults to."""
    text = ""
    for entry in extra_hosts or []:
        name, sep, addr = entry.partition("=") if "=" in entry else entry.partition(":")
        if not sep:
            continue
        if addr == "host-gateway":
            if not host_gateway:
                continue
            addr = host_gateway
        text += f"{addr.strip('[]')}\t{name}\n"
    return text


def hosts_file(hostname: str, domainname: str = "", ip: str = "", extra_hosts: list[str] | None = None,
               links: list[tuple[str, str]] | None = None, host_gateway: str = "") -> str:
    """localhost lines, the extra hosts (`name:ip`), the linked containers (ip, "alias hostname
    name"), then the container's own name with its address, in dockerd's order."""
    text = HOSTS_BASE + extra_host_lines(extra_hosts, host_gateway)
    for link_ip, names in links or []:
        text += f"{link_ip}\t{names}\n"
    fqdn = f"{hostname}.{domainname}\t{hostname}" if domainname else hostname
    text += f"{ip or '127.0.0.1'}\t{fqdn}\n"
    return text


INTERNAL_DNS = "127.0.0.11"


def parse_resolv(host_text: str) -> tuple[list[str], list[str], list[str], list[str]]:
    """(nameservers, search domains, options, other lines) of a resolv.conf."""
    nameservers: list[str] = []
    searches: list[str] = []
    opts: list[str] = []
    other: list[str] = []
    for line in host_text.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith(("#", ";")):
            continue
        if fields[0] == "nameserver" and len(fields) > 1:
            nameservers.append(fields[1])
        elif fields[0] in ("search", "domain"):
            searches = fields[1:]
        elif fields[0] == "options":
            opts.extend(fields[1:])
        else:
            other.append(line)
    return nameservers, searches, opts, other


def _is_loopback(ns: str) -> bool:
    return ns.startswith("127.") or ns == "::1"


def upstreams(host_text: str, dns: list[str] | None = None) -> list[str]:
    """The servers the embedded DNS forwards to for a container on a user-defined network: its
    `--dns` (or the engine's), else the host's. The forwarding happens on the host's side, so
    loopback servers are kept."""
    return list(dns) if dns else parse_resolv(host_text)[0]


def resolv_conf(host_text: str, dns: list[str] | None = None, search: list[str] | None = None,
                options: list[str] | None = None, keep_localhost: bool = False, internal: bool = False) -> str:
    """The host's resolv.conf with loopback nameservers removed (they mean nothing in another netns),
    Docker's public fallbacks when none remain, and `--dns*` flags replacing their lines.
    With `internal` (a user-defined network) the only nameserver is the embedded DNS server,
    which forwards to the others, and `ndots:0` is added unless ndots is set, as dockerd does."""
    nameservers, searches, opts, other = parse_resolv(host_text)
    if not keep_localhost:
        nameservers = [ns for ns in nameservers if not _is_loopback(ns)]
    if dns:
        nameservers = list(dns)
    elif not nameservers and not keep_localhost:
        nameservers = list(DEFAULT_DNS)
    if search:
        searches = [] if search == ["."] else list(search)
    if options:
        opts = list(options)
    if internal:
        nameservers = [INTERNAL_DNS]
        if not any(o.startswith("ndots:") for o in opts):
            opts.append("ndots:0")
    out = [f"nameserver {ns}" for ns in nameservers]
    if searches:
        out.append("search " + " ".join(searches))
    if opts:
        out.append("options " + " ".join(opts))
    out.extend(other)
    return "\n".join(out) + "\n"
