"""The scheduler: assigns unscheduled pods to nodes as kube-scheduler does.

Layers, lowest first: `nodeinfo` (pods and nodes parsed once), `cache` (the cluster as the
scheduler sees it, with assumed pods), `framework` (extension points and the plugin list),
`plugins/` (one file per plugin), `queue` (active/backoff/unschedulable), `algorithm` (one
scheduling cycle), `preemption`, `scheduler` (informers, the loop, binding) and `component`
(the wiring into `skiff server`).
"""

SCHEDULER_NAME = "default-scheduler"
