"""Client webhook endpoints: register, list, change, rotate, remove."""
