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


def hosts_file(hostname: str, domainname: str = "", ip: str = "", extra_hosts: list[str] | None = None) -> str:
    """localhost lines, the extra hosts (`name:ip`), then the container's own name."""
    text = HOSTS_BASE
    for entry in extra_hosts or []:
        name, sep, addr = entry.partition(":")
        if not sep:
            continue
        text += f"{addr}\t{name}\n"
    fqdn = f"{hostname}.{domainname}\t{hostname}" if domainname else hostname
    text += f"{ip or '127.0.0.1'}\t{fqdn}\n"
    return text


def resolv_conf(host_text: str, dns: list[str] | None = None, search: list[str] | None = None,
                options: list[str] | None = None, keep_localhost: bool = False) -> str:
    """The host's resolv.conf with loopback nameservers removed (they mean nothing in another netns),
    Docker's public fallbacks when none remain, and `--dns*` flags replacing their lines."""
    nameservers: list[str] = []
    searches: list[str] = []
    opts: list[str] = []
    other: list[str] = []
    for line in host_text.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith(("#", ";")):
            continue
        if fields[0] == "nameserver" and len(fields) > 1:
            ns = fields[1]
            if keep_localhost or not (ns.startswith("127.") or ns == "::1"):
                nameservers.append(ns)
        elif fields[0] in ("search", "domain"):
            searches = fields[1:]
        elif fields[0] == "options":
            opts.extend(fields[1:])
        else:
            other.append(line)
    if dns:
        nameservers = list(dns)
    elif not nameservers and not keep_localhost:
        nameservers = list(DEFAULT_DNS)
    if search:
        searches = [] if search == ["."] else list(search)
    if options:
        opts = list(options)
    out = [f"nameserver {ns}" for ns in nameservers]
    if searches:
        out.append("search " + " ".join(searches))
    if opts:
        out.append("options " + " ".join(opts))
    out.extend(other)
    return "\n".join(out) + "\n"
