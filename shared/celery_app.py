"""The Celery app factory: explicit queues, late acks, JSON only."""

from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init
from kombu import Queue

from shared.db import forget_parent_connections, prepare_before_fork
from shared.settings import Settings, get_settings
from shared.tasks import NOTIFICATIONS_QUEUE, QUEUE_OF_TASK, SCHEDULING_QUEUE


def broker_options(settings: Settings) -> dict[str, Any]:
    """Transport options: the embedded broker's folder, or Redis' visibility timeout."""
    if settings.uses_embedded_broker:
        folder = settings.broker_folder
        folder.mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
            "store_processed": False,
            "polling_interval": 0.05,
        }
    # Unacked tasks come back after this long: longer than any task may run. Every connect and
    # command (a publish) gives up after BROKER_TIMEOUT seconds, so a hung Redis cannot hold a
    # request: an event not published is left to the outbox relay.
    return {
        "visibility_timeout": 3600,
        "socket_timeout": settings.broker_timeout,
        "socket_connect_timeout": settings.broker_timeout,
    }


def prepare_worker_processes() -> None:
    """Connect the hooks of a prefork worker: the driver and the ORM are made ready in the
    parent before it forks; each child starts with no connection of the parent's."""
    worker_init.connect(_before_fork, weak=False)
    worker_process_init.connect(_in_child, weak=False)


def _before_fork(**_: Any) -> None:
    prepare_before_fork()


def _in_child(**_: Any) -> None:
    forget_parent_connections()


def make_celery(name: str, settings: Settings | None = None) -> Celery:
    """A Celery app configured for Recrue's two queues."""
    settings = settings or get_settings()
    app = Celery(name, broker=settings.resolved_broker_url)
    if settings.uses_embedded_broker:
        app.conf.broker_transport = "shared.embedded_broker:Transport"
    app.conf.update(
        broker_transport_options=broker_options(settings),
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=settings.broker_timeout,
        task_queues=(Queue(NOTIFICATIONS_QUEUE), Queue(SCHEDULING_QUEUE)),
        task_default_queue=SCHEDULING_QUEUE,
        task_routes={name: {"queue": queue} for name, queue in QUEUE_OF_TASK.items()},
        task_create_missing_queues=False,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_ignore_result=True,
        worker_hijack_root_logger=False,
        timezone="UTC",
        enable_utc=True,
    )
    return app
