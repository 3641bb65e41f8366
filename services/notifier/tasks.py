"""The notifier's tasks: validate the payload, call a function, let the retry policy act."""

from celery import Task

from services.notifier.delivery import backoff_seconds, deliver
from services.notifier.worker import app
from shared.tasks import SEND_MESSAGES, SendMessages


# No max_retries: each row counts its own attempts and ends `failed` after the last; a retry
# is the quick way back, and if it is lost, beat's delivery sweep publishes the rows again.
@app.task(bind=True, name=SEND_MESSAGES, max_retries=None)
def send_messages(self: Task, **payload: object) -> None:
    later = deliver(SendMessages.model_validate(payload).items)
    if later:  # the same task again, for those only
        raise self.retry(
            kwargs={"items": [str(m) for m in later]},
            countdown=backoff_seconds(self.request.retries),
        )
