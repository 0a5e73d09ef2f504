"""wa-notify: queue."""
