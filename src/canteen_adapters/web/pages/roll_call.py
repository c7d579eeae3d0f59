"""What the staff's roll-call page shows beyond the API's roll call: one row per child and
activity, labelled with the activity, with arrival and departure fields for the services
billed by the hour or half-hour; the day's allergy flags and waiting lists. And the reading of
the page's form (presences, arrival and departure times)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time

import attrs

from canteen_adapters.web import convert
from canteen_adapters.web.schemas_office import RollCallEntryOut
from canteen_core.domain.actors import Actor
from canteen_core.domain.capacity import WaitingStatus
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.menus import AllergyFlag
from canteen_core.services import Canteen

__all__ = ["DayOfSite", "RollRow", "WaitingRow", "day_of_site", "stays_of_form"]


@attrs.frozen(kw_only=True)
class RollRow:
    """One row of the roll call: a child's enrollment in one activity."""

    entry: RollCallEntryOut
    activity: str
    timed: bool  # arrival and departure are entered (billed by the hour or half-hour)

    @property
    def arrival(self) -> str:
        """The recorded arrival, ``"16:35"`` (empty when none)."""
        return _hhmm(self.entry.arrival)

    @property
    def departure(self) -> str:
        """The recorded departure, ``"18:05"`` (empty when none)."""
        return _hhmm(self.entry.departure)


@attrs.frozen(kw_only=True)
class WaitingRow:
    """A child on a day's waiting list of one activity."""

    activity: str
    rank: int
    child_name: str
    household_name: str
    status: str  # "en attente" or "place proposée"


@attrs.frozen(kw_only=True)
class DayOfSite:
    """The roll call of a site's day, its allergy flags and its waiting lists."""

    rows: tuple[RollRow, ...]
    flags: tuple[AllergyFlag, ...]
    waiting: tuple[WaitingRow, ...]


def _hhmm(value: time | None) -> str:
    return "" if value is None else f"{value:%H:%M}"


def day_of_site(canteen: Canteen, actor: Actor, site_id: str, day: date) -> DayOfSite:
    """The roll call of ``site_id`` on ``day`` (sorted by child, then activity), with the
    day's allergy flags and open waiting-list entries."""
    roll = convert.roll_call_out(canteen, actor, site_id, day)
    services = {
        e.id: e.service
        for e in canteen.enrollments.list_enrollments(actor, site_id=site_id)
        if e.covers(day)
    }
    rows = tuple(
        sorted(
            (
                RollRow(
                    entry=entry,
                    activity=services[entry.enrollment_id].name,
                    timed=services[entry.enrollment_id].unit.timed,
                )
                for entry in roll.entries
                if entry.enrollment_id in services
            ),
            key=lambda row: (row.entry.child_name.casefold(), row.activity, row.entry.child_id),
        )
    )
    flags = canteen.kitchen.allergy_flags(actor, site_id, day)
    waiting = _waiting(canteen, actor, site_id, day, {s.id: s.name for s in services.values()})
    return DayOfSite(rows=rows, flags=flags, waiting=waiting)


def _waiting(
    canteen: Canteen, actor: Actor, site_id: str, day: date, services: dict[str, str]
) -> tuple[WaitingRow, ...]:
    entries = [
        entry
        for service_id in sorted(services)
        for entry in canteen.capacity.waiting_list(actor, site_id, service_id, day)
        if entry.is_open
    ]
    if not entries:
        return ()
    names = convert.people_names(canteen, actor, ((e.household_id, e.child_id) for e in entries))
    rows = []
    ranks: dict[str, int] = {}
    for entry in entries:
        child_name, household_name = names[entry.household_id, entry.child_id]
        offered = entry.status is WaitingStatus.OFFERED
        if not offered:
            ranks[entry.service_id] = ranks.get(entry.service_id, 0) + 1
        rows.append(
            WaitingRow(
                activity=services[entry.service_id],
                rank=0 if offered else ranks[entry.service_id],
                child_name=child_name,
                household_name=household_name,
                status="place proposée" if offered else "en attente",
            )
        )
    return tuple(rows)


def _time(text: str, path: str) -> time | None:
    text = text.strip()
    if not text:
        return None
    try:
        hours, minutes = (int(part) for part in text.split(":")[:2])
        return time(hours, minutes)
    except ValueError:
        raise InvalidInputError(f"heure invalide « {text} » (attendu HH:MM)", path=path) from None


def stays_of_form(
    items: Iterable[tuple[str, object]], presences: dict[str, str]
) -> dict[str, tuple[time, time]]:
    """The arrival and departure entered on the roll-call form (``arrivee-<id>``,
    ``depart-<id>``) of the children marked present; both or neither are expected."""
    arrivals: dict[str, time | None] = {}
    departures: dict[str, time | None] = {}
    for key, value in items:
        if key.startswith("arrivee-"):
            arrivals[key.removeprefix("arrivee-")] = _time(str(value), key)
        elif key.startswith("depart-"):
            departures[key.removeprefix("depart-")] = _time(str(value), key)
    stays: dict[str, tuple[time, time]] = {}
    for enrollment_id in sorted(set(arrivals) | set(departures)):
        arrival = arrivals.get(enrollment_id)
        departure = departures.get(enrollment_id)
        if presences.get(enrollment_id) != "present" or (arrival is None and departure is None):
            continue
        if arrival is None or departure is None:
            raise InvalidInputError(
                "indiquez l'heure d'arrivée et l'heure de départ, ou aucune des deux",
                path=f"arrivee-{enrollment_id}",
            )
        stays[enrollment_id] = (arrival, departure)
    return stays
