"""skiff: a container engine and a cluster manager speaking Docker's and Kubernetes' wire protocols."""

__version__ = "0.1.0"
