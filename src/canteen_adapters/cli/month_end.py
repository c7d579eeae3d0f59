"""``canteen month-end``: queue a month's billing, debits, reminders and e-mails, and follow."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from canteen_adapters.cli._common import (
    FILE,
    ArgumentError,
    config_option,
    echo_json,
    fail,
    parse_day,
)
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
@click.option("--period", required=True, metavar="YYYY-MM", help="The month to bill.")
@click.option(
    "--communes",
    default=None,
    metavar="CODES",
    help="Communes of the registry to run, comma-separated (default: all).",
)
@click.option(
    "--registry",
    "registry_file",
    default=None,
    envvar="CANTEEN_REGISTRY",
    metavar="FILE",
    type=FILE,
    help="Platform registry (TOML list of communes). Also $CANTEEN_REGISTRY. "
    "Without it, the one commune of --config.",
)
@config_option
@click.option("--queue", default=None, help="Queue (default: $CANTEEN_JOBS_QUEUE or 'canteen').")
@click.option(
    "--batch",
    type=click.IntRange(1, 100_000),
    default=500,
    show_default=True,
    help="Households per billing job (a large commune is spread over the workers).",
)
@click.option(
    "--collection-date",
    default=None,
    metavar="DATE",
    help="Direct-debit date (default: today plus the SEPA notice of each commune).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=None,
    help="Stop following after this many seconds (the run goes on in the workers).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the reports as one JSON object.")
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
    """Run a month-end on the workers: per commune, billing (in batches of households),
    the direct-debit file, the reminders due and the e-mails; then follow it.

    \b
        canteen month-end --period 2023-09 --registry platform.toml
        canteen month-end --period 2023-09 --registry platform.toml --communes RONDE,CARRE
        canteen month-end --period 2023-09 --config canteen.toml

    Start workers first (canteen worker). Safe to run again: nothing is billed, debited or
    mailed twice. One commune's failure does not stop the others; its report says why. Exit
    status 1 when a commune failed.
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
        raise ArgumentError(f"--period : mois invalide {period!r} (attendu AAAA-MM)") from error
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
