"""cgroups behind one small interface: `manager_for(path)` picks v1 or v2 for this host."""

from skiff.engine.runtime.cgroups.base import CgroupManager, is_v2, manager_for

__all__ = ["CgroupManager", "is_v2", "manager_for"]
