"""``canteen simulate``: what a tariff grid costs each family and the commune."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._options import FILE, json_option
from canteen_adapters.cli._output import echo_json, plural
from canteen_adapters.cli.grid_file import GRID_FORMAT_HELP, load_grid
from canteen_core.domain.money import Money
from canteen_core.simulation import SimulationResult, compare, simulate

__all__ = ["command"]


def _eur(value: Decimal) -> str:
    return Money.of(value).format_fr()


def _result_json(result: SimulationResult) -> dict[str, Any]:
    return {
        "grid": result.grid_id,
        "months": result.months,
        "meals": f"{result.meals}",
        "revenue": f"{result.revenue:.2f}",
        "state_aid": f"{result.state_aid:.2f}",
        "total_income": f"{result.total_income:.2f}",
        "aid_eligible": result.aid.eligible,
        "aid_reason": result.aid.reason,
        "bands": [
            {
                "band": band.band,
                "households": band.households,
                "children": band.children,
                "meals": f"{band.meals}",
                "revenue": f"{band.revenue:.2f}",
                "state_aid": f"{band.state_aid:.2f}",
            }
            for band in result.bands
        ],
    }


def _result_lines(result: SimulationResult) -> list[str]:
    aid = "éligible" if result.aid.eligible else "non éligible"
    lines = [
        f"Grille {result.grid_id} ({result.months} mois) : recettes familles "
        f"{_eur(result.revenue)}, aide de l'État {_eur(result.state_aid)} "
        f"(cantine à 1 € : {aid} — {result.aid.reason}), total {_eur(result.total_income)}",
    ]
    width = max((len(band.band) for band in result.bands), default=0)
    for band in result.bands:
        lines.append(
            f"  {band.band:<{width}}  {plural(band.households, 'foyer'):>12}  "
            f"{_eur(band.revenue):>14}  aide {_eur(band.state_aid)}"
        )
    return lines


@click.command("simulate", epilog=GRID_FORMAT_HELP)
@click.option(
    "--grid",
    "grid_path",
    required=True,
    type=FILE,
    help="Grille tarifaire (GRID.toml, format ci-dessous).",
)
@click.option(
    "--population",
    "population_path",
    required=True,
    type=FILE,
    help="Fichier CSV : household_id, qf, children, meals_per_month[, resident].",
)
@click.option(
    "--compare",
    "compare_path",
    type=FILE,
    help="Seconde grille à comparer à la première (familles gagnantes et perdantes).",
)
@click.option(
    "--plot",
    "plot_path",
    type=FILE,
    help="Écrire un graphique PNG des recettes par tranche de QF (nécessite matplotlib).",
)
@click.option(
    "--months",
    type=click.IntRange(1, 12),
    default=10,
    show_default=True,
    help="Mois de classe dans l'année simulée.",
)
@json_option
def command(
    grid_path: Path,
    population_path: Path,
    compare_path: Path | None,
    plot_path: Path | None,
    months: int,
    as_json: bool,
) -> None:
    """Chiffrer une population avec une grille tarifaire sur une année scolaire (sans base).

    Donne les recettes par tranche de QF et l'aide de l'État « cantine à 1 € » ; avec --compare,
    ce que la seconde grille change pour la commune et pour chaque famille.

    \b
        canteen simulate --grid grille-2024.toml --population foyers.csv
        canteen simulate --grid actuelle.toml --population foyers.csv \\
            --compare projet.toml --plot recettes.png
    """
    from canteen_adapters.simulation_plots import load_population, plot_revenue_by_band

    if plot_path is not None and not plot_path.resolve().parent.is_dir():
        fail(f"--plot : le dossier de {plot_path} n'existe pas", exit_code=2)
    grid = load_grid(grid_path)
    other = load_grid(compare_path) if compare_path is not None else None
    population = load_population(population_path)
    base = simulate(population, grid, months=months)
    results = [base]
    comparison = None
    if other is not None:
        comparison = compare(population, grid, other, months=months)
        results.append(comparison.candidate)
    if plot_path is not None:
        plot_revenue_by_band(results, plot_path)
    if as_json:
        data: dict[str, Any] = {
            "households": len(population),
            "results": [_result_json(r) for r in results],
        }
        if comparison is not None:
            data["comparison"] = {
                "revenue_change": f"{comparison.revenue_change:.2f}",
                "aid_change": f"{comparison.aid_change:.2f}",
                "income_change": f"{comparison.income_change:.2f}",
                "winners": comparison.winners,
                "losers": comparison.losers,
                "unchanged": comparison.unchanged,
            }
        if plot_path is not None:
            data["plot"] = str(plot_path)
        echo_json(data)
        return
    click.echo(f"Population : {plural(len(population), 'foyer')} ({population_path})")
    for result in results:
        click.echo("")
        for line in _result_lines(result):
            click.echo(line)
    if comparison is not None:
        click.echo("")
        click.echo(
            f"{comparison.candidate.grid_id} par rapport à {grid.id} : recettes "
            f"{_eur(comparison.revenue_change)}, aide {_eur(comparison.aid_change)}, "
            f"total {_eur(comparison.income_change)} ; {comparison.winners} foyers y gagnent, "
            f"{comparison.losers} y perdent, {comparison.unchanged} inchangés"
        )
    if plot_path is not None:
        click.echo(f"Graphique : {plot_path}")
