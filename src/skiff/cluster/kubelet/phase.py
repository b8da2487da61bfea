"""Pod phase and conditions from container statuses, by the kubelet's rules (getPhase).

Pure: given the spec and the containerStatuses/initContainerStatuses the worker built.
"""

from __future__ import annotations


def _state(status: dict) -> str:
    return next(iter(status.get("state") or {"waiting": {}}))


def init_done(spec: dict, init_statuses: list[dict]) -> bool:
    names = [c["name"] for c in spec.get("initContainers") or []]
    by_name = {s["name"]: s for s in init_statuses}
    return all(_state(by_name.get(n, {})) == "terminated" and
               by_name[n]["state"]["terminated"].get("exitCode") == 0 for n in names)


def init_failed(spec: dict, init_statuses: list[dict]) -> bool:
    """An init container that failed under restartPolicy Never: the pod has failed."""
    if spec.get("restartPolicy", "Always") != "Never":
        return False
    return any(_state(s) == "terminated" and s["state"]["terminated"].get("exitCode") != 0 for s in init_statuses)


def pod_phase(spec: dict, statuses: list[dict], init_statuses: list[dict]) -> str:
    if spec.get("initContainers"):
        if init_failed(spec, init_statuses):
            return "Failed"
        if not init_done(spec, init_statuses):
            return "Pending"
    policy = spec.get("restartPolicy", "Always")
    running = waiting = stopped = succeeded = 0
    by_name = {s["name"]: s for s in statuses}
    for c in spec.get("containers") or []:
        s = by_name.get(c["name"])
        state = _state(s) if s else "waiting"
        if state == "running":
            running += 1
        elif state == "terminated":
            stopped += 1
            if s and s["state"]["terminated"].get("exitCode") == 0:
                succeeded += 1
        elif s and (s.get("lastState") or {}).get("terminated"):
            stopped += 1  # waiting to restart after having run: counts as stopped
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"


def conditions(spec: dict, statuses: list[dict], init_statuses: list[dict], phase: str,
               previous: list[dict], now: str) -> list[dict]:
    """PodScheduled, Initialized, ContainersReady and Ready, keeping each one's lastTransitionTime
    while its status holds."""
    initialized = not spec.get("initContainers") or init_done(spec, init_statuses) or phase in ("Running", "Succeeded")
    all_ready = bool(statuses) and all(s.get("ready") for s in statuses) and \
        len(statuses) == len(spec.get("containers") or [])
    values = {"PodReadyToStartContainers": True, "Initialized": initialized, "Ready": all_ready,
              "ContainersReady": all_ready, "PodScheduled": True}
    reasons = {}
    if phase == "Succeeded" or phase == "Failed":
        reasons = {"Ready": "PodCompleted", "ContainersReady": "PodCompleted"}
        values["Ready"] = values["ContainersReady"] = False
    elif not all_ready:
        reasons = {"Ready": "ContainersNotReady", "ContainersReady": "ContainersNotReady"}
    if not initialized:
        reasons["Initialized"] = "ContainersNotInitialized"
    old = {c["type"]: c for c in previous or []}
    out = []
    for kind, value in values.items():
        status = "True" if value else "False"
        prev = old.get(kind)
        cond = {"type": kind, "status": status, "lastProbeTime": None,
                "lastTransitionTime": prev["lastTransitionTime"] if prev and prev.get("status") == status
                and prev.get("lastTransitionTime") else now}
        if not value and kind in reasons:
            cond["reason"] = reasons[kind]
            if reasons[kind] == "ContainersNotReady":
                names = sorted(s["name"] for s in statuses if not s.get("ready"))
                missing = [c["name"] for c in spec.get("containers") or [] if c["name"] not in
                           {s["name"] for s in statuses}]
                cond["message"] = f"containers with unready status: [{' '.join(names + missing)}]"
            elif kind == "Initialized":
                pending = [s["name"] for s in init_statuses if _state(s) != "terminated" or
                           s["state"]["terminated"].get("exitCode") != 0]
                known = {s["name"] for s in init_statuses}
                pending += [c["name"] for c in spec.get("initContainers") or [] if c["name"] not in known]
                cond["message"] = f"containers with incomplete status: [{' '.join(pending)}]"
        out.append(cond)
    return out
