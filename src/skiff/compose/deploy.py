"""`deploy:` outside swarm, as docker-compose 1.29 (always, `--compatibility` or not) and
Compose v2 apply it to a single engine: resource limits and reservations become the container's
cgroup settings, `restart_policy` its restart policy, `replicas` the scale; what only swarm can
honour (labels on the service, update/rollback configs, global mode, CPU reservations) is warned
about and ignored. Pure."""

from __future__ import annotations

from skiff.compose.errors import ConfigError

IGNORED = ("endpoint_mode", "labels", "update_config", "rollback_config")
RESTART_CONDITIONS = {"any": "always", "none": "no", "on-failure": "on-failure"}


def to_float(value, path: str) -> float:
    """docker-compose's conversion of a `cpus` value, with its message for a bad one."""
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"Error while attempting to convert {path} to appropriate type: "
                          f'"{value}" is not a valid float') from None


def to_int(value, path: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(str(value))
    except ValueError:
        raise ConfigError(f"Error while attempting to convert {path} to appropriate type: "
                          f'"{value}" is not a valid integer') from None


def check(name: str, svc: dict) -> None:
    """The values docker-compose converts while loading the file: refused here, before any command."""
    if svc.get("cpus") is not None:
        to_float(svc["cpus"], f"service.{name}.cpus")
    deploy = svc.get("deploy")
    if not isinstance(deploy, dict):
        return
    if deploy.get("replicas") is not None:
        to_int(deploy["replicas"], f"service.{name}.deploy.replicas")
    limits = (deploy.get("resources") or {}).get("limits") or {}
    if limits.get("cpus") is not None:
        to_float(limits["cpus"], f"service.{name}.deploy.resources.limits.cpus")
    if limits.get("pids") is not None:
        to_int(limits["pids"], f"service.{name}.deploy.resources.limits.pids")
    policy = deploy.get("restart_policy") or {}
    if policy.get("max_attempts") is not None:
        to_int(policy["max_attempts"], f"service.{name}.deploy.restart_policy.max_attempts")
    _restart_name(policy)
    if svc.get("scale") is not None and deploy.get("replicas") is not None \
            and deploy.get("mode", "replicated") == "replicated":
        raise ConfigError("Both service.scale and service.deploy.replicas are set. Only one of them must be set.")


def _restart_name(policy: dict) -> str:
    condition = policy.get("condition", "any")
    if condition not in RESTART_CONDITIONS:
        raise ConfigError(f'Invalid restart policy "{condition}"')
    return RESTART_CONDITIONS[condition]


def container_options(svc: dict) -> dict:
    """The service with `deploy` turned into container options (a new dict; `deploy` stays for the
    scale). A `limits` or `reservations` block replaces mem_limit / mem_reservation even when it
    leaves memory out, as docker-compose 1.29 does (its config hash counts the null)."""
    deploy = svc.get("deploy")
    if not isinstance(deploy, dict):
        return svc
    out = dict(svc)
    resources = deploy.get("resources") or {}
    if "limits" in resources:
        limits = resources["limits"] or {}
        out["mem_limit"] = limits.get("memory")
        if limits.get("cpus") is not None:
            out["cpus"] = to_float(limits["cpus"], "cpus")
        if limits.get("pids") is not None:  # Compose v2 (1.29's schema has no pids)
            out["pids_limit"] = to_int(limits["pids"], "pids")
    if "reservations" in resources:
        out["mem_reservation"] = (resources["reservations"] or {}).get("memory")
    policy = deploy.get("restart_policy")
    if isinstance(policy, dict):
        name = _restart_name(policy)
        attempts = to_int(policy.get("max_attempts") or 0, "max_attempts")
        out["restart"] = f"{name}:{attempts}" if name == "on-failure" else name
    return out


def ignored_keys(svc: dict) -> list[str]:
    """The deploy sub-keys a single engine cannot honour, named as docker-compose 1.29 names them."""
    deploy = svc.get("deploy")
    if not isinstance(deploy, dict):
        return []
    out = [k for k in IGNORED if k in deploy]
    for key in deploy.get("restart_policy") or {}:
        if key not in ("condition", "max_attempts"):
            out.append(f"restart_policy.{key}")
    if "cpus" in ((deploy.get("resources") or {}).get("reservations") or {}):
        out.append("resources.reservations.cpus")
    return out


def warnings(name: str, svc: dict) -> list[str]:
    out = []
    ignored = ignored_keys(svc)
    if ignored:
        out.append("The following deploy sub-keys are not supported and have been ignored: " + ", ".join(ignored))
    if (svc.get("deploy") or {}).get("mode", "replicated") == "global":
        out.append(f'Service "{name}" has deploy.mode "global", which only swarm honours (a container on '
                   "every node): it runs as one container, or as many as `scale` says.")
    return out


def scale(svc: dict) -> int:
    """How many containers `up` wants: `scale`, else `deploy.replicas` in replicated mode, else 1."""
    if svc.get("scale") is not None:
        return to_int(svc["scale"], "scale")
    deploy = svc.get("deploy") or {}
    if deploy.get("mode", "replicated") != "replicated" or deploy.get("replicas") is None:
        return 1
    return to_int(deploy["replicas"], "replicas")
