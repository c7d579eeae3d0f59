"""Enrollment requests through the facade: a family asks, staff accept or refuse, the family
is e-mailed; every refused request leaves nothing stored (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.change_requests import RequestStatus
from canteen_core.domain.errors import (
    AlreadyDecidedError,
    CanteenError,
    ConflictError,
    DuplicateRequestError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
)
from canteen_core.domain.families import Child
from canteen_core.domain.tariffs import FlatPricing, TariffCategory, TariffGrid
from canteen_core.services import Canteen

from ._world import ADMIN, CO_REP, OTHER, PAYER, SERVICE, STAFF, WEEKLY, World, build_world

LINA = Child(id="lina", first_name="Lina", last_name="Concerto", birth_date=date(2019, 4, 1))


@pytest.fixture
def asking(any_canteen: Canteen) -> World:
    """The world, plus Lina (not enrolled) in the CONCERTO household."""
    world = build_world(any_canteen)
    any_canteen.families.add_child(ADMIN, "concerto", LINA)
    return world


def _stored(canteen: Canteen) -> tuple[object, ...]:
    return (
        canteen.enrollment_requests.of_household(ADMIN, "concerto"),
        canteen.enrollment_requests.of_household(ADMIN, "voisins"),
        canteen.enrollments.list_enrollments(ADMIN),
        len(canteen.accounts.outbox(ADMIN)),
    )


def _ask(canteen: Canteen, **changes: object) -> object:
    values: dict[str, object] = {
        "service_id": "rs",
        "site_id": "ronde",
        "school_year": 2023,
    }
    values.update(changes)
    household = values.pop("household_id", "concerto")
    child = values.pop("child_id", "lina")
    actor = values.pop("actor", PAYER)
    return canteen.enrollment_requests.submit(actor, household, child, **values)  # type: ignore[arg-type]


def test_a_family_asks_and_staff_accept(asking: World) -> None:
    canteen = asking.canteen
    assert [o.key for o in canteen.enrollment_requests.offers(PAYER)] == ["rs@ronde"]
    asked = canteen.enrollment_requests.submit(
        PAYER,
        "concerto",
        "lina",
        service_id="rs",
        site_id="ronde",
        school_year=2023,
        note="Elle mange le lundi et le jeudi",
    )
    assert asked.status_fr == "En attente d'instruction"
    assert asked.label_fr == "Restauration scolaire à École élémentaire Ronde (2023-2024)"
    assert canteen.enrollment_requests.pending(STAFF) == (asked,)
    assert canteen.enrollment_requests.of_household(CO_REP, "concerto") == (asked,)

    accepted = canteen.enrollment_requests.accept(STAFF, asked.id)

    assert accepted.status is RequestStatus.APPROVED
    assert accepted.status_fr == "Acceptée"
    enrollment = canteen.enrollments.get(PAYER, accepted.enrollment_id or "")
    assert (enrollment.child_id, enrollment.site.id, enrollment.service) == (
        "lina",
        "ronde",
        SERVICE,
    )
    assert enrollment.booking_policy == WEEKLY  # the offer's policies
    assert enrollment.start == date(2023, 9, 4)  # the rentrée (asked before it)
    assert canteen.enrollment_requests.pending(STAFF) == ()
    mails = [
        r.message
        for r in canteen.accounts.outbox(ADMIN)
        if r.message.kind == "enrollment-request-decided"
    ]
    assert sorted(m.to_address for m in mails) == ["maman@concerto.fr", "papa@concerto.fr"]
    assert "Lina" in mails[0].subject
    assert "acceptée" in mails[0].subject
    # Booking works at once: the enrollment is a real one.
    assert canteen.reservations.book(PAYER, enrollment.id, date(2023, 9, 14)).booked


def test_staff_refuse_with_a_reason_the_family_reads(asking: World) -> None:
    canteen = asking.canteen
    asked = _ask(canteen)
    with pytest.raises(InvalidInputError):
        canteen.enrollment_requests.refuse(STAFF, asked.id, reason="  ")  # type: ignore[attr-defined]
    refused = canteen.enrollment_requests.refuse(
        STAFF,
        asked.id,  # type: ignore[attr-defined]
        reason="Plus de place à la Ronde",
    )
    assert refused.status_fr == "Refusée : Plus de place à la Ronde"
    assert canteen.enrollments.of_household(ADMIN, "concerto") == (asking.alban, asking.zoe)
    (mail,) = [
        r.message
        for r in canteen.accounts.outbox(ADMIN)
        if r.message.kind == "enrollment-request-decided" and r.message.to_address[0] == "m"
    ]
    assert "Motif : Plus de place à la Ronde" in mail.text_body
    with pytest.raises(AlreadyDecidedError, match=r"déjà été traitée \(refusée le "):
        canteen.enrollment_requests.accept(STAFF, refused.id)


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"child_id": "ghost"}, NotFoundError, "membre de votre foyer"),
        ({"child_id": "lea"}, NotFoundError, "membre de votre foyer"),  # another household's
        ({"site_id": "lac"}, InvalidInputError, "pas proposée sur ce site"),
        ({"service_id": "accueil"}, InvalidInputError, "pas proposée sur ce site"),
        ({"child_id": "alban"}, ConflictError, "déjà inscrit"),
        ({"school_year": 2021}, InvalidInputError, "2023-2024 ou 2024-2025"),
        ({"tariff_category": "vip"}, InvalidInputError, "catégorie tarifaire inconnue"),
        ({"household_id": "voisins"}, NotAuthorizedError, "Accès refusé"),
        ({"actor": STAFF}, NotAuthorizedError, "Accès refusé"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_stored(
    asking: World, changes: dict[str, object], error: type[CanteenError], words: str
) -> None:
    canteen = asking.canteen
    before = _stored(canteen)
    with pytest.raises(error, match=words):
        _ask(canteen, **changes)
    assert _stored(canteen) == before


def test_a_second_pending_request_is_refused(asking: World) -> None:
    canteen = asking.canteen
    _ask(canteen)
    before = _stored(canteen)
    with pytest.raises(DuplicateRequestError, match="déjà en cours pour"):
        _ask(canteen, actor=CO_REP)
    assert _stored(canteen) == before
    assert _ask(canteen, school_year=2024)  # another year is another request


def test_accepting_runs_the_enrollment_checks(asking: World) -> None:
    """A grid without the asked category: the enrollment use case refuses, nothing changes."""
    canteen = asking.canteen
    canteen.billing.save_tariff_grid(
        ADMIN,
        TariffGrid(
            id="rs-2023",
            service_id="rs",
            valid_from=date(2023, 9, 1),
            valid_until=date(2024, 8, 31),
            prices={TariffCategory.RESIDENT_CHILD: FlatPricing.of("3.10")},
        ),
    )
    asked = _ask(canteen, tariff_category="adult")
    before = _stored(canteen)
    with pytest.raises(InvalidInputError, match="pas de prix pour la catégorie"):
        canteen.enrollment_requests.accept(STAFF, asked.id)  # type: ignore[attr-defined]
    assert _stored(canteen) == before
    assert canteen.enrollment_requests.pending(STAFF) == (asked,)


def test_families_cannot_decide_nor_read_others(asking: World) -> None:
    canteen = asking.canteen
    asked = _ask(canteen)
    for actor in (PAYER, OTHER):
        with pytest.raises(NotAuthorizedError):
            canteen.enrollment_requests.accept(actor, asked.id)  # type: ignore[attr-defined]
        with pytest.raises(NotAuthorizedError):
            canteen.enrollment_requests.pending(actor)
    with pytest.raises(NotAuthorizedError):
        canteen.enrollment_requests.get(OTHER, asked.id)  # type: ignore[attr-defined]
    with pytest.raises(NotAuthorizedError):
        canteen.enrollment_requests.withdraw(OTHER, asked.id)  # type: ignore[attr-defined]
    withdrawn = canteen.enrollment_requests.withdraw(PAYER, asked.id)  # type: ignore[attr-defined]
    assert withdrawn.status_fr == "Retirée"


def test_offers_are_the_catalog_and_policies_come_from_the_service(asking: World) -> None:
    """A site added to the catalog is offered at once; accepting a request there gives the
    enrollment the policies of the service's enrollments elsewhere."""
    canteen = asking.canteen
    lac = Site(id="lac", name="École du Lac", zone="C", department="75")
    canteen.catalog.add_site(ADMIN, lac)
    assert [o.key for o in canteen.enrollment_requests.offers(PAYER)] == ["rs@lac", "rs@ronde"]
    asked = _ask(canteen, site_id="lac")
    accepted = canteen.enrollment_requests.accept(STAFF, asked.id)  # type: ignore[attr-defined]
    enrollment = canteen.enrollments.get(ADMIN, accepted.enrollment_id)
    assert enrollment.site == lac
    assert enrollment.booking_policy == WEEKLY


def test_a_service_nobody_is_enrolled_in_is_refused_at_acceptance(asking: World) -> None:
    canteen = asking.canteen
    canteen.catalog.add_service(ADMIN, Service(id="accueil", name="Accueil du matin"))
    asked = _ask(canteen, service_id="accueil")
    before = _stored(canteen)
    with pytest.raises(ConflictError, match="personne n'est encore inscrit"):
        canteen.enrollment_requests.accept(STAFF, asked.id)  # type: ignore[attr-defined]
    assert _stored(canteen) == before


def test_the_weekdays_asked_are_booked_every_week_on_acceptance(asking: World) -> None:
    canteen = asking.canteen
    asked = _ask(canteen, weekdays="lun,jeu")
    assert asked.weekdays == {0, 3}  # type: ignore[attr-defined]
    assert asked.weekdays_fr == "lundi et jeudi"  # type: ignore[attr-defined]
    accepted = canteen.enrollment_requests.accept(STAFF, asked.id)  # type: ignore[attr-defined]
    enrollment = canteen.enrollments.get(ADMIN, accepted.enrollment_id)
    book = canteen.reservations.book_of(ADMIN, enrollment.id)
    booked = list(book.booked_days())
    # Booked as the family would book them now: the first week is past its deadline (the
    # Thursday before), so, as the enrollment says, it awaits staff as late-change requests.
    assert booked[:4] == [
        date(2023, 9, 11),
        date(2023, 9, 14),
        date(2023, 9, 18),
        date(2023, 9, 21),
    ]
    late = canteen.reservations.requests(ADMIN, household_id="concerto", status="pending")
    assert [(r.enrollment_id, r.day) for r in late] == [
        (enrollment.id, date(2023, 9, 4)),
        (enrollment.id, date(2023, 9, 7)),
    ]
    assert {day.weekday() for day in booked} == {0, 3}
    assert booked[-1] <= enrollment.end
    assert all(enrollment.calendar.is_open(day) for day in booked)  # holidays left out


@pytest.mark.parametrize(
    ("weekdays", "words"),
    [
        ("lun,mer", "n'a pas lieu le mercredi"),
        ([], "au moins un jour"),
        ("jour de fête", "jours de repas invalides"),
    ],
)
def test_weekdays_the_service_does_not_run_are_refused(
    asking: World, weekdays: object, words: str
) -> None:
    canteen = asking.canteen
    before = _stored(canteen)
    with pytest.raises(InvalidInputError, match=words):
        _ask(canteen, weekdays=weekdays)
    assert _stored(canteen) == before
