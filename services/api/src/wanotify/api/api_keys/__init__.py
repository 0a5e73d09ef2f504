"""``/v1/api-keys``: a tenant's API keys."""
