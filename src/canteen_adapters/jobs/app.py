"""The Celery application of canteen's jobs: brokers, queue and delivery guarantees.

Where the broker and the result backend are comes from the environment, so that the worker and
the ``canteen month-end`` command started with the same environment meet:

``CANTEEN_BROKER_URL``
    The message broker (default ``amqp://guest:guest@127.0.0.1:5672//``, RabbitMQ).
``CANTEEN_RESULT_BACKEND``
    Where progress and reports are kept (default ``redis://127.0.0.1:6379/0``).
``CANTEEN_JOBS_QUEUE``
    The queue month-end runs go to when none is given (default ``canteen``).

Delivery: a message is acknowledged only when its task has finished (``acks_late``), a task
whose worker process died is put back in the queue (``reject_on_worker_lost``), and a worker
reserves one message at a time (``prefetch_multiplier = 1``), so a worker killed mid-job has
its job redelivered to another worker (or to itself once restarted).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from celery import Celery

__all__ = [
    "DEFAULT_BACKEND",
    "DEFAULT_BROKER",
    "DEFAULT_QUEUE",
    "app",
    "configure",
    "default_queue",
]

DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
DEFAULT_BACKEND = "redis://127.0.0.1:6379/0"
DEFAULT_QUEUE = "canteen"

#: Seconds a report stays in the result backend (a week: the month-end can be followed again).
RESULT_EXPIRES = 7 * 24 * 3600


def default_queue(environ: Mapping[str, str] | None = None) -> str:
    """The queue month-end runs go to: ``$CANTEEN_JOBS_QUEUE`` or ``canteen``."""
    env = os.environ if environ is None else environ
    return env.get("CANTEEN_JOBS_QUEUE") or DEFAULT_QUEUE


def configure(celery: Celery, environ: Mapping[str, str] | None = None) -> Celery:
    """Set ``celery``'s brokers (from ``environ``, default the process environment) and the
    delivery guarantees month-end relies on; returns it."""
    env = os.environ if environ is None else environ
    celery.conf.update(
        broker_url=env.get("CANTEEN_BROKER_URL") or DEFAULT_BROKER,
        result_backend=env.get("CANTEEN_RESULT_BACKEND") or DEFAULT_BACKEND,
        task_default_queue=default_queue(env),
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_extended=True,
        result_expires=RESULT_EXPIRES,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_track_started=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        # A broker that does not answer fails the command instead of hanging forever.
        broker_connection_timeout=10,
        broker_connection_max_retries=3,
        redis_socket_connect_timeout=10,
        timezone="Europe/Paris",
        enable_utc=True,
        worker_hijack_root_logger=False,
    )
    return celery


#: The application: ``celery -A canteen_adapters.jobs.app worker`` works as ``canteen worker``.
app = configure(Celery("canteen", include=["canteen_adapters.jobs.tasks"]))
