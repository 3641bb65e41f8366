"""The HTTP API: the only writer of HR decisions."""
