"""The in-tree plugins, one per file; `default_plugins` is kube-scheduler's default profile order."""
