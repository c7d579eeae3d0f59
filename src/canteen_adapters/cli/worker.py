"""``canteen worker``: a Celery worker running month-end jobs."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from canteen_adapters.cli._common import fail

if TYPE_CHECKING:
    from celery import Celery

__all__ = ["command", "jobs_app"]


def jobs_app() -> Celery:
    """The jobs' Celery application; one clear line when the ``jobs`` extra is missing."""
    try:
        from canteen_adapters.jobs.app import app
    except ImportError as error:
        fail(
            "les tâches de fond demandent Celery : "
            f"pip install 'canteen[jobs]' ({error.name} absent)"
        )
    return app


@click.command("worker")
@click.option(
    "--queues",
    "-Q",
    default=None,
    metavar="NAMES",
    help="Queues to consume, comma-separated (default: $CANTEEN_JOBS_QUEUE or 'canteen').",
)
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(1, 256),
    default=None,
    help="Jobs run at once (default: one per CPU core).",
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "solo", "threads"]),
    default="prefork",
    show_default=True,
    help="prefork: one process per job; solo: the jobs run in the worker process itself.",
)
@click.option(
    "--name",
    "-n",
    default=None,
    metavar="NODE",
    help="Worker name, unique on the broker (default: canteen-<pid>@<host>).",
)
@click.option(
    "--loglevel",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="INFO",
    show_default=True,
)
def command(
    queues: str | None, concurrency: int | None, pool: str, name: str | None, loglevel: str
) -> None:
    """Start a worker running month-end jobs (billing, direct debit, reminders, e-mails).

    \b
        canteen worker --concurrency 4
        CANTEEN_BROKER_URL=amqp://canteen:${PASSWORD}@mq.example// canteen worker

    The broker is $CANTEEN_BROKER_URL (RabbitMQ, default amqp://guest:guest@127.0.0.1:5672//),
    the result backend $CANTEEN_RESULT_BACKEND (Redis, default redis://127.0.0.1:6379/0).
    A job is acknowledged only once done: if the worker dies, its jobs go to another worker.
    Stop it with Ctrl-C (it finishes its jobs first) or SIGTERM.
    """
    from canteen_adapters.jobs.app import default_queue

    app = jobs_app()
    argv = [
        "worker",
        f"--queues={queues or default_queue()}",
        f"--pool={pool}",
        # Two workers of one name on one broker collide (their control queue is exclusive).
        f"--hostname={name or f'canteen-{os.getpid()}@%h'}",
        f"--loglevel={loglevel.upper()}",
        "--without-gossip",
        "--without-mingle",
    ]
    if concurrency is not None:
        argv.append(f"--concurrency={concurrency}")
    app.worker_main(argv=argv)
