"""`kubectl rolling-update`: replace a ReplicationController's pods one step at a time, client-side,
as kubectl did until 1.18 (seed 001): a new RC from a file (`-f`) or from the old one with a new
`--image`, scaled up by one while the old one is scaled down by one, never below the desired
number of ready pods; `--rollback` undoes an interrupted update.

With `--image` and no new name, the new RC is first named `<old>-<hash>` and selects a
`deployment=<hash>` label; the old RC's pods get `deployment=<old hash>` first so the two sets
stay apart; at the end the new RC takes the old name.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from typing import Any

from skiff.cli.kubectl import options
from skiff.cli.kubectl.session import CommandError, Session
from skiff.cluster.client.errors import StatusError
from skiff.common.goduration import parse_go_duration

HELP = """Perform a rolling update of the given ReplicationController.

Replaces the specified replication controller with a new replication controller by updating one pod at a time
to use the new PodTemplate. The new-controller.json must specify the same namespace as the existing replication
controller and overwrite at least one (common) label in its replicaSelector.

Examples:
  # Update pods of frontend-v1 using new replication controller data in frontend-v2.json.
  kubectl rolling-update frontend-v1 -f frontend-v2.json

  # Update the pods of frontend-v1 to frontend-v2 by just changing the image, and switching the
  # name of the replication controller.
  kubectl rolling-update frontend-v1 frontend-v2 --image=image:v2

  # Update the pods of frontend by just changing the image, and keeping the old name.
  kubectl rolling-update frontend --image=image:v2

  # Abort and reverse an existing rollout in progress (from frontend-v1 to frontend-v2).
  kubectl rolling-update frontend-v1 frontend-v2 --rollback"""

DESIRED = "kubectl.kubernetes.io/desired-replicas"
NEXT = "kubectl.kubernetes.io/next-controller-id"
ORIGINAL = "kubectl.kubernetes.io/original-replicas"


def duration(text: str) -> float:
    """A Go duration (`1m0s`, `3s`, `100ms`, `0`) in seconds."""
    try:
        return parse_go_duration(text or "0")
    except ValueError as e:
        raise CommandError(str(e)) from None


def template_hash(rc: dict) -> str:
    return hashlib.md5(json.dumps((rc.get("spec") or {}).get("template") or {}, sort_keys=True).encode(),
                       usedforsecurity=False).hexdigest()


class Updater:
    def __init__(self, session: Session, ns: str | None, opts: Any):
        self.s = session
        self.ns = ns
        self.rcs = session.resource("replicationcontrollers")
        self.pods = session.resource("pods")
        self.period = duration(opts.update_period)
        self.interval = duration(opts.poll_interval)
        self.deadline = time.monotonic() + duration(opts.timeout)

    def get(self, name: str) -> dict:
        return self.s.client.get(self.rcs, name, self.ns)

    def scale(self, name: str, replicas: int) -> dict:
        return self.s.client.patch(self.rcs, name, {"spec": {"replicas": replicas}}, "merge", self.ns)

    def wait_ready(self, name: str, replicas: int) -> None:
        """Until the RC has exactly `replicas` pods and all of them ready."""
        while True:
            st = self.get(name).get("status") or {}
            if st.get("replicas", 0) == replicas and st.get("readyReplicas", 0) >= replicas:
                return
            if time.monotonic() > self.deadline:
                raise CommandError("timed out waiting for any update progress to be made")
            time.sleep(self.interval)

    def roll(self, new: str, old: str, desired: int) -> None:
        """Scale new up by one beyond desired, then old down, until new has all (maxSurge 1, maxUnavailable 0)."""
        new_n = int((self.get(new).get("spec") or {}).get("replicas") or 0)
        old_n = int((self.get(old).get("spec") or {}).get("replicas") or 0)
        print(f"Scaling up {new} from {new_n} to {desired}, scaling down {old} from {old_n} to 0 "
              f"(keep {desired} pods available, don't exceed {desired + 1} pods)")
        while new_n < desired or old_n > 0:
            room = desired + 1 - (new_n + old_n)  # at most one pod over desired
            if new_n < desired and room > 0:
                new_n = min(desired, new_n + room)
                print(f"Scaling {new} up to {new_n}")
                self.scale(new, new_n)
                self.wait_ready(new, new_n)
            excess = new_n + old_n - desired  # the new pods are ready: as many old ones can go
            if old_n > 0 and excess > 0:
                old_n = max(0, old_n - excess)
                print(f"Scaling {old} down to {old_n}")
                self.scale(old, old_n)
                self.wait_ready(old, old_n)
            if (new_n < desired or old_n > 0) and self.period:
                time.sleep(self.period)

    def relabel(self, rc: dict, key: str, value: str) -> dict:
        """Add key=value to an RC's template, its pods and then its selector (so no pod is orphaned)."""
        name = rc["metadata"]["name"]
        self.s.client.patch(self.rcs, name, {"spec": {"template": {"metadata": {"labels": {key: value}}}}},
                            "merge", self.ns)
        selector = (rc.get("spec") or {}).get("selector") or {}
        text = ",".join(f"{k}={v}" for k, v in selector.items())
        for pod in self.s.client.list(self.pods, self.ns, params={"labelSelector": text}).get("items") or []:
            self.s.client.patch(self.pods, pod["metadata"]["name"], {"metadata": {"labels": {key: value}}},
                                "merge", self.ns)
        return self.s.client.patch(self.rcs, name, {"spec": {"selector": {key: value}}}, "merge", self.ns)


def run(word: str, argv: list[str]) -> int:
    p = options.parser("rolling-update", HELP)
    p.add_argument("names", nargs="+", metavar="OLD_CONTROLLER_NAME [NEW_CONTROLLER_NAME]")
    options.add_filename(p, "that contain the new controller")
    p.add_argument("--image", default="", help="Image to use for upgrading the replication controller.")
    p.add_argument("--container", default="", help="Container name which will have its image upgraded.")
    p.add_argument("--image-pull-policy", default="", help="Explicit policy for when to pull container images.")
    p.add_argument("--deployment-label-key", default="deployment",
                   help="The key to use to differentiate between two different controllers (default 'deployment').")
    p.add_argument("--update-period", default="1m0s", help="Time to wait between updating pods (default 1m0s).")
    p.add_argument("--poll-interval", default="3s", help="Time delay between polling for replication controller "
                                                          "status after the update (default 3s).")
    p.add_argument("--timeout", default="5m0s", help="Max time to wait for a replication controller to update "
                                                     "before giving up (default 5m0s).")
    p.add_argument("--rollback", action="store_true", help="If true, this is a request to abort an existing "
                                                           "rollout that is partially rolled out.")
    opts = p.parse_intermixed_args(argv)
    if len(opts.names) > 2:
        raise CommandError("extra arguments, expected at most OLD_CONTROLLER_NAME NEW_CONTROLLER_NAME")
    if bool(opts.filename) + bool(opts.image) + bool(opts.rollback) != 1:
        raise CommandError("must specify --filename or --image or --rollback (exactly one)")
    session = Session(opts)
    ns = session.namespace
    up = Updater(session, ns, opts)
    old_name = opts.names[0]
    try:
        old = up.get(old_name)
    except StatusError as e:
        if e.code == 404:
            raise CommandError(f'replicationcontrollers "{old_name}" not found') from None
        raise
    if opts.rollback:
        return rollback(up, old, opts.names[1] if len(opts.names) > 1 else "")
    desired = int((old.get("spec") or {}).get("replicas") or 0)
    rename = False
    if opts.filename:
        from skiff.cli.kubectl import manifests

        docs = manifests.load(opts.filename, verb="rolling-update")
        if len(docs) != 1 or docs[0].obj.get("kind", "").lower() != "replicationcontroller":
            raise CommandError(f"{opts.filename[0]} contains a {docs[0].obj.get('kind') if docs else 'nothing'} "
                               "not a ReplicationController")
        new = docs[0].obj
        new.setdefault("metadata", {}).pop("namespace", None)
        new_name = new["metadata"].get("name", "")
        if new_name == old_name:
            raise CommandError(f"{opts.filename[0]} cannot have the same name as the existing "
                               f"ReplicationController {old_name}")
        old_sel, new_sel = (old.get("spec") or {}).get("selector") or {}, (new.get("spec") or {}).get("selector") or {}
        if not any(k in old_sel and old_sel[k] != v for k, v in new_sel.items()):
            raise CommandError(f"{opts.filename[0]} must specify a matching key with non-equal value in "
                               f"Selector for {old_name}")
        if (new.get("spec") or {}).get("replicas") is not None:
            desired = int(new["spec"]["replicas"])
    else:
        new, new_name, rename = with_image(up, old, opts)
    new.setdefault("spec", {})["replicas"] = 0
    new["metadata"].setdefault("annotations", {})[DESIRED] = str(desired)
    session.client.patch(up.rcs, old_name, {"metadata": {"annotations": {NEXT: new_name, ORIGINAL: str(
        (old.get("spec") or {}).get("replicas") or 0)}}}, "merge", ns)
    try:
        session.client.create(up.rcs, new, ns)
        print(f"Created {new_name}")
    except StatusError as e:
        if e.code != 409:
            raise
        print(f"Continuing update with existing controller {new_name}.")
    up.roll(new_name, old_name, desired)
    print(f"Update succeeded. Deleting {old_name}")
    session.client.delete(up.rcs, old_name, ns)
    if rename:
        take_name(up, new_name, old_name)
        print(f'replicationcontroller "{old_name}" rolling updated')
    else:
        print(f'replicationcontroller "{old_name}" rolling updated to "{new_name}"')
    return 0


def take_name(up: Updater, current: str, wanted: str) -> None:
    """Give an RC another name without touching its pods: delete it leaving the pods behind (orphan),
    release them from it, and create it again under the wanted name, which adopts them."""
    rc = up.get(current)
    uid = rc["metadata"]["uid"]
    up.s.client.delete(up.rcs, current, up.ns, options={"propagationPolicy": "Orphan"})
    selector = ",".join(f"{k}={v}" for k, v in ((rc.get("spec") or {}).get("selector") or {}).items())
    for pod in up.s.client.list(up.pods, up.ns, params={"labelSelector": selector}).get("items") or []:
        refs = pod["metadata"].get("ownerReferences") or []
        kept = [r for r in refs if r.get("uid") != uid]
        if kept != refs:  # the garbage collector may not have got there yet
            up.s.client.patch(up.pods, pod["metadata"]["name"], {"metadata": {"ownerReferences": kept or None}},
                              "merge", up.ns)
    final = copy.deepcopy(rc)
    final["metadata"] = {"name": wanted, "labels": rc["metadata"].get("labels") or {},
                         "annotations": {k: v for k, v in (rc["metadata"].get("annotations") or {}).items()
                                         if k != DESIRED}}
    final.pop("status", None)
    up.s.client.create(up.rcs, final, up.ns)


def with_image(up: Updater, old: dict, opts: Any) -> tuple[dict, str, bool]:
    containers = ((old.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
    if len(containers) > 1 and not opts.container:
        raise CommandError("Must specify container to update when updating a multi-container pod")
    target = next((c for c in containers if not opts.container or c["name"] == opts.container), None)
    if target is None:
        raise CommandError(f"Could not find {opts.container} in the pod template")
    if target.get("image") == opts.image:
        raise CommandError("Specified --image must be distinct from existing container image")
    key = opts.deployment_label_key
    old_hash = template_hash(old)
    if key not in ((old.get("spec") or {}).get("selector") or {}):
        old = up.relabel(old, key, old_hash)
    new = copy.deepcopy(old)
    for c in new["spec"]["template"]["spec"]["containers"]:
        if c is not None and c["name"] == target["name"]:
            c["image"] = opts.image
            if opts.image_pull_policy:
                c["imagePullPolicy"] = opts.image_pull_policy
    new["spec"]["template"]["metadata"]["labels"].pop(key, None)
    new_hash = template_hash(new)
    new["spec"]["template"]["metadata"]["labels"][key] = new_hash
    new["spec"]["selector"] = {**new["spec"]["selector"], key: new_hash}
    given = opts.names[1] if len(opts.names) > 1 else ""
    name = given or f"{old['metadata']['name']}-{new_hash}"
    new["metadata"] = {"name": name, "labels": old["metadata"].get("labels") or {}}
    new.pop("status", None)
    return new, name, not given


def rollback(up: Updater, old: dict, new_name: str) -> int:
    """Scale the old controller back up and the new one down, then delete the new one."""
    old_name = old["metadata"]["name"]
    annotations = old["metadata"].get("annotations") or {}
    new_name = new_name or annotations.get(NEXT, "")
    if not new_name:
        raise CommandError(f"{old_name} is not being rolled out: no new controller to roll back from")
    desired = int(annotations.get(ORIGINAL) or (old.get("spec") or {}).get("replicas") or 0)
    print(f"Setting \"{old_name}\" replicas to {desired}")
    up.roll(old_name, new_name, desired)
    print(f"Rollback succeeded. Deleting {new_name}")
    up.s.client.delete(up.rcs, new_name, up.ns)
    print(f'replicationcontroller "{old_name}" rolled back')
    return 0
