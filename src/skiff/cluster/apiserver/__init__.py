"""The Kubernetes API server: HTTPS, authn, discovery, REST verbs over the kinds registry and a Store."""
