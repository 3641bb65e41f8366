"""The notifier's tasks: validate the payload, call a function, let the retry policy act."""

from celery import Task

from services.notifier.delivery import MAX_ATTEMPTS, RetryLater, backoff_seconds, deliver
from services.notifier.worker import app
from shared.tasks import SEND_MESSAGE, SendMessage


@app.task(bind=True, name=SEND_MESSAGE, max_retries=MAX_ATTEMPTS - 1)
def send_message(self: Task, **payload: object) -> None:
    message = SendMessage.model_validate(payload)
    try:
        deliver(message.message_id, last_attempt=self.request.retries >= self.max_retries)
    except RetryLater as exc:
        raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries)) from exc
