"""Capacity and waiting lists: how many children a site's service takes each day, and who waits.

A :class:`CapacityRule` caps the booked days of one service at one site: ``places`` every day,
unless a weekday (``weekdays``) or a date (``days``) has its own number. A booking that would go
beyond it is not made: the child joins the day's waiting list (a :class:`WaitingEntry`),
first come first served (``position`` is the order of arrival for that day, taken under the
capacity's lock). When a place frees (a cancellation), the first child waiting gets it, either
at once (:attr:`PromotionMode.AUTOMATIC`) or as an offer the family accepts before a deadline
(:attr:`PromotionMode.OFFER`, ``offer_hours`` after the offer); an offered place is held
(counted as taken) until it is accepted, declined or expires.

Everything here is pure: the service layer (:mod:`canteen_core.services.capacity`) takes the
lock, counts the stored bookings and calls :func:`admit` and :func:`next_waiting`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from canteen_core.domain._labelled import LabelledEnum
from canteen_core.domain._validators import (
    a_date,
    aware_datetime,
    non_empty_str,
    positive_int,
    received,
)
from canteen_core.domain.errors import InvalidInputError

__all__ = [
    "CapacityRule",
    "CapacitySettings",
    "PromotionMode",
    "WaitingEntry",
    "WaitingStatus",
    "admit",
    "next_waiting",
    "rank_of",
    "rule_id",
]


class PromotionMode(enum.StrEnum):
    """What a freed place does for the first family waiting (``[capacity] promotion``)."""

    AUTOMATIC = "automatic"
    OFFER = "offer"


def _promotion(value: object) -> PromotionMode:
    try:
        return PromotionMode(str(value))
    except ValueError:
        raise InvalidInputError(
            f"promotion inconnue « {value} » : automatic ou offer", path="promotion"
        ) from None


def _positive_hours(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if type(value) is not int or not 1 <= value <= 24 * 30:
        raise InvalidInputError(
            "le délai d'une offre est un nombre d'heures entre 1 et 720",
            path=attribute.name,
        )


@attrs.frozen(kw_only=True)
class CapacitySettings:
    """The deployment's ``[capacity]`` section: ``promotion`` (``"automatic"``: the first
    family waiting gets a freed place; ``"offer"``: it is offered, to accept within
    ``offer_hours``)."""

    promotion: PromotionMode = attrs.field(default=PromotionMode.AUTOMATIC, converter=_promotion)
    offer_hours: int = attrs.field(default=48, validator=_positive_hours)


def _places(value: object, path: str) -> int:
    if type(value) is not int or not 0 <= value <= 100_000:
        raise InvalidInputError(
            f"une capacité est un nombre de places entre 0 et 100000{received(value)}", path=path
        )
    return value


def _check_places(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    _places(value, attribute.name)


def _weekday_places(value: object) -> tuple[tuple[int, int], ...]:
    pairs = _pairs(value, "weekdays")
    for weekday, places in pairs:
        if type(weekday) is not int or not 0 <= weekday <= 6:
            raise InvalidInputError(
                "jour de semaine attendu (0 = lundi ... 6 = dimanche)",
                path="weekdays",
            )
        _places(places, "weekdays")
    return tuple(sorted(pairs))


def _day_places(value: object) -> tuple[tuple[date, int], ...]:
    pairs = _pairs(value, "days")
    for day, places in pairs:
        if not isinstance(day, date) or isinstance(day, datetime):
            raise InvalidInputError("une date (sans heure) est attendue", path="days")
        _places(places, "days")
    return tuple(sorted(pairs))


def _pairs(value: object, path: str) -> list[tuple[Any, Any]]:
    items = value.items() if isinstance(value, dict) else value
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise InvalidInputError("attendu : des paires (jour, places)", path=path)
    pairs: list[tuple[Any, Any]] = []
    for item in items:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise InvalidInputError("attendu : des paires (jour, places)", path=path)
        pairs.append((item[0], item[1]))
    if len({key for key, _ in pairs}) != len(pairs):
        raise InvalidInputError("un jour apparaît deux fois", path=path)
    return pairs


def rule_id(site_id: str, service_id: str) -> str:
    """The id of the capacity rule of a site's service: ``"ronde:rs"``."""
    return f"{site_id}:{service_id}"


@attrs.frozen(kw_only=True)
class CapacityRule:
    """How many children ``service_id`` takes at ``site_id`` per day.

    ``places`` applies every day; ``weekdays`` (weekday -> places, Monday = 0) and ``days``
    (date -> places) override it, a date before its weekday.
    """

    site_id: str = attrs.field(validator=non_empty_str)
    service_id: str = attrs.field(validator=non_empty_str)
    places: int = attrs.field(validator=_check_places)
    weekdays: tuple[tuple[int, int], ...] = attrs.field(default=(), converter=_weekday_places)
    days: tuple[tuple[date, int], ...] = attrs.field(default=(), converter=_day_places)

    @property
    def id(self) -> str:
        """``"<site_id>:<service_id>"``: one rule per site and service."""
        return rule_id(self.site_id, self.service_id)

    def places_on(self, day: date) -> int:
        """The places on ``day``."""
        for other, places in self.days:
            if other == day:
                return places
        for weekday, places in self.weekdays:
            if weekday == day.weekday():
                return places
        return self.places


class WaitingStatus(LabelledEnum):
    """Where a waiting-list entry stands; ``label`` is the status in French."""

    WAITING = "waiting", "en liste d'attente"  # in the queue
    OFFERED = "offered", "place proposée"  # a place is held for the family until ``offer_until``
    PLACED = "placed", "place obtenue"  # the child got the place (booked)
    WITHDRAWN = "withdrawn", "retiré de la liste"  # the family left the list or declined the offer
    EXPIRED = "expired", "expiré"  # the offer ran out, or the day passed


#: The statuses that still hold a spot in the queue or a place.
OPEN_STATUSES = (WaitingStatus.WAITING, WaitingStatus.OFFERED)


@attrs.frozen(kw_only=True)
class WaitingEntry:
    """A child waiting for a place on ``day`` of a site's service."""

    id: str = attrs.field(validator=non_empty_str)
    site_id: str = attrs.field(validator=non_empty_str)
    service_id: str = attrs.field(validator=non_empty_str)
    day: date = attrs.field(validator=a_date)
    enrollment_id: str = attrs.field(validator=non_empty_str)
    household_id: str = attrs.field(validator=non_empty_str)
    child_id: str = attrs.field(validator=non_empty_str)
    position: int = attrs.field(validator=positive_int)
    requested_at: datetime = attrs.field(validator=aware_datetime)
    status: WaitingStatus = attrs.field(default=WaitingStatus.WAITING, converter=WaitingStatus)
    offer_until: datetime | None = None
    decided_at: datetime | None = None

    @property
    def rule_id(self) -> str:
        """The id of the capacity rule the entry waits under."""
        return rule_id(self.site_id, self.service_id)

    @property
    def is_open(self) -> bool:
        """Still waiting, or holding an offered place."""
        return self.status in OPEN_STATUSES

    def offered(self, now: datetime, hours: int, *, latest: datetime | None = None) -> WaitingEntry:
        """The entry with a place held for it until ``hours`` after ``now`` (at the latest
        ``latest``: the day's service start)."""
        until = now + timedelta(hours=hours)
        if latest is not None:
            until = min(until, latest)
        return attrs.evolve(self, status=WaitingStatus.OFFERED, offer_until=until)

    def closed(self, status: WaitingStatus, now: datetime) -> WaitingEntry:
        """The entry decided (placed, withdrawn or expired) at ``now``."""
        return attrs.evolve(self, status=status, decided_at=now)


def rank_of(entry: WaitingEntry, entries: Iterable[WaitingEntry]) -> int:
    """The entry's rank in its day's queue (1 = next to get a place) among ``entries``."""
    return 1 + sum(
        1
        for other in entries
        if other.status is WaitingStatus.WAITING
        and other.day == entry.day
        and other.rule_id == entry.rule_id
        and other.position < entry.position
    )


def admit(places: int, taken: int, queued: int, wanted: int) -> int:
    """How many of ``wanted`` new bookings of a day get a place (the others wait).

    ``taken`` places are booked or held by offers; ``queued`` children already wait for the
    day: a newcomer never passes them, so nobody is admitted while anyone waits.
    """
    if min(places, taken, queued, wanted) < 0:
        raise InvalidInputError("les nombres de places sont positifs", path="places")
    if queued:
        return 0
    return max(0, min(wanted, places - taken))


def next_waiting(entries: Sequence[WaitingEntry], free: int) -> list[WaitingEntry]:
    """The first ``free`` entries waiting, by position (who gets the freed places)."""
    waiting = sorted(
        (entry for entry in entries if entry.status is WaitingStatus.WAITING),
        key=lambda entry: entry.position,
    )
    return waiting[: max(free, 0)]
