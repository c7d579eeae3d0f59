"""``canteen tariffs``: the deployment's tariff grids (GRID.toml files)."""

from __future__ import annotations

from pathlib import Path

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import (
    Operator,
    config_option,
    open_canteen,
    operator_actor,
    operator_command,
    operator_option,
)
from canteen_adapters.cli._options import FILE
from canteen_adapters.cli._output import echo_json
from canteen_adapters.cli.grid_file import GRID_FORMAT_HELP, load_grid
from canteen_core.services.billing import BilledGridChangeError

__all__ = ["command"]


@click.group("tariffs")
def command() -> None:
    """Gérer les grilles tarifaires utilisées par la facturation."""


@command.command("set", epilog=GRID_FORMAT_HELP)
@config_option
@operator_option
@click.argument("grid_file", type=FILE)
@click.option(
    "--reprice-billed",
    is_flag=True,
    help="Confirmer la correction des prix d'une grille qui a déjà servi à facturer : la "
    "prochaine facturation régularise les factures concernées (avoirs, jours refacturés).",
)
def set_command(config: Path, operator: str | None, grid_file: Path, reprice_billed: bool) -> None:
    """Enregistrer une grille tarifaire (nouvelle, ou remplaçant la grille de même id).

    Refusé si elle chevauche dans le temps une autre grille de la même prestation. Les factures
    émises gardent les prix auxquels elles ont été facturées. Changer les prix d'une grille qui
    a déjà servi à facturer est refusé sans --reprice-billed : un nouveau tarif est une
    nouvelle grille, à partir du premier jour non facturé.

    \b
        canteen tariffs set grille-2023-2024.toml
    """
    actor = operator_actor(operator)
    grid = load_grid(grid_file)
    with open_canteen(config) as canteen:
        try:
            canteen.billing.save_tariff_grid(actor, grid, reprice_billed=reprice_billed)
        except BilledGridChangeError as error:
            fail(f"{error} (--reprice-billed)")
    until = f" au {grid.valid_until:%d/%m/%Y}" if grid.valid_until else ""
    click.echo(
        f"Grille {grid.id} enregistrée pour la prestation {grid.service_id}, du "
        f"{grid.valid_from:%d/%m/%Y}{until}"
    )


@command.command("list")
@operator_command
def list_command(operator: Operator) -> None:
    """Lister les grilles tarifaires enregistrées."""
    actor = operator.actor
    with operator.open() as canteen:
        grids = canteen.billing.tariff_grids(actor)
    if operator.as_json:
        echo_json(
            [
                {
                    "id": g.id,
                    "service": g.service_id,
                    "valid_from": g.valid_from,
                    "valid_until": g.valid_until,
                    "categories": sorted(str(c) for c in g.prices),
                }
                for g in grids
            ]
        )
        return
    for g in grids:
        until = f"{g.valid_until:%d/%m/%Y}" if g.valid_until else "…"
        categories = ", ".join(sorted(str(c) for c in g.prices))
        click.echo(f"{g.id}  {g.service_id}  {g.valid_from:%d/%m/%Y} - {until}  ({categories})")
    if not grids:
        click.echo("Aucune grille tarifaire.")
