"""Tests through the served stack: ``memoflow serve`` (gunicorn) in a subprocess."""
