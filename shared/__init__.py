"""Code common to the three Recrue services: settings, models, workflow, outbox, tasks."""
