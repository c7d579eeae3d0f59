"""What commands print: ``--json`` documents, French dates, counts and amounts, progress bars.

Text goes to stdout in French, as the portal writes it (``13,40 €``, ``sam. 21/10/2023``,
``72 675 repas``); a progress bar goes to stderr, and only when it is a terminal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, TypeVar

import click
from babel.dates import get_day_names

from canteen_core.domain._french import format_month_fr, format_short_date_fr
from canteen_core.domain.money import Money, format_number_fr

if TYPE_CHECKING:
    from canteen_core.services.billing.billed_days import BilledDaysCancelled

__all__ = [
    "WEEKDAY_ABBREVIATIONS_FR",
    "WEEKDAY_NAMES_FR",
    "billed_json",
    "echo_json",
    "euros",
    "french_month",
    "join_fr",
    "plural",
    "progress",
    "short_french_date",
]

T = TypeVar("T")

#: Weekday names, Monday first (babel's fr_FR: ``lundi``...).
WEEKDAY_NAMES_FR: tuple[str, ...] = tuple(
    get_day_names("wide", locale="fr_FR")[day] for day in range(7)
)
#: Weekday abbreviations, Monday first (babel's fr_FR: ``lun.``, ``mar.``...).
WEEKDAY_ABBREVIATIONS_FR: tuple[str, ...] = tuple(
    get_day_names("abbreviated", locale="fr_FR")[day] for day in range(7)
)


def echo_json(data: object) -> None:
    """Print ``data`` as indented JSON (UTF-8 kept readable, dates as ISO 8601)."""

    def default(value: object) -> str:
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(f"not JSON serializable: {type(value).__name__}")

    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=default))


def french_month(day: date) -> str:
    """``septembre 2023``: the month of ``day``."""
    return format_month_fr(day)


def short_french_date(day: date) -> str:
    """``sam. 21/10/2023``."""
    return format_short_date_fr(day)


def french_day_span(first: date, last: date) -> str:
    """``le ven. 15/09/2023`` for one day, ``du lun. 02/10/2023 au mar. 03/10/2023`` for
    several."""
    if first == last:
        return f"le {short_french_date(first)}"
    return f"du {short_french_date(first)} au {short_french_date(last)}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 jour``, ``2 jours``, ``72 675 repas`` (French: 0 and 1 are singular; thousands
    grouped with a space, as amounts are)."""
    word = singular if count <= 1 else (plural_form or f"{singular}s")
    return f"{format_number_fr(count)} {word}"


def billed_json(billed: BilledDaysCancelled) -> dict[str, object]:
    """The ``--json`` field ``billed`` of a change cancelling days already invoiced (a site
    closure, an enrollment ended earlier): how many, the households, the invoice numbers,
    the months (``"2023-09"``) and the French line (``""`` when none)."""
    return {
        "count": billed.count,
        "households": list(billed.household_ids),
        "invoices": list(billed.invoice_numbers),
        "months": [f"{month:%Y-%m}" for month in billed.months],
        "summary": billed.summary_fr,
    }


def join_fr(words: Sequence[str]) -> str:
    """``lundi, mardi et jeudi``."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} et {words[-1]}"


def euros(amount: Money) -> str:
    """``13,40 €`` (French format, as the portal prints amounts)."""
    return amount.format_fr()


def _on_terminal() -> bool:
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


@contextmanager
def progress(items: Iterable[T], *, label: str, length: int | None = None) -> Iterator[Iterable[T]]:
    """Iterate ``items`` with a progress bar on stderr when it is a terminal; silently
    otherwise (pipes, cron, tests)."""
    if not _on_terminal():
        yield items
        return
    with click.progressbar(items, length=length, label=label, file=sys.stderr) as bar:
        yield bar
