"""The catalog stored on its own (#14 item 10): sites with their closures and services are
versioned entries; enrollments refer to them; a closure reaches the enrollments at the site,
present and future, and the families whose booked days it drops get an e-mail (outbox, same
transaction). Bad input changes nothing. On memory, a SQLite file and PostgreSQL."""

from __future__ import annotations

from datetime import date

import attrs
import pytest

from canteen_core.domain.calendar import Period
from canteen_core.domain.catalog import Service, ServiceEntry, Site, SiteEntry
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
)
from canteen_core.domain.events import ReservationsChanged
from canteen_core.services import Canteen

from ._world import ADMIN, OTHER, PAYER, SERVICE, SITE, STAFF, WEEKLY, World, concerto
from .conftest import EventRecorder

MON_11 = date(2023, 9, 11)
TUE_12 = date(2023, 9, 12)
THU_14 = date(2023, 9, 14)
STRIKE = Period(name="Grève", first_day=TUE_12, last_day=THU_14)


def _state(canteen: Canteen) -> tuple[object, ...]:
    """What a refused call must leave as it was: the catalog, the books, the outbox."""
    return (
        canteen.catalog.sites(ADMIN),
        canteen.catalog.services(ADMIN),
        tuple(canteen.reservations.book_of(ADMIN, e) for e in ("e-alban", "e-zoe", "e-lea")),
        tuple(r.message.id for r in canteen.accounts.outbox(ADMIN)),
        tuple(e.calendar for e in canteen.enrollments.list_enrollments(ADMIN)),
    )


def test_enrolling_stores_the_site_and_service_once(any_world: World) -> None:
    canteen = any_world.canteen
    assert canteen.catalog.sites(PAYER) == (SiteEntry(site=SITE),)
    assert canteen.catalog.services(OTHER) == (ServiceEntry(service=SERVICE),)
    assert canteen.catalog.site(STAFF, "ronde").version == 1


def test_a_closure_reaches_present_and_future_enrollments(
    any_world: World, recorder: EventRecorder
) -> None:
    canteen = any_world.canteen
    canteen.reservations.tick_week(ADMIN, "e-alban", MON_11)
    canteen.reservations.book(ADMIN, "e-lea", MON_11)  # Léa has no day in the closure
    dropped = canteen.catalog.close_site(ADMIN, "ronde", STRIKE, expected_version=1)
    assert dropped == {"e-alban": (TUE_12, THU_14)}
    entry = canteen.catalog.site(ADMIN, "ronde")
    assert (entry.version, entry.closures) == (2, (STRIKE,))
    assert canteen.reservations.booked_days(ADMIN, "e-alban") == (MON_11, date(2023, 9, 15))
    assert canteen.enrollments.get(ADMIN, "e-zoe").closure(TUE_12) is not None
    changed = recorder.of(ReservationsChanged)[-1]
    assert (changed.enrollment_id, changed.cancelled) == ("e-alban", (TUE_12, THU_14))

    # A child enrolled after the closure, by the catalog's ids: the closed days are closed.
    canteen.families.add_child(ADMIN, "concerto", _third_child())
    later = canteen.enrollments.enroll(
        ADMIN,
        "concerto",
        "jules",
        service="rs",
        site="ronde",
        booking_policy=WEEKLY,
        school_year=2023,
        enrollment_id="e-jules",
    )
    assert later.closure(TUE_12) is not None
    assert later.closure(THU_14).reason == "Grève"  # type: ignore[union-attr]
    week = canteen.reservations.tick_week(ADMIN, "e-jules", MON_11)
    assert week.booked == (MON_11, date(2023, 9, 15))


def test_the_families_whose_days_are_dropped_get_an_email(any_world: World) -> None:
    canteen = any_world.canteen
    canteen.reservations.tick_week(ADMIN, "e-alban", MON_11)
    canteen.reservations.book(ADMIN, "e-zoe", THU_14)
    canteen.reservations.book(ADMIN, "e-lea", MON_11)
    before = {r.message.id for r in canteen.accounts.outbox(ADMIN)}
    canteen.catalog.close_site(ADMIN, "ronde", STRIKE)
    sent = [r.message for r in canteen.accounts.outbox(ADMIN) if r.message.id not in before]
    assert sorted(m.to_address for m in sent) == ["maman@concerto.fr", "papa@concerto.fr"]
    message = sent[0]
    assert message.household_id == "concerto"
    assert message.subject == (
        "École élémentaire Ronde fermé du 12 septembre 2023 au 14 septembre 2023 : "
        "réservations annulées"
    )
    assert "Alban CONCERTO : 12 septembre 2023, 14 septembre 2023" in message.text_body
    assert "Zoé CONCERTO : 14 septembre 2023" in message.text_body
    assert "(Grève)" in message.text_body
    assert "ne vous seront pas facturés" in message.text_body


def test_a_one_day_closure_email_names_the_day_once(any_world: World) -> None:
    canteen = any_world.canteen
    canteen.reservations.book(ADMIN, "e-zoe", THU_14)
    before = {r.message.id for r in canteen.accounts.outbox(ADMIN)}
    canteen.catalog.close_site(
        ADMIN, "ronde", Period(name="Grève", first_day=THU_14, last_day=THU_14)
    )
    sent = [r.message for r in canteen.accounts.outbox(ADMIN) if r.message.id not in before]
    assert sent[0].subject == (
        "École élémentaire Ronde fermé le 14 septembre 2023 : réservations annulées"
    )
    assert " sera fermé le " in sent[0].text_body
    assert " au " not in sent[0].text_body.split("sera fermé", 1)[1].split("(Grève)")[0]


def test_bad_closures_change_nothing(any_world: World) -> None:
    canteen = any_world.canteen
    canteen.reservations.tick_week(ADMIN, "e-alban", MON_11)
    before = _state(canteen)
    with pytest.raises(NotFoundError, match="inconnu"):
        canteen.catalog.close_site(ADMIN, "nowhere", STRIKE)
    with pytest.raises(InvalidInputError) as reversed_range:
        Period(name="Grève", first_day=THU_14, last_day=TUE_12)
    assert reversed_range.value.message == (
        "la période « Grève » finit le 12/09/2023, avant de commencer (le 14/09/2023)"
    )
    with pytest.raises(InvalidInputError):
        canteen.catalog.close_site(ADMIN, "ronde", (THU_14, TUE_12))  # type: ignore[arg-type]
    # The facade's input guard checks the period and the confirmation (before any use case).
    for bad in (
        lambda: canteen.catalog.add_closure(ADMIN, "ronde", "grève"),  # type: ignore[arg-type]
        lambda: canteen.catalog.preview_closure(ADMIN, "ronde", None),  # type: ignore[arg-type]
        lambda: canteen.catalog.add_closure(ADMIN, "ronde", STRIKE, credit_billed="oui"),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidInputError) as refused:
            bad()
        assert refused.value.path in {"period", "credit_billed"}
    with pytest.raises(ConflictError, match="a changé entre-temps"):
        canteen.catalog.close_site(ADMIN, "ronde", STRIKE, expected_version=7)
    with pytest.raises(NotAuthorizedError):
        canteen.catalog.close_site(STAFF, "ronde", STRIKE)
    with pytest.raises(NotAuthorizedError):
        canteen.catalog.add_site(PAYER, Site(id="lac", name="Lac", zone="C", department="75"))
    assert _state(canteen) == before


def test_enrollments_refer_to_stored_entries(any_world: World) -> None:
    canteen = any_world.canteen
    canteen.families.add_child(ADMIN, "concerto", _third_child())
    before = _state(canteen)
    for site, service, error in (
        ("nowhere", "rs", NotFoundError),
        ("ronde", "nothing", NotFoundError),
        (attrs.evolve(SITE, name="Autre nom"), "rs", ConflictError),
        ("ronde", attrs.evolve(SERVICE, open_weekdays="mon"), ConflictError),
    ):
        with pytest.raises(error):
            canteen.enrollments.enroll(
                ADMIN,
                "concerto",
                "jules",
                service=service,
                site=site,
                booking_policy=WEEKLY,
                school_year=2023,
            )
    assert _state(canteen) == before
    lac = Site(id="lac", name="École du Lac", zone="C", department="75")
    canteen.catalog.add_site(ADMIN, lac)
    canteen.catalog.add_service(ADMIN, Service(id="am", name="Accueil du matin"))
    with pytest.raises(ConflictError, match="existe déjà"):
        canteen.catalog.add_site(ADMIN, lac)
    assert [e.id for e in canteen.catalog.sites(ADMIN)] == ["lac", "ronde"]
    assert [e.id for e in canteen.catalog.services(ADMIN)] == ["am", "rs"]


def _third_child() -> object:
    (child, *_) = concerto().children
    return attrs.evolve(child, id="jules", first_name="Jules")
