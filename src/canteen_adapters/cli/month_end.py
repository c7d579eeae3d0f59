"""``canteen month-end``: queue a month's billing, debits, reminders and e-mails, and follow."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from canteen_adapters.cli._common import ArgumentError, fail
from canteen_adapters.cli._operator import config_option
from canteen_adapters.cli._options import FILE, parse_day
from canteen_adapters.cli._output import echo_json
from canteen_adapters.cli.worker import jobs_app

__all__ = ["command"]


def _safe(url: str) -> str:
    """A broker URL without its password."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return url
    return f"{scheme}{sep}{credentials.split(':')[0]}:***@{host}"


@click.command("month-end")
@click.option("--period", required=True, metavar="YYYY-MM", help="Mois à facturer.")
@click.option(
    "--communes",
    default=None,
    metavar="CODES",
    help="Communes du registre à traiter, séparées par des virgules (par défaut : toutes).",
)
@click.option(
    "--registry",
    "registry_file",
    default=None,
    envvar="CANTEEN_REGISTRY",
    metavar="FICHIER",
    type=FILE,
    help="Registre de la plateforme (liste TOML des communes). Aussi $CANTEEN_REGISTRY. "
    "Sans registre : la seule commune de --config.",
)
@config_option
@click.option(
    "--queue",
    default=None,
    help="File de messages (par défaut : $CANTEEN_JOBS_QUEUE ou 'canteen').",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 100_000),
    default=500,
    show_default=True,
    help="Foyers par tâche de facturation (une grande commune est répartie entre les workers).",
)
@click.option(
    "--collection-date",
    default=None,
    metavar="DATE",
    help="Date de prélèvement (par défaut : aujourd'hui plus le préavis SEPA de chaque commune).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=None,
    help="Arrêter le suivi après ce nombre de secondes (le traitement continue dans les workers).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Afficher les comptes rendus en un seul objet JSON."
)
def command(
    period: str,
    communes: str | None,
    registry_file: Path | None,
    config: Path,
    queue: str | None,
    batch: int,
    collection_date: str | None,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Lancer une fin de mois sur les workers : par commune, la facturation (par lots de foyers),
    le fichier de prélèvement, les relances dues et les e-mails ; puis en suivre l'avancement.

    \b
        canteen month-end --period 2023-09 --registry platform.toml
        canteen month-end --period 2023-09 --registry platform.toml --communes RONDE,CARRE
        canteen month-end --period 2023-09 --config canteen.toml

    Démarrer d'abord les workers (canteen worker). Peut être relancé sans risque : rien n'est
    facturé, prélevé ni envoyé deux fois. L'échec d'une commune n'arrête pas les autres ; son
    compte rendu dit pourquoi. Code de sortie 1 si une commune a échoué.
    """
    from kombu.exceptions import OperationalError
    from redis.exceptions import RedisError

    from canteen_adapters.jobs.monthend import Status, follow, queue_month_end
    from canteen_adapters.jobs.registry import Registry, load_registry
    from canteen_core.domain.errors import InvalidInputError

    celery = jobs_app()
    day: date | None = None
    if collection_date is not None:
        day = parse_day(collection_date, "--collection-date")
    codes = [code for code in (communes or "").split(",") if code.strip()]
    if registry_file is not None:
        registry = load_registry(registry_file)
    else:
        if not config.is_file():
            fail(f"fichier de déploiement introuvable : {config} (ou indiquez --registry)")
        from canteen_core.config.deployment import load_deployment

        code = load_deployment(config).issuer.code
        registry = Registry.single(config, code=code)
    selected = registry.select(codes)
    try:
        run = queue_month_end(selected, period, queue=queue, batch_size=batch, collection_date=day)
    except InvalidInputError as error:
        raise ArgumentError(f"--period : mois invalide « {period} » (attendu AAAA-MM)") from error
    except (OperationalError, OSError) as error:
        fail(f"file de messages injoignable ({_safe(celery.conf.broker_url)}) : {error}")
    if not as_json:
        click.echo(
            f"Fin de mois {period} : {len(selected)} commune(s) dans la file « {run.queue} »"
        )

    def show(status: Status) -> None:
        if not as_json and not status.done:
            click.echo(f"{status.commune.code} : {status.text}")

    try:
        reports = follow(run, on_change=show, timeout=timeout)
    except TimeoutError:
        fail(f"pas fini après {timeout:g} s : la fin de mois continue dans les workers")
    except (RedisError, OSError) as error:
        fail(f"suivi impossible, le stockage des résultats ne répond pas : {error}")
    ordered = [reports[commune.code] for commune, _ in run.communes]
    if as_json:
        # Each commune's task id is the key of its report in the result backend (a week).
        communes_data = [
            {**reports[commune.code].to_dict(), "task_id": task_id}
            for commune, task_id in run.communes
        ]
        echo_json({"period": period, "queue": run.queue, "communes": communes_data})
    else:
        for report in ordered:
            for line in report.lines_fr():
                click.echo(line)
    failed = [report.commune for report in ordered if not report.ok]
    if failed:
        fail(f"fin de mois {period} en échec pour : {', '.join(failed)}")
