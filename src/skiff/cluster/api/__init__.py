"""The Kubernetes kinds skiff serves: registry, schemas, defaulting, validation, printing."""
