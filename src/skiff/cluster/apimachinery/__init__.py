"""Kubernetes API machinery: Status errors, metadata, selectors, quantities and patches.

Pure logic with no I/O, shared by the API server and every cluster component.
"""
