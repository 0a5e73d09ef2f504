"""Client webhooks: signing, secrets, the event catalogue, the retry schedule and the SSRF rules."""
