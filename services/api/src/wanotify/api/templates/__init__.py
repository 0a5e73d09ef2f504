"""Templates feature: the registry synced from Meta, listed per tenant."""
