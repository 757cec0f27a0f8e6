"""Plain-Python services: no Flask request objects, callable from tests and the CLI."""
