"""``canteen calendar``: a school year's service days and closures.

``canteen calendar --department 77 --school-year 2023-2024`` prints, month by month, the days the
service runs (with counts), then the closures with their reasons. School holidays, public holidays,
bridge days and site closures are listed (consecutive days with one reason as one range);
weekends and the service's closed weekdays are counted in one line.

``--json`` prints one object::

    {"zone": "C", "department": "77", "school_year": "2023-2024",
     "weekdays": ["mon", "tue", "thu", "fri"],
     "first_day": "2023-09-04", "last_day": "2024-07-05",
     "service_days": ["2023-09-04", ...],
     "closed_days": [{"date": "2023-09-06", "kind": "closed_weekday", "reason": "Mercredi"}, ...],
     "counts_by_month": {"2023-09": 16, ...}}

``closed_days`` lists *every* day from ``first_day`` to ``last_day`` that is not a service day,
weekends included, so ``service_days`` and ``closed_days`` together cover the school year exactly
once. ``department`` is ``null`` when ``--zone`` was given.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from itertools import groupby
from typing import Any

import attrs
import click

from canteen_adapters.calendars.france import (
    FranceHolidaySource,
    is_alsace_moselle,
    normalize_department,
)
from canteen_adapters.cli._common import fail
from canteen_adapters.cli._options import json_option
from canteen_adapters.cli._output import (
    WEEKDAY_ABBREVIATIONS_FR,
    WEEKDAY_NAMES_FR,
    echo_json,
    french_day_span,
    french_month,
    join_fr,
    plural,
    short_french_date,
)
from canteen_core.domain.calendar import Closure, ClosureKind, ServiceCalendar, Zone, parse_weekdays
from canteen_core.domain.calendar_words import WEEKDAY_CODES

__all__ = ["CalendarReport", "build_report", "command", "render_text", "report_json"]

# Closures every week brings; the text output counts them instead of listing them.
_ROUTINE = frozenset({ClosureKind.WEEKEND, ClosureKind.CLOSED_WEEKDAY})


@attrs.frozen(kw_only=True)
class CalendarReport:
    """What ``canteen calendar`` shows: a service calendar and where it came from."""

    calendar: ServiceCalendar
    department: str | None = None
    department_name: str | None = None
    academy: str | None = None


def build_report(
    *,
    zone: str | None,
    department: str | None,
    school_year: str,
    weekdays: str,
    source: FranceHolidaySource | None = None,
) -> CalendarReport:
    """Resolve the command's arguments into a calendar; bad input raises ``CanteenError``."""
    if zone is not None and department is not None:
        fail("--zone ou --department, pas les deux", exit_code=2)
    if zone is None and department is None:
        fail("--zone (A, B ou C) ou --department (par exemple 77) obligatoire", exit_code=2)
    source = source or FranceHolidaySource()
    open_weekdays = parse_weekdays(weekdays)
    if department is not None:
        resolved_zone = source.zone_for_department(department)
        code = normalize_department(department)
        year = source.school_year(resolved_zone, school_year, department=code)
        return CalendarReport(
            calendar=ServiceCalendar(school_year=year, open_weekdays=open_weekdays),
            department=code,
            department_name=source.department_name(code),
            academy=source.academy(code),
        )
    year = source.school_year(Zone.parse(zone or ""), school_year)
    return CalendarReport(calendar=ServiceCalendar(school_year=year, open_weekdays=open_weekdays))


def report_json(report: CalendarReport) -> dict[str, Any]:
    """The ``--json`` object (see the module docstring)."""
    calendar = report.calendar
    year = calendar.school_year
    return {
        "zone": str(year.zone),
        "department": report.department,
        "school_year": year.label,
        "weekdays": [WEEKDAY_CODES[day] for day in sorted(calendar.open_weekdays)],
        "first_day": calendar.first_day.isoformat(),
        "last_day": calendar.last_day.isoformat(),
        "service_days": [day.isoformat() for day in calendar.open_days()],
        "closed_days": [
            {"date": closure.day.isoformat(), "kind": str(closure.kind), "reason": closure.reason}
            for closure in calendar.closures()
        ],
        "counts_by_month": calendar.counts_by_month(),
    }


def _month_label(key: str) -> str:
    year, month = key.split("-")
    return french_month(date(int(year), int(month), 1))


def _month_lines(calendar: ServiceCalendar, key: str, count: int) -> Iterator[str]:
    """One month: a header with the count, then one row per ISO week with its service days."""
    yield f"{_month_label(key).capitalize()} : {plural(count, 'jour')} de service"
    if count == 0:
        return
    weekdays = sorted(calendar.open_weekdays)
    yield "            " + " ".join(f"{WEEKDAY_ABBREVIATIONS_FR[day]:>4}" for day in weekdays)
    days = [day for day in calendar.open_days() if f"{day:%Y-%m}" == key]
    for (_, week), in_week in groupby(days, key=lambda day: day.isocalendar()[:2]):
        monday = next(iter(in_week))
        monday -= timedelta(days=monday.weekday())
        cells = []
        for weekday in weekdays:
            day = monday + timedelta(days=weekday)
            if f"{day:%Y-%m}" != key:
                cells.append("    ")  # another month's day
            elif calendar.is_open(day):
                cells.append(f"{day.day:>4}")
            else:
                cells.append("   ·")  # closed: see the closures below
        yield f"  sem. {week:>2}   " + " ".join(cells).rstrip()


def _closure_runs(closures: tuple[Closure, ...]) -> Iterator[tuple[date, date, Closure]]:
    """Consecutive closed days with the same reason, as (first, last, closure of the first)."""
    run: list[Closure] = []
    for closure in closures:
        if run and (
            closure.reason != run[-1].reason
            or closure.kind != run[-1].kind
            or closure.day != run[-1].day + timedelta(days=1)
        ):
            yield run[0].day, run[-1].day, run[0]
            run = []
        run.append(closure)
    if run:
        yield run[0].day, run[-1].day, run[0]


def render_text(report: CalendarReport) -> str:
    """The human-readable calendar, in French."""
    calendar = report.calendar
    year = calendar.school_year
    where = f"zone {year.zone}"
    if report.department is not None:
        where = (
            f"{report.department_name} ({report.department}), académie de {report.academy}, "
            f"zone {year.zone}"
        )
        if is_alsace_moselle(report.department):
            where += " (jours fériés d'Alsace-Moselle)"
    weekday_names = [WEEKDAY_NAMES_FR[day] for day in sorted(calendar.open_weekdays)]
    open_days = calendar.open_days()
    closures = calendar.closures()
    lines = [
        f"Calendrier scolaire {year.label} : {where}",
        f"Du {short_french_date(calendar.first_day)} (rentrée) au "
        f"{short_french_date(calendar.last_day)} (dernier jour de classe)",
        f"Service le {join_fr(weekday_names)} : {plural(len(open_days), 'jour')} de service, "
        f"{plural(len(closures), 'jour')} de fermeture",
        "",
        "Jours de service par mois",
    ]
    for key, count in calendar.counts_by_month().items():
        lines.extend(_month_lines(calendar, key, count))
    lines.append("")
    lines.append("Fermetures")
    routine: dict[str, int] = {}
    listed: list[tuple[str, str]] = []
    for first, last, closure in _closure_runs(closures):
        if closure.kind in _ROUTINE:
            label = "week-end" if closure.kind is ClosureKind.WEEKEND else closure.reason.lower()
            routine[label] = routine.get(label, 0) + (last - first).days + 1
        elif first == last:
            listed.append((french_day_span(first, last), closure.reason))
        else:
            length = plural((last - first).days + 1, "jour")
            listed.append((french_day_span(first, last), f"{closure.reason} ({length})"))
    width = max((len(when) for when, _ in listed), default=0)
    lines.extend(f"  {when:<{width}}  {reason}" for when, reason in listed)
    if routine:
        counted = [
            plural(count, "jour") + f" de {label}" if label == "week-end" else f"{count} {label}s"
            for label, count in routine.items()
        ]
        lines.append(f"  Autres fermetures : {join_fr(counted)}")
    return "\n".join(lines)


@click.command("calendar")
@click.option("--zone", metavar="A|B|C", help="Zone de vacances scolaires.")
@click.option(
    "--department", metavar="NN", help="Numéro de département (qui donne la zone), par exemple 77."
)
@click.option(
    "--school-year",
    "school_year",
    required=True,
    metavar="YYYY-YYYY",
    help="Année scolaire, par exemple 2023-2024.",
)
@click.option(
    "--weekdays",
    default="mon,tue,thu,fri",
    show_default=True,
    metavar="JOURS",
    help="Jours de service : mon,tue,wed,thu,fri, noms français (lundi...) ou une plage (mon-fri).",
)
@json_option
def command(
    zone: str | None, department: str | None, school_year: str, weekdays: str, as_json: bool
) -> None:
    """Afficher mois par mois les jours de service d'une année scolaire et ses fermetures motivées.

    Donner la zone ou le département (qui choisit aussi les jours fériés d'Alsace-Moselle) :

    \b
        canteen calendar --department 77 --school-year 2023-2024
        canteen calendar --zone A --school-year 2024-2025 --weekdays mon-fri --json

    Avec --json, closed_days liste chaque jour sans service de la rentrée au dernier jour de
    classe (week-ends compris), avec sa nature et son motif.
    """
    report = build_report(
        zone=zone, department=department, school_year=school_year, weekdays=weekdays
    )
    if as_json:
        echo_json(report_json(report))
    else:
        click.echo(render_text(report))
