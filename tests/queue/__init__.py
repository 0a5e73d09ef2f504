"""Contract tests of the queue adapters."""
