"""The Service proxy (kube-proxy's job) in every node agent: Services and EndpointSlices rendered
as iptables rules (`model`, `chains`, `rules`, `restore`: pure), applied by `proxier`."""
