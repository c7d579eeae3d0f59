"""``canteen enroll``: enroll a child of a household in a service at a site."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import time
from typing import TypeVar

import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._operator import Operator, operator_command
from canteen_adapters.cli._options import choice_option, parse_day
from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar import parse_weekdays
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.deadlines import (
    CutOffPolicy,
    FixedDelay,
    OpenDaysBefore,
    WeeklyDeadline,
    WorkingDaysBefore,
)
from canteen_core.domain.enrollments import Enrollment, LateChangeMode
from canteen_core.services import Canteen

__all__ = ["command", "enrollment_json", "parse_deadline"]

_Entry = TypeVar("_Entry", Service, Site)

_DEADLINE_HELP = (
    "Délai de réservation : 'thu 10:00' (jeudi 10 h pour la semaine suivante), 'veille 11:00' "
    "(le jour de service précédent à 11 h), '2jo 10:00' (2 jours ouvrés avant, à 10 h : du lundi "
    "au vendredi, jours fériés exceptés), '48h' (48 heures avant) ou '8j' (8 jours calendaires "
    "avant)."
)


def enrollment_json(enrollment: Enrollment) -> dict[str, object]:
    """One enrollment as the ``--json`` output of the enrollment commands prints it."""
    return {
        "id": enrollment.id,
        "household_id": enrollment.household_id,
        "child_id": enrollment.child_id,
        "service": enrollment.service.id,
        "site": enrollment.site.id,
        "start": enrollment.start,
        "end": enrollment.end,
        "tariff_category": enrollment.tariff_category,
        "late_change": enrollment.late_change.value,
        "deadline": enrollment.booking_policy.describe("fr"),
    }


def _time(text: str) -> time:
    match = re.fullmatch(r"([01]?\d|2[0-3])[:h]([0-5]\d)", text.strip())
    if match is None:
        fail(f"--deadline : heure invalide « {text} » (ex. 10:00)", exit_code=2)
    return time(int(match.group(1)), int(match.group(2)))


def parse_deadline(text: str) -> CutOffPolicy:
    """``"thu 10:00"``, ``"veille 11:00"``, ``"2jo 10:00"``, ``"48h"`` or ``"8j"`` as a
    cut-off policy."""
    value = text.strip().lower()
    working = re.fullmatch(r"(\d{1,2})\s*(?:jo|jours? ouvrés?)\s+(\S+)", value)
    if working:
        return WorkingDaysBefore(days=int(working.group(1)), at=_time(working.group(2)))
    hours = re.fullmatch(r"(\d{1,3})\s*h", value)
    if hours:
        return FixedDelay.hours(int(hours.group(1)))
    days = re.fullmatch(r"(\d{1,2})\s*[jd]", value)
    if days:
        return FixedDelay.days(int(days.group(1)))
    word, _, at = value.partition(" ")
    if not at:
        fail(f"--deadline : délai invalide « {text} ». {_DEADLINE_HELP}", exit_code=2)
    if word in ("veille", "previous"):
        return OpenDaysBefore(days=1, at=_time(at))
    weekday = min(parse_weekdays(word))
    return WeeklyDeadline(weekday=weekday, at=_time(at))


def _from_catalog(
    known: Mapping[str, _Entry],
    item_id: str,
    name: str | None,
    create: Callable[[str], _Entry],
    *,
    noun: str,
    feminine: bool,
    option: str,
) -> _Entry:
    """The catalog's ``item_id`` (named ``name`` if given), else one created with ``name``."""
    the, e = ("la", "e") if feminine else ("le", "")
    found = known.get(item_id)
    if found is not None:
        if name is not None and name != found.name:
            fail(f"{option} : {the} {noun} {item_id} s'appelle « {found.name} »")
        return found
    if name is None:
        fail(
            f"{noun} inconnu{e} « {item_id} » : donnez {option} pour {the} créer "
            f"(connu{e}s : {', '.join(sorted(known)) or 'aucun' + e})",
            exit_code=2,
        )
    return create(name)


def _service(
    canteen: Canteen, actor: Actor, service_id: str, name: str | None, weekdays: str | None
) -> Service:
    def create(new_name: str) -> Service:
        return Service(id=service_id, name=new_name, open_weekdays=weekdays or "mon,tue,thu,fri")

    known = {entry.id: entry.service for entry in canteen.catalog.services(actor)}
    return _from_catalog(
        known, service_id, name, create, noun="prestation", feminine=True, option="--service-name"
    )


def _site(
    canteen: Canteen, actor: Actor, site_id: str, name: str | None, department: str | None
) -> Site:
    def create(new_name: str) -> Site:
        where = department or canteen.deployment.calendar.department
        if where is None:
            fail("donnez --department (le déploiement n'en indique pas)", exit_code=2)
        zone = canteen.context.default_zone()
        return Site(id=site_id, name=new_name, zone=zone, department=where)

    known = {entry.id: entry.site for entry in canteen.catalog.sites(actor)}
    return _from_catalog(
        known, site_id, name, create, noun="site", feminine=False, option="--site-name"
    )


@click.command("enroll")
@operator_command
@click.option("--household", required=True, help="Identifiant du foyer.")
@click.option("--child", required=True, help="Identifiant de l'enfant (un enfant du foyer).")
@click.option(
    "--service", "service_id", default="rs", show_default=True, help="Identifiant de la prestation."
)
@click.option(
    "--service-name", help='Nom d\'une nouvelle prestation, par exemple "Restauration scolaire".'
)
@click.option(
    "--weekdays", help="Jours d'ouverture d'une nouvelle prestation (par défaut mon,tue,thu,fri)."
)
@click.option("--site", "site_id", required=True, help="Identifiant du site (école ou restaurant).")
@click.option("--site-name", help='Nom d\'un nouveau site, par exemple "École élémentaire Ronde".')
@click.option(
    "--department", help="Département d'un nouveau site (par défaut celui du déploiement)."
)
@click.option(
    "--school-year", type=int, help="Année de début de l'année scolaire, par exemple 2023."
)
@click.option("--start", help="Premier jour (par défaut la rentrée).")
@click.option("--end", help="Dernier jour (par défaut le dernier jour de classe).")
@click.option(
    "--category",
    default="resident",
    show_default=True,
    help="Catégorie tarifaire : resident, non_resident, adult, pai (une catégorie prévue par "
    "les grilles tarifaires).",
)
@click.option("--deadline", default="thu 10:00", show_default=True, help=_DEADLINE_HELP)
@choice_option(
    "--late",
    LateChangeMode,
    LateChangeMode.REFUSE,
    help="Sort d'une modification faite par la famille après le délai : refusée (refuse), "
    "en attente de validation (pending) ou majorée (surcharge).",
)
@click.option("--id", "enrollment_id", help="Identifiant de l'inscription (par défaut : généré).")
def command(
    operator: Operator,
    household: str,
    child: str,
    service_id: str,
    service_name: str | None,
    weekdays: str | None,
    site_id: str,
    site_name: str | None,
    department: str | None,
    school_year: int | None,
    start: str | None,
    end: str | None,
    category: str,
    deadline: str,
    late: str,
    enrollment_id: str | None,
) -> None:
    """Inscrire un enfant à une prestation sur un site pour une année scolaire (ou --start/--end).

    Une prestation ou un site qu'aucune inscription n'utilise encore est créé avec
    --service-name ou --site-name (zone : celle du déploiement).

    \b
        canteen enroll --household H000001 --child H000001-C1 --site ronde \\
            --site-name "École élémentaire Ronde" --school-year 2023
    """
    actor = operator.actor
    first = parse_day(start, "--start") if start else None
    last = parse_day(end, "--end") if end else None
    policy = parse_deadline(deadline)
    with operator.open() as canteen:
        service = _service(canteen, actor, service_id, service_name, weekdays)
        site = _site(canteen, actor, site_id, site_name, department)
        enrollment = canteen.enrollments.enroll(
            actor,
            household,
            child,
            service=service,
            site=site,
            booking_policy=policy,
            late_change=late,
            tariff_category=category,
            school_year=school_year,
            start=first,
            end=last,
            enrollment_id=enrollment_id,
        )
    operator.show(
        enrollment_json(enrollment),
        f"Inscription {enrollment.id} : {child} à « {service.name} - {site.name} » du "
        f"{enrollment.start:%d/%m/%Y} au {enrollment.end:%d/%m/%Y}",
    )
