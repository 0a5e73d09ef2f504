"""Opt-outs feature: recipients a tenant must not message."""
