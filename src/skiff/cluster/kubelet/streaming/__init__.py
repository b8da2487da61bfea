"""The kubelet's streaming protocols: container logs, remote commands (exec, attach) over
Kubernetes' channel WebSocket protocols, and port forwarding."""
