"""``canteen serve``: the HTTP API (:mod:`canteen_adapters.web`) on the deployment, with uvicorn.

The clock is the system's, or starts at ``$CANTEEN_NOW`` and runs from there (to serve the
demo's school year: ``CANTEEN_NOW=2023-10-06T09:00:00+02:00 canteen serve``).

``--workers N`` runs N server processes (one per core): sessions and idempotency keys are in
the deployment's storage, so any worker answers any request. Each worker opens the
deployment itself (:func:`worker_app`, told the file and options through the environment).
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import cli_clock, config_option, open_canteen
from canteen_adapters.heap import freeze_startup_heap
from canteen_core.domain.clock import Clock

__all__ = ["RunningClock", "command", "worker_app"]

#: What :func:`worker_app` reads: the deployment file and the public URL (empty: none).
CONFIG_VARIABLE = "CANTEEN_SERVE_CONFIG"
PUBLIC_URL_VARIABLE = "CANTEEN_SERVE_PUBLIC_URL"


class RunningClock:
    """A clock that starts at ``start`` and advances with real time (sessions expire, login
    lockouts end, as on a live server)."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._origin = time.monotonic()

    def now(self) -> datetime:
        """``start`` plus the time elapsed since the clock was made."""
        return self._start + timedelta(seconds=time.monotonic() - self._origin)


def _clock() -> Clock | None:
    fixed = cli_clock()
    return None if fixed is None else RunningClock(fixed.now())


def worker_app() -> Any:
    """The app of one worker process of ``canteen serve --workers N`` (a uvicorn factory):
    the deployment of ``$CANTEEN_SERVE_CONFIG``, closed when the worker stops."""
    from canteen_adapters.web import WebSettings, create_app

    canteen = open_canteen(Path(os.environ[CONFIG_VARIABLE]), clock=_clock())
    app = create_app(canteen, WebSettings(public_url=os.environ.get(PUBLIC_URL_VARIABLE) or None))
    app.on_shutdown.append(canteen.close)
    freeze_startup_heap()
    return app


@click.command("serve")
@config_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port TCP."
)
@click.option(
    "--public-url",
    default=None,
    metavar="URL",
    help="Adresse à laquelle les familles joignent l'API (URL de retour et de notification des "
    "paiements) ; par défaut, celle de la requête.",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
    help="Niveau de journalisation du serveur.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processus serveur (un par cœur) ; ils partagent les sessions par le stockage.",
)
def command(
    config: Path, host: str, port: int, public_url: str | None, log_level: str, workers: int
) -> None:
    """Servir l'API HTTP (portail des familles et pages de gestion) du déploiement.

    \b
        canteen serve --config canteen-demo/canteen.toml
        CANTEEN_NOW=2023-10-06T09:00:00+02:00 canteen serve   # à la date de la démo, qui avance
        canteen serve --workers 2                              # deux processus, deux cœurs

    Le document OpenAPI est à /openapi.json, sa présentation à /schema. Arrêter avec Ctrl+C.
    """
    try:
        import uvicorn

        from canteen_adapters.web import WebSettings, create_app
    except ImportError:  # pragma: no cover - the web extra is missing
        fail("le serveur web n'est pas installé : pip install 'canteen[web]'")
    canteen = open_canteen(config, clock=_clock())  # migrates, once, before any worker
    if workers > 1:
        canteen.close()
        os.environ[CONFIG_VARIABLE] = str(config.resolve())
        os.environ[PUBLIC_URL_VARIABLE] = public_url or ""
        click.echo(
            f"canteen : portail sur http://{host}:{port}/connexion, API documentée sur /schema "
            f"({workers} processus)"
        )
        uvicorn.run(
            "canteen_adapters.cli.serve:worker_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level=log_level,
            server_header=False,
        )
        return
    with canteen:
        app = create_app(canteen, WebSettings(public_url=public_url))
        click.echo(
            f"canteen : portail sur http://{host}:{port}/connexion, API documentée sur /schema"
        )
        freeze_startup_heap()
        uvicorn.run(app, host=host, port=port, log_level=log_level, server_header=False)
