"""DefaultPreemption: when no node fits, find the node where evicting lower-priority pods makes
room, choosing victims and node as Kubernetes does; the scheduler then deletes the victims and
sets the pod's status.nominatedNodeName.

Per node: remove every lower-priority pod; if the pod then fits, add them back highest
priority first, keeping each that still lets it fit (reprieved). Among candidate nodes pick
the lowest highest-victim priority, then the lowest priority sum, then the fewest victims,
then the latest start of the highest-priority victims, then the first.
"""

from __future__ import annotations

from typing import Any

from skiff.cluster.scheduler.framework import OK, UNRESOLVABLE, CycleState, Snapshot, Status, unschedulable
from skiff.cluster.scheduler.nodeinfo import NodeInfo, PodInfo

NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
POLICY_NEVER = "not eligible due to preemptionPolicy=Never."
TERMINATING = "not eligible due to a terminating pod on the nominated node."
VICTIMS = "DefaultPreemption/victims"
INT32_OFFSET = 2 ** 31  # kube adds MaxInt32+1 so negative priorities still sum upwards


def start_time(pod: PodInfo) -> str:
    return (pod.obj.get("status") or {}).get("startTime") or pod.created


class DefaultPreemption:
    name = "DefaultPreemption"

    def __init__(self) -> None:
        self.framework: Any = None  # set by the scheduler once the framework exists

    def eligible(self, pod: PodInfo, snapshot: Snapshot) -> str:
        if pod.spec.get("preemptionPolicy") == "Never":
            return POLICY_NEVER
        nominated = (pod.obj.get("status") or {}).get("nominatedNodeName")
        node = snapshot.get(nominated) if nominated else None
        if node is not None and any(p.terminating and p.priority < pod.priority for p in node.pods.values()):
            return TERMINATING
        return ""

    def fits(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status:
        st = self.framework.run_pre_filter(state, pod, self._snapshot)  # its state depends on the pods
        return self.framework.run_filter(state, pod, node) if st.ok else st

    def select_victims(self, pod: PodInfo, node: NodeInfo) -> tuple[list[PodInfo] | None, Status]:
        trial = node.clone()
        self._snapshot = Snapshot([trial if n.name == node.name else n for n in self._nodes])
        potential = [p for p in trial.pods.values() if p.priority < pod.priority]
        if not potential:
            return None, Status(UNRESOLVABLE, [NO_VICTIMS])
        for p in potential:
            trial.remove_pod(p.key)
        st = self.fits(CycleState(), pod, trial)
        if not st.ok:
            return None, st
        victims = []
        for p in sorted(potential, key=lambda p: (-p.priority, start_time(p))):
            trial.add_pod(p)
            if not self.fits(CycleState(), pod, trial).ok:
                trial.remove_pod(p.key)
                victims.append(p)
        return victims, OK

    def post_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot,
                    statuses: dict[str, Status]) -> tuple[str, Status]:
        reason = self.eligible(pod, snapshot)
        if reason:
            return "", unschedulable("preemption: " + reason)
        self._nodes = snapshot.nodes
        outcome: dict[str, Status] = {}
        candidates: list[tuple[NodeInfo, list[PodInfo]]] = []
        for node in snapshot.nodes:
            st = statuses.get(node.name)
            if st is None or st.code == UNRESOLVABLE:
                outcome[node.name] = Status(UNRESOLVABLE, [NOT_HELPFUL])
                continue
            victims, vst = self.select_victims(pod, node)
            if victims is None:
                outcome[node.name] = vst
            else:
                candidates.append((node, victims))
        if not candidates:
            counts: dict[str, int] = {}
            for st in outcome.values():
                for r in st.reasons:
                    counts[r] = counts.get(r, 0) + 1
            hist = ", ".join(sorted(f"{n} {r}" for r, n in counts.items()))
            return "", unschedulable(f"preemption: 0/{len(snapshot.nodes)} nodes are available: {hist}.")
        node, victims = min(candidates, key=lambda c: self._rank(c[1]))
        state[VICTIMS] = victims
        return node.name, OK

    @staticmethod
    def _rank(victims: list[PodInfo]) -> tuple[Any, ...]:
        if not victims:
            return (-INT32_OFFSET, 0, 0, "")
        top = max(p.priority for p in victims)
        earliest_top = min(start_time(p) for p in victims if p.priority == top)
        latest_first = tuple(-ord(c) for c in earliest_top)  # a later start ranks first
        return (top, sum(p.priority + INT32_OFFSET for p in victims), len(victims), latest_first)
