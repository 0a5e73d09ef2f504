"""A faithful local stand-in for Meta's WhatsApp Cloud API (dev and test only)."""
