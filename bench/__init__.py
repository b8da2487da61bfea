"""Benchmarks: skiff against the reference dockerd, measured in the same run. Run on demand, never as tests."""
