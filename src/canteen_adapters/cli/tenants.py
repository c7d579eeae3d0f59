"""``canteen tenants``: the communes of a PostgreSQL database shared by many (the registry).

``canteen tenants list`` and ``canteen tenants show ID`` read the registry, ``canteen tenants
add ID --name ...`` registers a commune with its settings and its secrets by reference (the
name of the environment variable holding each). Run them with the tables' owner's URL
(``--url``, or ``$CANTEEN_ADMIN_URL``) to see every commune: canteen's own role sees only the
commune of its deployment (row-level security, see ``docs/tenancy.md``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import config_option
from canteen_adapters.cli._options import json_option
from canteen_adapters.cli._output import echo_json
from canteen_core.config.deployment import load_deployment
from canteen_core.domain.tenants import Tenant

if TYPE_CHECKING:
    from canteen_adapters.storage.sql.tenant_registry import SqlTenantRegistry

__all__ = ["command"]

_url_option = click.option(
    "--url",
    default=None,
    envvar="CANTEEN_ADMIN_URL",
    metavar="URL",
    help="URL de la base pour le propriétaire des tables (par défaut : celle du déploiement). "
    "Aussi $CANTEEN_ADMIN_URL.",
)


@click.group("tenants")
def command() -> None:
    """Gérer les communes d'une base PostgreSQL partagée (registre des communes)."""


@contextmanager
def _registry(config: Path, url: str | None) -> Iterator[SqlTenantRegistry]:
    if not config.is_file():
        fail(f"fichier de déploiement introuvable : {config} (créez-le avec « canteen init »)")
    storage = load_deployment(config).storage
    if storage.adapter != "sql":
        fail(f"la base « {storage.url} » n'est pas une base SQL : pas de registre des communes")
    from canteen_adapters.storage.sql.tenant_registry import SqlTenantRegistry

    registry = SqlTenantRegistry.open(storage, url=url)
    try:
        yield registry
    finally:
        registry.close()


def _as_json(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "name": tenant.name,
        "settings": tenant.settings,
        "secrets": tenant.secrets,
        "created_at": tenant.created_at.isoformat() if tenant.created_at else None,
    }


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key.strip():
            fail(f"{option} : attendu NOM=VALEUR, reçu « {value} »", exit_code=2)
        pairs[key.strip()] = item.strip()
    return pairs


@command.command("list")
@config_option
@_url_option
@json_option
def list_command(config: Path, url: str | None, as_json: bool) -> None:
    """Lister les communes enregistrées (celles que le rôle de la connexion peut voir)."""
    with _registry(config, url) as registry:
        found = registry.list()
    if as_json:
        echo_json({"tenants": [_as_json(tenant) for tenant in found]})
    elif not found:
        click.echo("Aucune commune inscrite.")
    else:
        for tenant in found:
            click.echo(f"{tenant.id}\t{tenant.name}")


@command.command("show")
@click.argument("tenant_id")
@config_option
@_url_option
@json_option
def show_command(tenant_id: str, config: Path, url: str | None, as_json: bool) -> None:
    """Afficher une commune : ses réglages et les variables d'environnement de ses secrets."""
    with _registry(config, url) as registry:
        tenant = registry.get(tenant_id)
    if as_json:
        echo_json(_as_json(tenant))
        return
    click.echo(f"{tenant.id} : {tenant.name}")
    for key, value in sorted(tenant.settings.items()):
        click.echo(f"  réglage {key} = {value}")
    for key, name in sorted(tenant.secrets.items()):
        click.echo(f"  secret {key} : variable d'environnement {name}")


@command.command("add")
@click.argument("tenant_id")
@click.option("--name", required=True, help="Nom affiché de la commune.")
@click.option(
    "--setting",
    "settings",
    multiple=True,
    metavar="NOM=VALEUR",
    help="Un réglage (option répétable).",
)
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    metavar="NOM=VARIABLE",
    help="Un secret, par le nom de la variable d'environnement qui le contient (jamais sa valeur).",
)
@config_option
@_url_option
@json_option
def add_command(
    tenant_id: str,
    name: str,
    settings: tuple[str, ...],
    secrets: tuple[str, ...],
    config: Path,
    url: str | None,
    as_json: bool,
) -> None:
    """Enregistrer une commune (son déploiement la désigne ensuite par [storage] tenant)."""
    tenant = Tenant(
        id=tenant_id,
        name=name,
        settings=_pairs(settings, "--setting"),
        secrets=_pairs(secrets, "--secret"),
    )
    with _registry(config, url) as registry:
        added = registry.add(tenant)
    if as_json:
        echo_json(_as_json(added))
    else:
        click.echo(f"Commune inscrite : {added.id} ({added.name}).")
