"""Capacity and waiting lists through the facade, on memory, SQLite (and PostgreSQL).

Ronde's restaurant takes 2 children on some day: the third booking joins the waiting list
(rank 1), a cancellation gives the place to the child waiting (automatic) or offers it
(``[capacity] promotion = "offer"``), and the family is told by e-mail.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import attrs
import pytest

from canteen_core.domain.capacity import CapacitySettings, PromotionMode, WaitingStatus
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import (
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.reservations import SkipReason

from ._world import ADMIN, OTHER, PAYER, SERVICE, SITE, STAFF, World, build_world
from .conftest import EventRecorder, make_canteen

#: Monday 2 October 2023 and its week (Ronde's restaurant opens Mon, Tue, Thu, Fri).
MONDAY = date(2023, 10, 2)
WEEK = (MONDAY, MONDAY + timedelta(days=1), MONDAY + timedelta(days=3), MONDAY + timedelta(4))


def test_a_full_week_sends_the_next_booking_to_the_waiting_list_and_a_cancellation_promotes_it(
    world: World,
) -> None:
    canteen = world.canteen
    canteen.capacity.set(ADMIN, SITE.id, SERVICE.id, 2)
    for enrollment in (world.alban, world.zoe):
        result = canteen.reservations.tick_range(ADMIN, enrollment.id, WEEK[0], WEEK[-1])
        assert result.booked == WEEK
    full = canteen.reservations.tick_range(ADMIN, world.lea.id, WEEK[0], WEEK[-1])
    assert full.booked == ()
    assert [item.day for item in full.skipped_for(SkipReason.FULL)] == list(WEEK)
    assert full.skipped_for(SkipReason.FULL)[0].message == (
        "Complet : inscrit en liste d'attente (rang 1)"
    )
    assert canteen.reservations.booked_days(ADMIN, world.lea.id, WEEK[0], WEEK[-1]) == ()
    cell = canteen.reservations.week_grid(OTHER, world.lea.id, MONDAY).cell(MONDAY)
    assert (cell.booked, cell.waiting) == (False, "liste d'attente (rang 1)")
    waiting = canteen.capacity.of_household(OTHER, "voisins")
    assert [item.entry.day for item in waiting] == list(WEEK)

    cancelled = canteen.reservations.cancel(PAYER, world.zoe.id, WEEK[1])
    assert cancelled.cancelled == (WEEK[1],)
    assert canteen.reservations.booked_days(ADMIN, world.lea.id, WEEK[0], WEEK[-1]) == (WEEK[1],)
    entries = canteen.capacity.waiting_list(STAFF, SITE.id, SERVICE.id, WEEK[1])
    assert [entry.status for entry in entries] == [WaitingStatus.PLACED]
    (placed,) = [
        r.message for r in canteen.accounts.outbox(ADMIN) if r.message.kind == "waiting-list-placed"
    ]
    assert placed.subject == "Place obtenue pour Léa VOISIN le 3 octobre 2023"
    assert placed.to_address == "jean@voisin.fr"
    headcount = canteen.kitchen.headcount(STAFF, SITE.id, WEEK[1])
    assert headcount.total == 2


def test_a_newcomer_never_passes_a_child_waiting(world: World) -> None:
    canteen = world.canteen
    canteen.capacity.set(ADMIN, SITE.id, SERVICE.id, 1)
    canteen.reservations.book(PAYER, world.alban.id, MONDAY)
    canteen.reservations.book(OTHER, world.lea.id, MONDAY)  # waits, rank 1
    second = canteen.reservations.book(PAYER, world.zoe.id, MONDAY)  # waits, rank 2
    assert second.skipped[0].message == "Complet : inscrit en liste d'attente (rang 2)"
    canteen.reservations.cancel(PAYER, world.alban.id, MONDAY)
    assert canteen.reservations.booked_days(ADMIN, world.lea.id, MONDAY, MONDAY) == (MONDAY,)
    assert canteen.reservations.booked_days(ADMIN, world.zoe.id, MONDAY, MONDAY) == ()
    cell = canteen.reservations.week_grid(PAYER, world.zoe.id, MONDAY).cell(MONDAY)
    assert cell.waiting == "liste d'attente (rang 1)"


def test_an_offered_place_is_held_until_accepted_or_expired(
    request: pytest.FixtureRequest,
    backend: str,
    tmp_path: Path,
    clock: FixedClock,
    recorder: EventRecorder,
) -> None:
    with make_canteen(backend, request, tmp_path, clock, recorder) as canteen:
        offer = CapacitySettings(promotion=PromotionMode.OFFER, offer_hours=24)
        canteen.context.deployment = attrs.evolve(canteen.context.deployment, capacity=offer)
        world = build_world(canteen)
        canteen.capacity.set(ADMIN, SITE.id, SERVICE.id, 1)
        canteen.reservations.book(PAYER, world.alban.id, MONDAY)
        canteen.reservations.book(OTHER, world.lea.id, MONDAY)
        canteen.reservations.book(PAYER, world.zoe.id, MONDAY)
        canteen.reservations.cancel(PAYER, world.alban.id, MONDAY)
        # The place is held for Léa: Alban booking again waits behind Zoé.
        again = canteen.reservations.book(PAYER, world.alban.id, MONDAY)
        assert again.skipped_for(SkipReason.FULL)
        lea = canteen.capacity.of_household(OTHER, "voisins")[0]
        assert lea.entry.status is WaitingStatus.OFFERED
        assert lea.label.startswith("place proposée jusqu'au 02/09/2023")
        offers = [
            r.message
            for r in canteen.accounts.outbox(ADMIN)
            if r.message.kind == "waiting-list-offer"
        ]
        assert offers[0].subject == "Une place vous est proposée pour Léa VOISIN le 2 octobre 2023"
        assert "avant le 2 septembre 2023 à 10 h 00 ;" in offers[0].text_body
        with pytest.raises(NotAuthorizedError):
            canteen.capacity.accept(PAYER, lea.entry.id)
        placed = canteen.capacity.accept(OTHER, lea.entry.id)
        assert placed.status is WaitingStatus.PLACED
        assert canteen.reservations.booked_days(ADMIN, world.lea.id, MONDAY, MONDAY) == (MONDAY,)
        with pytest.raises(RuleViolationError):
            canteen.capacity.accept(OTHER, lea.entry.id)
        # Léa cancels: the place is offered to Zoé, who lets it expire; Alban gets the offer.
        canteen.reservations.cancel(OTHER, world.lea.id, MONDAY)
        clock.advance(hours=25)
        assert canteen.capacity.expire_offers(STAFF) == 1
        days = canteen.capacity.of_household(PAYER, "concerto")
        assert [(d.entry.child_id, d.entry.status) for d in days] == [
            ("alban", WaitingStatus.OFFERED)
        ]


def test_bad_capacity_input_is_refused_and_changes_nothing(world: World) -> None:
    canteen = world.canteen
    with pytest.raises(InvalidInputError):
        canteen.capacity.set(ADMIN, SITE.id, SERVICE.id, -1)
    with pytest.raises(InvalidInputError):
        canteen.capacity.set(ADMIN, SITE.id, SERVICE.id, 3, weekdays={9: 2})
    with pytest.raises(NotFoundError):
        canteen.capacity.set(ADMIN, "nowhere", SERVICE.id, 3)
    with pytest.raises(NotAuthorizedError):
        canteen.capacity.set(STAFF, SITE.id, SERVICE.id, 3)
    assert canteen.capacity.get(STAFF, SITE.id, SERVICE.id) is None
    rule = canteen.capacity.set(ADMIN, SITE.id, SERVICE.id, 3, days={MONDAY: 1})
    assert (rule.places_on(MONDAY), rule.places_on(WEEK[1])) == (1, 3)
    assert canteen.capacity.get(STAFF, SITE.id, SERVICE.id) == rule


def test_the_capacity_section_of_a_deployment_file() -> None:
    from canteen_core.config.deployment import parse_deployment
    from canteen_core.domain.errors import ConfigurationError

    base = '[issuer]\nname = "Régie"\ncode = "RONDE"\n[storage]\nurl = "memory://"\n'
    deployment = parse_deployment(base + '[capacity]\npromotion = "offer"\noffer_hours = 24\n')
    assert deployment.capacity == CapacitySettings(promotion=PromotionMode.OFFER, offer_hours=24)
    assert parse_deployment(base).capacity.promotion is PromotionMode.AUTOMATIC
    with pytest.raises(ConfigurationError) as refused:
        parse_deployment(base + '[capacity]\npromotion = "lottery"\n')
    assert refused.value.path == "capacity.promotion"
    with pytest.raises(ConfigurationError):
        parse_deployment(base + "[capacity]\noffer_hours = 0\n")


def test_approving_a_late_booking_of_a_full_day_is_refused(world: World) -> None:
    canteen = world.canteen
    day = date(2023, 9, 4)  # its deadline (Thursday 31 August, 10:00) has passed
    canteen.capacity.set(ADMIN, SITE.id, SERVICE.id, 1)
    canteen.reservations.book(ADMIN, world.alban.id, day)
    asked = canteen.reservations.book(OTHER, world.lea.id, day)
    (request,) = asked.pending
    with pytest.raises(RuleViolationError, match="complet"):
        canteen.reservations.decide(STAFF, request.id, approve=True)
    assert canteen.reservations.booked_days(ADMIN, world.lea.id, day, day) == ()
    canteen.reservations.cancel(ADMIN, world.alban.id, day)
    canteen.reservations.decide(STAFF, request.id, approve=True)
    assert canteen.reservations.booked_days(ADMIN, world.lea.id, day, day) == (day,)
