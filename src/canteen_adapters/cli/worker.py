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
    metavar="NOMS",
    help="Files de messages à consommer, séparées par des virgules (par défaut : "
    "$CANTEEN_JOBS_QUEUE ou 'canteen').",
)
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(1, 256),
    default=None,
    help="Tâches exécutées en même temps (par défaut : une par cœur de processeur).",
)
@click.option(
    "--pool",
    type=click.Choice(["prefork", "solo", "threads"]),
    default="prefork",
    show_default=True,
    help="prefork : un processus par tâche ; solo : les tâches tournent dans le processus du "
    "worker lui-même.",
)
@click.option(
    "--name",
    "-n",
    default=None,
    metavar="NŒUD",
    help="Nom du worker, unique sur le broker (par défaut : canteen-<pid>@<hôte>).",
)
@click.option(
    "--loglevel",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="INFO",
    show_default=True,
    help="Niveau de journalisation.",
)
def command(
    queues: str | None, concurrency: int | None, pool: str, name: str | None, loglevel: str
) -> None:
    """Démarrer un worker qui exécute les tâches de fin de mois (facturation, prélèvement,
    relances, e-mails).

    \b
        canteen worker --concurrency 4
        CANTEEN_BROKER_URL=amqp://canteen:${PASSWORD}@mq.example// canteen worker

    Le broker est $CANTEEN_BROKER_URL (RabbitMQ, par défaut
    amqp://guest:guest@127.0.0.1:5672//), le stockage des résultats $CANTEEN_RESULT_BACKEND
    (Redis, par défaut redis://127.0.0.1:6379/0). Une tâche n'est acquittée qu'une fois
    terminée : si le worker meurt, ses tâches passent à un autre worker. L'arrêter avec Ctrl-C
    (il termine d'abord ses tâches) ou SIGTERM.
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
