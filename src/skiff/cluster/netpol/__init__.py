"""NetworkPolicy enforcement on a node (kube-router's netpol semantics, iptables)."""
