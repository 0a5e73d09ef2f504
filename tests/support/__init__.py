"""Test support: real servers (local or embedded), processes, waits."""
