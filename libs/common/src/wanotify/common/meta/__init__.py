"""wa-notify: meta."""
