"""wa-notify: domain."""
