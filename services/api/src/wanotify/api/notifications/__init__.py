"""Notifications feature: schemas, service, HTTP handlers."""
