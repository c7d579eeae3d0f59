"""The use-case machinery: events after commit only, outbox in the same transaction, bad input
leaves stored data unchanged."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from canteen_core.config.hookspecs import hookimpl
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
)
from canteen_core.domain.events import Event, ReservationsChanged
from canteen_core.domain.families import Child
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.periodicity import Periodicity
from canteen_core.domain.policy import Action
from canteen_core.services import Canteen

from ._world import ADMIN, CO_REP, OTHER, PAYER, STAFF, World, build_world, concerto
from .conftest import EventRecorder, make_canteen

MON_11 = date(2023, 9, 11)


def _message(message_id: str = "test.1") -> OutgoingMessage:
    return OutgoingMessage(
        id=message_id,
        kind="test",
        to_address="maman@concerto.fr",
        subject="Essai",
        text_body="Bonjour",
        created_at=datetime(2023, 9, 1, tzinfo=UTC),
    )


def _event() -> ReservationsChanged:
    return ReservationsChanged(
        occurred_at=datetime(2023, 9, 1, tzinfo=UTC),
        household_id="concerto",
        child_id="alban",
        enrollment_id="e-alban",
        actor_id="admin",
        booked=(MON_11,),
    )


def test_events_and_messages_of_a_failed_use_case_vanish(
    any_canteen: Canteen, recorder: EventRecorder
) -> None:
    ctx = any_canteen.context

    def failing() -> None:
        with ctx.use_case(ADMIN, Action.MANAGE_HOUSEHOLDS) as tx:
            tx.uow.households.add(concerto())
            tx.send(_message())
            tx.emit(_event())
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing()
    assert recorder.events == []
    assert any_canteen.accounts.outbox(ADMIN) == []
    assert any_canteen.families.list_households(ADMIN) == []


def test_events_fire_after_commit_and_messages_commit_with_the_change(
    any_canteen: Canteen, recorder: EventRecorder
) -> None:
    ctx = any_canteen.context
    seen_inside: list[int] = []
    with ctx.use_case(ADMIN, Action.MANAGE_HOUSEHOLDS) as tx:
        tx.uow.households.add(concerto())
        tx.send(_message())
        tx.emit(_event(), None)
        seen_inside.append(len(recorder.events))
    assert seen_inside == [0]  # nothing dispatched before the commit
    assert [type(e) for e in recorder.events] == [ReservationsChanged]
    (record,) = any_canteen.accounts.outbox(ADMIN)
    assert record.message.id == "test.1"
    assert any_canteen.families.get(ADMIN, "concerto").id == "concerto"


def test_a_failing_plugin_never_undoes_the_committed_change(world: World) -> None:
    class Broken:
        @hookimpl
        def canteen_reservations_changed(self, event: Event) -> None:
            raise RuntimeError("plugin down")

    canteen = world.canteen
    canteen.context.plugin_manager.register(Broken(), name="broken")
    result = canteen.reservations.book(PAYER, "e-alban", MON_11)
    assert result.booked == (MON_11,)
    assert canteen.reservations.booked_days(PAYER, "e-alban") == (MON_11,)


def test_a_refused_domain_operation_fires_nothing(world: World, recorder: EventRecorder) -> None:
    canteen = world.canteen
    before = len(recorder.events)
    with pytest.raises(NotAuthorizedError):
        canteen.reservations.book(OTHER, "e-alban", MON_11)
    with pytest.raises(InvalidInputError):
        canteen.reservations.apply_periodicity(PAYER, "e-alban", "lun,mar")  # type: ignore[arg-type]
    assert len(recorder.events) == before


def test_family_use_case_must_name_its_household(memory_world: World) -> None:
    ctx = memory_world.canteen.context

    def forgetful() -> None:
        with ctx.use_case(PAYER, Action.VIEW_HOUSEHOLD) as tx:
            tx.uow.households.get("concerto")  # read but never authorized: refused at the end

    with pytest.raises(NotAuthorizedError, match="doit nommer le foyer concerné"):
        forgetful()
    with pytest.raises(NotAuthorizedError):
        ctx.use_case(STAFF, Action.BOOK_MEALS).__enter__()
    with pytest.raises(InvalidInputError):
        ctx.use_case("admin", Action.VIEW_HOUSEHOLD).__enter__()  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        ctx.use_case(ADMIN, "fly").__enter__()  # type: ignore[arg-type]


def test_bad_input_leaves_stored_data_unchanged(world: World) -> None:
    canteen = world.canteen
    canteen.reservations.book(PAYER, "e-alban", MON_11)
    snapshot = (
        canteen.families.list_households(ADMIN),
        canteen.reservations.book_of(ADMIN, "e-alban"),
        canteen.enrollments.list_enrollments(ADMIN),
    )
    bad_calls = [
        lambda: canteen.families.create_household(ADMIN, "concerto"),  # type: ignore[arg-type]
        lambda: canteen.families.add_child(ADMIN, "concerto", "alban"),  # type: ignore[arg-type]
        lambda: canteen.families.add_child(
            ADMIN,
            "voisins",
            Child(id="alban", first_name="A", last_name="B", birth_date=date(2015, 1, 1)),
        ),  # a child belongs to one household only
        lambda: canteen.families.set_family_quotient(ADMIN, "concerto", 612),  # type: ignore[arg-type]
        lambda: canteen.families.remove_household(ADMIN, "concerto"),  # still enrolled
        lambda: canteen.enrollments.enroll(
            ADMIN,
            "concerto",
            "lea",  # not a child of this household
            service=world.alban.service,
            site=world.alban.site,
            booking_policy=world.alban.booking_policy,
            school_year=2023,
        ),
        lambda: canteen.enrollments.remove(ADMIN, "e-alban"),  # has reservations
        lambda: canteen.reservations.set_days(PAYER, "e-alban", {MON_11: "oui"}),  # type: ignore[dict-item]
        lambda: canteen.reservations.set_days_many(PAYER, {"e-alban": [MON_11]}),  # type: ignore[dict-item]
        lambda: canteen.reservations.tick_month(PAYER, "e-alban", 2023, 0),
        lambda: canteen.reservations.tick_range(PAYER, "e-alban", MON_11, date(2023, 9, 1)),
        lambda: canteen.reservations.apply_periodicities(PAYER, {"e-alban": None}),  # type: ignore[dict-item]
        lambda: canteen.reservations.apply_periodicity(
            PAYER,
            "e-alban",
            Periodicity(weekdays="lun", start=MON_11, end=date(2023, 9, 30)),
            replace="yes",  # type: ignore[arg-type]
        ),
        lambda: canteen.reservations.decide(STAFF, "nope", approve=True),
        lambda: canteen.reservations.requests(STAFF, status="lost"),
        lambda: canteen.attendance.justify(STAFF, "e-alban", MON_11, "2023-09-12"),  # type: ignore[arg-type]
        lambda: canteen.kitchen.headcount(STAFF, "", MON_11),
        lambda: canteen.accounts.invite(ADMIN, email="pas une adresse", display_name="X"),
        lambda: canteen.accounts.outbox(ADMIN, status="lost"),
    ]
    for index, call in enumerate(bad_calls):
        with pytest.raises((InvalidInputError, NotFoundError, ConflictError)):
            call()
        assert snapshot == (
            canteen.families.list_households(ADMIN),
            canteen.reservations.book_of(ADMIN, "e-alban"),
            canteen.enrollments.list_enrollments(ADMIN),
        ), f"bad call #{index} changed stored data"
    assert canteen.accounts.list_accounts(ADMIN) == []
    assert canteen.accounts.outbox(ADMIN) == []


def test_bulk_and_single_share_the_calendar_instance(world: World) -> None:
    canteen = world.canteen
    first = canteen.enrollments.get(ADMIN, "e-alban")
    second = canteen.enrollments.get(ADMIN, "e-lea")
    assert first.calendar is second.calendar


@pytest.mark.postgres
def test_concurrent_change_is_a_conflict_and_loses_nothing(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: FixedClock,
    recorder: EventRecorder,
) -> None:
    # Two portal workers: the first loads the book, the second books and commits meanwhile,
    # then the first saves what it computed from the old version.
    with make_canteen("postgres", request, tmp_path, clock, recorder) as canteen:
        build_world(canteen)
        ctx = canteen.context

        def stale_write() -> None:
            with ctx.use_case(PAYER, Action.BOOK_MEALS, household_id="concerto") as tx:
                book = tx.uow.reservations.load("e-alban")
                worker = threading.Thread(
                    target=canteen.reservations.book, args=(CO_REP, "e-alban", MON_11)
                )
                worker.start()
                worker.join(timeout=30)
                changed = book.with_day(date(2023, 9, 12), booked=True)
                tx.uow.reservations.save(changed, expected_version=book.version)
                tx.emit(_event())

        with pytest.raises(ConflictError):
            stale_write()
        assert canteen.reservations.booked_days(ADMIN, "e-alban") == (MON_11,)
        assert [e.actor_id for e in recorder.of(ReservationsChanged)] == ["papa"]
