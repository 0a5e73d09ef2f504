"""wa-notify."""
