"""Pod networking across nodes, host-gw style (as flannel's host-gw backend): every node's pods
live on its engine bridge's subnet (the Node's spec.podCIDR), and every node routes the other
nodes' podCIDRs via their InternalIPs. `routes` is the pure computation, `apply` the kernel side."""
