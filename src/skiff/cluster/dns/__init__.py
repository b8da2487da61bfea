"""The cluster DNS (kube-dns/CoreDNS's job) in every node agent: Services and EndpointSlices
indexed from informers (`index`), answered as the Kubernetes DNS spec says (`resolver`: pure),
served on the cluster DNS address and the node's IP (`server`, `component`)."""
