"""A Kubernetes API client: kubeconfig loading, REST paths, discovery and a small sync HTTP client.

The pure parts (`kubeconfig`, `paths`, `discovery`'s resolution) hold no I/O so an asyncio
client can reuse them; `rest` is the blocking transport `skiff kubectl` uses.
"""
