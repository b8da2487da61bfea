"""containerStatuses from the runtime's containers (pure): state, lastState, restartCount, ready."""

from __future__ import annotations

from skiff.cluster.kubelet.runtime import RuntimeContainer

ZERO = "0001-01-01T00:00:00Z"


def _trim(ts: str) -> str:
    """RFC 3339 to the second, as the API's metav1.Time serializes."""
    if not ts or ts.startswith("0001-"):
        return ZERO
    return ts[:19] + "Z"


def terminated(c: RuntimeContainer) -> dict:
    reason = "OOMKilled" if c.oom_killed else ("Completed" if c.exit_code == 0 else "Error")
    out = {"exitCode": c.exit_code, "reason": reason, "startedAt": _trim(c.started_at),
           "finishedAt": _trim(c.finished_at), "containerID": f"docker://{c.id}"}
    if c.error:
        out["message"] = c.error
    return out


def container_status(name: str, image: str, attempts: list[RuntimeContainer], waiting: dict | None,
                     ready: bool, started: bool) -> dict:
    """The status of container `name` given its runtime containers (newest attempt last) and, when
    the kubelet holds it back, a waiting state ({"reason": ..., "message": ...})."""
    status: dict = {"name": name, "image": image, "imageID": "", "ready": False, "restartCount": 0,
                    "started": False, "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}}
    if not attempts:
        if waiting:
            status["state"] = {"waiting": waiting}
        return status
    latest = attempts[-1]
    status["restartCount"] = latest.key.attempt
    status["imageID"] = f"docker://{latest.image_id}"  # cri-dockerd's form for an image known by id
    status["containerID"] = f"docker://{latest.id}"
    if latest.running:
        status["state"] = {"running": {"startedAt": _trim(latest.started_at)}}
        status["ready"] = ready
        status["started"] = started
    elif latest.status == "created":
        status["state"] = {"waiting": waiting or {"reason": "ContainerCreating"}}
    elif waiting:
        status["state"] = {"waiting": waiting}
        status["lastState"] = {"terminated": terminated(latest)}
    else:
        status["state"] = {"terminated": terminated(latest)}
    if len(attempts) > 1 and "lastState" in status and not status["lastState"]:
        prev = attempts[-2]
        if not prev.running:
            status["lastState"] = {"terminated": terminated(prev)}
    return status


def sent_form(status: dict) -> dict:
    """What decides whether a pod status is worth posting again: everything but the conditions'
    timestamps (a condition counts by type and status only)."""
    form = {k: v for k, v in status.items() if k != "conditions"}
    form["conditions"] = [(c["type"], c["status"]) for c in status.get("conditions") or []]
    return form
