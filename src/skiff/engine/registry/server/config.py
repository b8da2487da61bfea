"""The reference registry's configuration file (the parts skiff reads), and the flag overrides.

```yaml
version: 0.1
storage:
  filesystem: {rootdirectory: /var/lib/registry}
  delete: {enabled: true}
http: {addr: :5000, tls: {certificate: /certs/domain.crt, key: /certs/domain.key}}
auth:
  htpasswd: {realm: basic-realm, path: /etc/registry/htpasswd}
```
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from skiff.common.errors import InvalidArgument

DEFAULT_ADDR = "0.0.0.0:5000"
DEFAULT_ROOT = "/var/lib/registry"


@dataclass
class ServerConfig:
    addr: str = DEFAULT_ADDR
    root: str = DEFAULT_ROOT
    htpasswd_path: str = ""
    realm: str = "basic-realm"
    delete_enabled: bool = True
    tls_cert: str = ""  # http.tls.certificate: serve https
    tls_key: str = ""

    @property
    def host_port(self) -> tuple[str, int]:
        return split_addr(self.addr)


def split_addr(addr: str) -> tuple[str, int]:
    """`:5000` → ("0.0.0.0", 5000); `127.0.0.1:0` → ("127.0.0.1", 0); `[::1]:5000` too."""
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise InvalidArgument(f"invalid address {addr!r}: expected HOST:PORT")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


def _section(data: dict, key: str) -> dict:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise InvalidArgument(f"configuration error: {key} must be a mapping")
    return value


def parse_config(text: str) -> ServerConfig:
    """The reference registry's YAML; unknown sections are ignored, as far as skiff is concerned."""
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except yaml.YAMLError as e:
        raise InvalidArgument(f"configuration error: {e}") from None
    if not isinstance(data, dict):
        raise InvalidArgument("configuration error: expected a YAML mapping")
    if "version" not in data:
        raise InvalidArgument("configuration error: please specify a configuration version")
    if str(data["version"]) != "0.1":
        raise InvalidArgument(f"configuration error: unsupported configuration version {data['version']}")
    cfg = ServerConfig()
    storage = _section(data, "storage")
    fs = storage.get("filesystem")
    if isinstance(fs, dict) and fs.get("rootdirectory"):
        cfg.root = str(fs["rootdirectory"])
    unsupported = [k for k in storage if k not in ("filesystem", "delete", "cache", "maintenance", "redirect")]
    if unsupported:
        raise InvalidArgument(f"configuration error: storage driver {unsupported[0]!r} is not supported "
                              "(skiff serves filesystem storage)")
    delete = storage.get("delete")
    if isinstance(delete, dict) and "enabled" in delete:
        cfg.delete_enabled = bool(delete["enabled"])
    http = _section(data, "http")
    if http.get("addr"):
        cfg.addr = str(http["addr"])
        split_addr(cfg.addr)
    tls = http.get("tls") or {}
    if tls:
        if not isinstance(tls, dict) or not tls.get("certificate") or not tls.get("key"):
            raise InvalidArgument("configuration error: http.tls needs certificate and key")
        cfg.tls_cert, cfg.tls_key = str(tls["certificate"]), str(tls["key"])
    auth = _section(data, "auth")
    if "htpasswd" in auth:
        hp = auth["htpasswd"] or {}
        if not hp.get("path"):
            raise InvalidArgument("configuration error: auth.htpasswd.path is required")
        cfg.htpasswd_path = str(hp["path"])
        cfg.realm = str(hp.get("realm") or cfg.realm)
    elif auth:
        raise InvalidArgument(f"configuration error: auth {next(iter(auth))!r} is not supported (use htpasswd)")
    return cfg
