"""``canteen db``: database maintenance (``canteen db upgrade``)."""

from __future__ import annotations

from pathlib import Path

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import config_option
from canteen_adapters.cli._options import json_option
from canteen_adapters.cli._output import echo_json
from canteen_core.config.deployment import load_deployment

__all__ = ["command"]


@click.group("db")
def command() -> None:
    """Entretenir la base de données (migration du schéma)."""


@command.command("upgrade")
@config_option
@click.option(
    "--revision", default="head", show_default=True, help="Révision du schéma à atteindre."
)
@json_option
def upgrade_command(config: Path, revision: str, as_json: bool) -> None:
    """Migrer la base de données du déploiement vers le dernier schéma (ou vers --revision).

    Peut être relancé sans risque : une base à jour est laissée telle quelle. Des lancements
    simultanés s'attendent l'un l'autre ; une migration qui échoue laisse le schéma intact.
    """
    if not config.is_file():
        fail(f"fichier de déploiement introuvable : {config} (créez-le avec « canteen init »)")
    deployment = load_deployment(config)
    storage = deployment.storage
    if storage.adapter != "sql":
        fail(f"la base « {storage.url} » n'est pas une base SQL : rien à migrer")
    from canteen_adapters.storage.sql.engine import create_engine_for_url
    from canteen_adapters.storage.sql.migrate import current_revision, upgrade

    engine = create_engine_for_url(storage.url, schema=storage.schema, tenant=storage.tenant)
    try:
        before = current_revision(engine)
    finally:
        engine.dispose()
    from alembic.util import CommandError as AlembicError

    try:
        after = upgrade(storage.url, revision, schema=storage.schema, tenant=storage.tenant)
    except AlembicError as error:
        fail(f"--revision : {error}", exit_code=2)
    if as_json:
        echo_json({"before": before, "after": after, "changed": before != after})
    elif before == after:
        click.echo(f"Base déjà à jour (schéma {after}).")
    else:
        click.echo(f"Base migrée : schéma {before or 'vide'} -> {after}.")
