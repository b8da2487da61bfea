"""The default profile: kube-scheduler's plugin list, in its order."""

from __future__ import annotations

from typing import Any

from skiff.cluster.scheduler.plugins.balancedallocation import NodeResourcesBalancedAllocation
from skiff.cluster.scheduler.plugins.defaultbinder import DefaultBinder
from skiff.cluster.scheduler.plugins.defaultpreemption import DefaultPreemption
from skiff.cluster.scheduler.plugins.imagelocality import ImageLocality
from skiff.cluster.scheduler.plugins.interpodaffinity import InterPodAffinity
from skiff.cluster.scheduler.plugins.nodeaffinity import NodeAffinity
from skiff.cluster.scheduler.plugins.nodename import NodeName
from skiff.cluster.scheduler.plugins.nodeports import NodePorts
from skiff.cluster.scheduler.plugins.noderesources import NodeResourcesFit
from skiff.cluster.scheduler.plugins.nodeunschedulable import NodeUnschedulable
from skiff.cluster.scheduler.plugins.podtopologyspread import PodTopologySpread
from skiff.cluster.scheduler.plugins.queuesort import PrioritySort
from skiff.cluster.scheduler.plugins.tainttoleration import TaintToleration


def default_plugins(client: Any) -> list[Any]:
    return [PrioritySort(), NodeUnschedulable(), NodeName(), TaintToleration(), NodeAffinity(), NodePorts(),
            NodeResourcesFit(), PodTopologySpread(), InterPodAffinity(), DefaultPreemption(),
            NodeResourcesBalancedAllocation(), ImageLocality(), DefaultBinder(client)]
