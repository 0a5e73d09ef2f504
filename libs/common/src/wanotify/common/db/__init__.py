"""wa-notify: db."""
