"""The node agent's kubelet: node registration, pod workers over the engine, pod status.

See docs/kubelet.md for the layout; `kubelet.Kubelet` is the entry point.
"""
