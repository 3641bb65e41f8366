"""The notifier's Celery app: `celery -A services.notifier.worker worker -Q notifications`."""

from typing import Any

from celery.signals import worker_init

from shared.celery_app import make_celery, prepare_worker_processes
from shared.emails.texts import compile_all
from shared.secret_key import require_secret_key

require_secret_key()  # refuse to start with a default or short SECRET_KEY

app = make_celery("notifier")
prepare_worker_processes()
app.conf.include = ["services.notifier.tasks"]


@worker_init.connect
def _compile_templates(**_: Any) -> None:
    """Before the pool forks: its processes share the compiled templates."""
    compile_all()
