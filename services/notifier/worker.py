"""The notifier's Celery app: `celery -A services.notifier.worker worker -Q notifications`."""

from shared.celery_app import make_celery

app = make_celery("notifier")
app.conf.include = ["services.notifier.tasks"]
