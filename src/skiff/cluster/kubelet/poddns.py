"""A pod's /etc/resolv.conf and /etc/hosts, as the kubelet forms them (pkg/kubelet/network/dns
and the managed hosts file) and containerd writes them (k3s's runtime).

Pure builders (`dns_config`, `resolv_conf`, `hosts_file`) and `PodDns`, which writes the two
files under the pod's directory and hands back the binds every container of the pod gets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

MAX_NAMESERVERS = 3  # the resolver reads no more (glibc's MAXNS); the API validates the same
MAX_SEARCH_PATHS = 32  # Kubernetes 1.28+ (expanded DNS config)
MAX_SEARCH_CHARS = 2048
DEFAULT_OPTIONS = ["ndots:5"]
HOSTS_HEADER = "# Kubernetes-managed hosts file.\n"
HOSTS_HEADER_HOST_NETWORK = "# Kubernetes-managed hosts file (host network).\n"
HOSTS_BASE = ("127.0.0.1\tlocalhost\n"
              "::1\tlocalhost ip6-localhost ip6-loopback\n"
              "fe00::0\tip6-localnet\n"
              "fe00::0\tip6-mcastprefix\n"
              "fe00::1\tip6-allnodes\n"
              "fe00::2\tip6-allrouters\n")


@dataclass
class DnsConfig:
    servers: list[str] = field(default_factory=list)
    searches: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)


def parse_host_resolv(text: str) -> DnsConfig:
    """The node's resolv.conf as the kubelet reads it: the last search line wins, "." and
    trailing dots dropped from search domains; options accumulate."""
    cfg = DnsConfig()
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";", 1)[0].split()
        if not fields:
            continue
        if fields[0] == "nameserver" and len(fields) > 1:
            cfg.servers.append(fields[1])
        elif fields[0] in ("search", "domain"):
            cfg.searches = [s.rstrip(".") for s in fields[1:] if s != "."]
        elif fields[0] == "options":
            cfg.options.extend(fields[1:])
    return cfg


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def dns_type(pod: dict, has_cluster_dns: bool) -> str:
    """"cluster", "host" or "none", from dnsPolicy and hostNetwork as the kubelet decides."""
    spec = pod.get("spec") or {}
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    if policy == "None":
        return "none"
    if policy == "ClusterFirstWithHostNet" or (policy == "ClusterFirst" and not spec.get("hostNetwork")):
        return "cluster" if has_cluster_dns else "host"
    return "host"  # Default, and ClusterFirst on the host's network


def merge_options(existing: list[str], extra: list[dict]) -> list[str]:
    """Options by name, the pod's dnsConfig overriding the base's ("ndots:5" + {ndots: 2} → "ndots:2")."""
    merged: dict[str, str] = {}
    for option in existing:
        name, _, value = option.partition(":")
        merged[name] = value
    for op in extra:
        merged[op.get("name") or ""] = "" if op.get("value") is None else str(op["value"])
    return [f"{k}:{v}" if v else k for k, v in merged.items() if k]


def fit_limits(cfg: DnsConfig) -> list[str]:
    """Trim to the resolver's limits; the kubelet's DNSConfigForming warnings for what was cut."""
    warnings = []
    if len(cfg.servers) > MAX_NAMESERVERS:
        cfg.servers = cfg.servers[:MAX_NAMESERVERS]
        warnings.append("Nameserver limits were exceeded, some nameservers have been omitted, "
                        f"the applied nameserver line is: {' '.join(cfg.servers)}")
    searches = cfg.searches[:MAX_SEARCH_PATHS]
    while searches and len(" ".join(searches)) > MAX_SEARCH_CHARS:
        searches.pop()
    if searches != cfg.searches:
        cfg.searches = searches
        warnings.append("Search Line limits were exceeded, some search paths have been omitted, "
                        f"the applied search line is: {' '.join(searches)}")
    return warnings


def dns_config(pod: dict, cluster_dns: list[str], domain: str, host_resolv: str) -> tuple[DnsConfig, list[str]]:
    """The pod's resolver settings and the warnings (events) forming them raised."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    kind = dns_type(pod, bool(cluster_dns))
    warnings = []
    if kind == "host" and not cluster_dns and dns_type(pod, True) == "cluster":
        warnings.append('kubelet does not have ClusterDNS IP configured and cannot create Pod using '
                        '"ClusterFirst" policy. Falling back to "Default" policy.')
    cfg = DnsConfig() if kind == "none" else parse_host_resolv(host_resolv)
    if kind == "cluster":
        ns = meta.get("namespace") or "default"
        cluster_search = [f"{ns}.svc.{domain}", f"svc.{domain}", domain] if domain else []
        cfg = DnsConfig(list(cluster_dns), _unique(cluster_search + cfg.searches), list(DEFAULT_OPTIONS))
    extra = spec.get("dnsConfig")
    if extra:
        cfg.servers = _unique(cfg.servers + list(extra.get("nameservers") or []))
        cfg.searches = _unique(cfg.searches + list(extra.get("searches") or []))
        cfg.options = merge_options(cfg.options, extra.get("options") or [])
    return cfg, warnings + fit_limits(cfg)


def resolv_conf(cfg: DnsConfig, host_resolv: str) -> str:
    """containerd's rendering (search, nameservers, options); an empty config copies the host's file."""
    if not (cfg.servers or cfg.searches or cfg.options):
        return host_resolv
    out = ""
    if cfg.searches:
        out += f"search {' '.join(cfg.searches)}\n"
    out += "".join(f"nameserver {s}\n" for s in cfg.servers)
    if cfg.options:
        out += f"options {' '.join(cfg.options)}\n"
    return out


def hostname_and_domain(pod: dict, domain: str) -> tuple[str, str]:
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    hostname = spec.get("hostname") or (meta.get("name") or "")[:63]
    sub = spec.get("subdomain") or ""
    return hostname, f"{sub}.{meta.get('namespace') or 'default'}.svc.{domain}" if sub else ""


def _aliases(pod: dict) -> str:
    aliases = (pod.get("spec") or {}).get("hostAliases") or []
    if not aliases:
        return ""
    return "\n# Entries added by HostAliases.\n" + "".join(
        f"{a.get('ip', '')}\t{chr(9).join(a.get('hostnames') or [])}\n" for a in aliases)


def hosts_file(pod: dict, pod_ips: list[str], domain: str, host_hosts: str = "") -> str:
    """The kubelet's managed /etc/hosts: for a pod on the host's network the node's file, else
    localhost lines and the pod's own name (its FQDN first with a subdomain); hostAliases last."""
    if (pod.get("spec") or {}).get("hostNetwork"):
        return HOSTS_HEADER_HOST_NETWORK + host_hosts + _aliases(pod)
    hostname, host_domain = hostname_and_domain(pod, domain)
    names = f"{hostname}.{host_domain}\t{hostname}" if host_domain else hostname
    return HOSTS_HEADER + HOSTS_BASE + "".join(f"{ip}\t{names}\n" for ip in pod_ips) + _aliases(pod)


def _write_if_changed(path: Path, text: str) -> None:
    try:
        if path.read_text() == text:
            return
    except OSError:
        pass
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


@dataclass
class PodDns:
    """The kubelet's --cluster-dns, --cluster-domain and --resolv-conf, and the files they make."""

    root: Path  # <data-dir>/pods
    cluster_dns: list[str] = field(default_factory=list)
    cluster_domain: str = "cluster.local"
    resolv_conf_path: str = "/etc/resolv.conf"
    hosts_path: str = "/etc/hosts"

    def _read(self, path: str) -> str:
        try:
            return Path(path).read_text()
        except OSError:
            return ""

    def write(self, pod: dict, pod_ip: str) -> tuple[list[str], list[str]]:
        """(binds "host:container" for /etc/hosts and /etc/resolv.conf, DNSConfigForming warnings)."""
        d = self.root / pod["metadata"]["uid"]
        d.mkdir(parents=True, exist_ok=True)
        host_resolv = self._read(self.resolv_conf_path)
        cfg, warnings = dns_config(pod, self.cluster_dns, self.cluster_domain, host_resolv)
        _write_if_changed(d / "resolv.conf", resolv_conf(cfg, host_resolv))
        hosts = hosts_file(pod, [pod_ip] if pod_ip else [], self.cluster_domain,
                           self._read(self.hosts_path) if (pod.get("spec") or {}).get("hostNetwork") else "")
        _write_if_changed(d / "etc-hosts", hosts)
        return [f"{d / 'etc-hosts'}:/etc/hosts", f"{d / 'resolv.conf'}:/etc/resolv.conf"], warnings


def add_binds(mounts: list[str], etc_binds: list[str]) -> list[str]:
    """The container's mounts plus the pod's /etc files, unless a volume is mounted there."""
    taken = {m.split(":")[1] for m in mounts if ":" in m}
    return mounts + [b for b in etc_binds if b.split(":")[1] not in taken]


def warn_reason(message: str) -> str:
    return "MissingClusterDNS" if message.startswith("kubelet does not have ClusterDNS") else "DNSConfigForming"
