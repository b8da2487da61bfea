"""The order services start in: what each depends on (depends_on, links, volumes_from,
network_mode/ipc/pid `service:x`), undefined references and cycles refused with
docker-compose's messages. Pure."""

from __future__ import annotations

from skiff.compose.errors import ConfigError
from skiff.compose.normalize import link_target, service_of_mode, volumes_from_service


def dependencies(service: dict) -> list[str]:
    """Services `service` needs started first, in the order its options name them."""
    deps: list[str] = []
    deps += list((service.get("depends_on") or {}).keys())
    deps += [link_target(link) for link in service.get("links") or []]
    deps += [s for s in (volumes_from_service(v) for v in service.get("volumes_from") or []) if s]
    for key in ("network_mode", "ipc", "pid"):
        target = service_of_mode(service.get(key))
        if target:
            deps.append(target)
    return list(dict.fromkeys(deps))


def check_references(services: dict[str, dict]) -> None:
    for name, svc in services.items():
        for link in svc.get("links") or []:
            if link_target(link) not in services:
                raise ConfigError(f"Service '{name}' has a link to service '{link}' which is undefined.")
        for dep in svc.get("depends_on") or {}:
            if dep not in services:
                raise ConfigError(f"Service '{name}' depends on service '{dep}' which is undefined.")
        for entry in svc.get("volumes_from") or []:
            target = volumes_from_service(entry)
            if target and target not in services:
                raise ConfigError(f"Service '{name}' mounts volumes from '{target}', which is not the name "
                                  "of a service or container.")
        for key, what in (("network_mode", "the network stack"), ("ipc", "the IPC namespace"),
                          ("pid", "the PID namespace")):
            target = service_of_mode(svc.get(key))
            if target and target not in services:
                raise ConfigError(f"Service '{name}' uses {what} of service '{target}' which is undefined.")


def start_order(services: dict[str, dict]) -> list[str]:
    """Names in an order where each comes after its dependencies (declaration order otherwise)."""
    order: list[str] = []
    done: set[str] = set()
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            svc = services[name]
            if name in (link_target(x) for x in svc.get("links") or []):
                raise ConfigError(f"A service can not link to itself: {name}")
            if name in (svc.get("depends_on") or {}):
                raise ConfigError(f"A service can not depend on itself: {name}")
            cycle = visiting[visiting.index(name):]
            raise ConfigError("Circular dependency between " + " and ".join(cycle))
        visiting.append(name)
        for dep in dependencies(services[name]):
            if dep in services:
                visit(dep)
        visiting.pop()
        done.add(name)
        order.append(name)

    for name in services:
        visit(name)
    return order


def with_dependencies(services: dict[str, dict], names: list[str]) -> list[str]:
    """`names` and everything they need, transitively, in start order."""
    wanted: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in wanted:
            continue
        wanted.add(name)
        stack += [d for d in dependencies(services[name]) if d in services]
    return [n for n in start_order(services) if n in wanted]
