"""File and plot helpers for tariff simulations (notebooks).

Reading a population file and drawing charts are I/O, so they live here rather than in
:mod:`canteen_core.simulation`. matplotlib is imported lazily with the non-interactive ``Agg``
backend (extra ``notebook``); every plot is written to the path given and the path returned.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from canteen_core.domain.errors import InvalidInputError
from canteen_core.simulation import Population, SimulationResult
from canteen_core.simulation.extras import notebook_module

__all__ = ["load_population", "plot_cost_by_qf", "plot_revenue_by_band"]


def load_population(path: str | Path) -> Population:
    """Read a population CSV file (UTF-8, with or without BOM); see
    :meth:`Population.from_csv_text` for the columns."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInputError(f"no such population file: {file}", path="path") from None
    except UnicodeDecodeError:
        raise InvalidInputError(f"{file} is not UTF-8 text", path="path") from None
    return Population.from_csv_text(text)


def _pyplot() -> Any:
    matplotlib = notebook_module("matplotlib", "plots")
    matplotlib.use("Agg")  # no display in servers, CI or headless notebooks
    import matplotlib.pyplot as plt

    return plt


@contextmanager
def _chart(path: str | Path, title: str, size: tuple[float, float]) -> Iterator[Any]:
    """An axis to draw on; afterwards the chart gets its title and legend and is written to
    ``path`` (the figure is closed whatever happens)."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=size)
    try:
        yield axis
        axis.set_title(title)
        axis.legend()
        figure.tight_layout()
        figure.savefig(Path(path))
    finally:
        plt.close(figure)


def _results(results: SimulationResult | Sequence[SimulationResult]) -> list[SimulationResult]:
    items = [results] if isinstance(results, SimulationResult) else list(results)
    if not items:
        raise InvalidInputError("nothing to plot: give at least one simulation result")
    return items


def plot_revenue_by_band(
    results: SimulationResult | Sequence[SimulationResult],
    path: str | Path,
    *,
    title: str = "Recettes par tranche de QF",
) -> Path:
    """Bar chart of family revenue (and State aid, hatched) per band, one bar group per grid."""
    items = _results(results)
    bands: list[str] = []
    for result in items:
        for band in result.bands:
            if band.band not in bands:
                bands.append(band.band)
    width = 0.8 / len(items)
    with _chart(path, title, (max(6.0, 1.4 * len(bands)), 4.5)) as axis:
        for index, result in enumerate(items):
            by_band = {band.band: band for band in result.bands}
            xs = [i + index * width for i in range(len(bands))]
            revenue = [float(by_band[b].revenue) if b in by_band else 0.0 for b in bands]
            aid = [float(by_band[b].state_aid) if b in by_band else 0.0 for b in bands]
            axis.bar(xs, revenue, width, label=f"{result.grid_id} : familles")
            if any(aid):
                axis.bar(xs, aid, width, bottom=revenue, hatch="//", alpha=0.5,
                         label=f"{result.grid_id} : aide de l'État")  # fmt: skip
        axis.set_xticks([i + width * (len(items) - 1) / 2 for i in range(len(bands))])
        axis.set_xticklabels(bands, rotation=20, ha="right")
        axis.set_ylabel(f"Recettes annuelles ({items[0].currency})")
    return Path(path)


def plot_cost_by_qf(
    results: SimulationResult | Sequence[SimulationResult],
    path: str | Path,
    *,
    title: str = "Coût annuel par foyer selon le QF",
) -> Path:
    """Scatter of each household's annual cost against its QF (households without QF omitted)."""
    items = _results(results)
    with _chart(path, title, (7.0, 4.5)) as axis:
        for result in items:
            pairs = [
                (float(q), float(c))
                for q, c in zip(result.quotients, result.annual_costs, strict=True)
                if q is not None
            ]
            axis.scatter([p[0] for p in pairs], [p[1] for p in pairs], s=4, alpha=0.4,
                         label=result.grid_id)  # fmt: skip
        axis.set_xlabel("Quotient familial (€)")
        axis.set_ylabel(f"Coût annuel ({items[0].currency})")
    return Path(path)
