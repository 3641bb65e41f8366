"""Recrue's three services (api, notifier, scheduler) and the `recrue` command."""
