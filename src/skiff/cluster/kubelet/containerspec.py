"""The engine's create body for one container of a pod (pure): process, env, namespaces joined
with the sandbox, resources, securityContext and volume mounts."""

from __future__ import annotations

from skiff.cluster.kubelet import resources
from skiff.cluster.kubelet.command import entrypoint_and_cmd


def _security(pod: dict, container: dict) -> tuple[dict, dict]:
    """(Config fields, HostConfig fields) for the pod's and the container's securityContext;
    the container's settings win over the pod's."""
    psc = (pod.get("spec") or {}).get("securityContext") or {}
    sc = container.get("securityContext") or {}
    cfg: dict = {}
    hc: dict = {}
    uid = sc.get("runAsUser", psc.get("runAsUser"))
    gid = sc.get("runAsGroup", psc.get("runAsGroup"))
    if uid is not None:
        cfg["User"] = f"{uid}:{gid}" if gid is not None else str(uid)
    elif gid is not None:
        cfg["User"] = f"0:{gid}"
    groups = [str(g) for g in psc.get("supplementalGroups") or []]
    if psc.get("fsGroup") is not None:
        groups.append(str(psc["fsGroup"]))
    if groups:
        hc["GroupAdd"] = groups
    if sc.get("privileged"):
        hc["Privileged"] = True
    caps = sc.get("capabilities") or {}
    if caps.get("add"):
        hc["CapAdd"] = list(caps["add"])
    if caps.get("drop"):
        hc["CapDrop"] = list(caps["drop"])
    if sc.get("readOnlyRootFilesystem"):
        hc["ReadonlyRootfs"] = True
    if sc.get("allowPrivilegeEscalation") is False:
        hc["SecurityOpt"] = ["no-new-privileges"]
    return cfg, hc


def run_as_non_root_error(pod: dict, container: dict, image_user: str) -> str:
    """The kubelet's refusal when runAsNonRoot is set and the container would run as root."""
    psc = (pod.get("spec") or {}).get("securityContext") or {}
    sc = container.get("securityContext") or {}
    if not sc.get("runAsNonRoot", psc.get("runAsNonRoot")):
        return ""
    uid = sc.get("runAsUser", psc.get("runAsUser"))
    if uid is not None:
        return "container's runAsUser breaks non-root policy" if int(uid) == 0 else ""
    user = (image_user or "").split(":")[0]
    if user in ("", "0", "root"):
        return "container has runAsNonRoot and image will run as root"
    if not user.isdigit():
        return f"container has runAsNonRoot and image has non-numeric user ({user}), cannot verify user is non-root"
    return ""


def create_body(pod: dict, container: dict, image: str, sandbox_id: str, env: dict[str, str],
                labels: dict[str, str], binds: list[str]) -> dict:
    spec = pod.get("spec") or {}
    entrypoint, cmd = entrypoint_and_cmd(container, env)
    cfg_sec, hc_sec = _security(pod, container)
    hc: dict = {"NetworkMode": f"container:{sandbox_id}", "IpcMode": f"container:{sandbox_id}",
                "RestartPolicy": {"Name": "no"}, "Binds": binds, **resources.host_config(container), **hc_sec}
    if spec.get("shareProcessNamespace"):
        hc["PidMode"] = f"container:{sandbox_id}"
    if spec.get("hostPID"):
        hc["PidMode"] = "host"
    body: dict = {"Image": image, "Env": [f"{k}={v}" for k, v in env.items()], "Labels": labels,
                  "Tty": bool(container.get("tty")), "OpenStdin": bool(container.get("stdin")),
                  "StdinOnce": bool(container.get("stdinOnce")), "AttachStdin": False, "HostConfig": hc,
                  **cfg_sec}
    if entrypoint is not None:
        body["Entrypoint"] = entrypoint
    if cmd is not None:
        body["Cmd"] = cmd
    if container.get("workingDir"):
        body["WorkingDir"] = container["workingDir"]
    return body
