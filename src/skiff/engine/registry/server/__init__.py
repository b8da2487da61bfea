"""The built-in registry server: the distribution (v2) API over filesystem storage."""
