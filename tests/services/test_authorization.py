"""The authorization matrix through the facade: every service method, every role.

Roles: the payer of CONCERTO acting on CONCERTO (``guardian``), the payer of another household
acting on CONCERTO (``other``), CONCERTO's co-representative (``co_rep``), staff, finance,
admin and system. An allowed call succeeds; a denied call raises ``NotAuthorizedError`` and
leaves every stored thing as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar import Period
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import NotAuthorizedError
from canteen_core.domain.families import Child, FamilyQuotient, Guardian, Household
from canteen_core.domain.periodicity import Periodicity
from canteen_core.services import Canteen
from canteen_core.services.attendance import JustificationRequest

from ._world import (
    ADMIN,
    CO_REP,
    FINANCE,
    OTHER,
    PAYER,
    SERVICE,
    SITE,
    STAFF,
    SYSTEM,
    WEEKLY,
    World,
)

ROLES: dict[str, Actor] = {
    "guardian": PAYER,
    "other": OTHER,
    "co_rep": CO_REP,
    "staff": STAFF,
    "finance": FINANCE,
    "admin": ADMIN,
    "system": SYSTEM,
}
MON_11 = date(2023, 9, 11)
TUE_5 = date(2023, 9, 5)
FAMILY = {"guardian", "co_rep"}
VIEW = {"guardian", "co_rep", "staff", "finance", "admin", "system"}
ALL = set(ROLES)


def _pending_request(canteen: Canteen) -> str:
    (request,) = canteen.reservations.book(PAYER, "e-alban", TUE_5).pending  # late: pending
    return request.id


def _new_household() -> Household:
    return Household(
        id="nouveaux",
        payer=Guardian(id="n1", first_name="Nina", last_name="Nouveau", email="n@n.fr"),
        children=(
            Child(id="noe", first_name="Noé", last_name="Nouveau", birth_date=date(2016, 2, 2)),
        ),
    )


Call = Callable[[Canteen, Actor], Any]

#: method -> (call, roles allowed). Every call targets CONCERTO's data.
MATRIX: dict[str, tuple[Call, set[str]]] = {
    "families.get": (lambda c, a: c.families.get(a, "concerto"), VIEW),
    "families.dashboard": (lambda c, a: c.families.dashboard(a, "concerto"), VIEW),
    "families.list_households": (lambda c, a: c.families.list_households(a), VIEW | {"other"}),
    "families.of_guardian": (lambda c, a: c.families.of_guardian(a, "maman"), ALL),
    "families.create_household": (
        lambda c, a: c.families.create_household(a, _new_household()),
        {"admin"},
    ),
    "families.save_household": (
        lambda c, a: c.families.save_household(a, c.families.get(ADMIN, "concerto")),
        {"admin"},
    ),
    "families.add_child": (
        lambda c, a: c.families.add_child(
            a,
            "concerto",
            Child(id="bebe", first_name="Bébé", last_name="Concerto", birth_date=date(2020, 1, 1)),
        ),
        {"admin"},
    ),
    "families.set_co_representative": (
        lambda c, a: c.families.set_co_representative(a, "concerto", None),
        {"admin"},
    ),
    "families.set_family_quotient": (
        lambda c, a: c.families.set_family_quotient(
            a, "concerto", FamilyQuotient(value="450", valid_from=date(2023, 9, 1))
        ),
        {"finance", "admin"},
    ),
    "families.update_contact": (
        lambda c, a: c.families.update_contact(a, "concerto", "maman", civility="Mme"),
        {"guardian", "admin"},
    ),
    "enrollments.enroll": (
        lambda c, a: c.enrollments.enroll(
            a,
            "concerto",
            "alban",
            service=SERVICE,
            site=SITE,
            booking_policy=WEEKLY,
            school_year=2024,  # alban is enrolled in 2023: one enrollment per day
            enrollment_id="e-alban-2",
        ),
        {"admin"},
    ),
    "enrollments.get": (lambda c, a: c.enrollments.get(a, "e-alban"), VIEW),
    "enrollments.of_household": (lambda c, a: c.enrollments.of_household(a, "concerto"), VIEW),
    "enrollments.list_enrollments": (
        lambda c, a: c.enrollments.list_enrollments(a),
        VIEW | {"other"},
    ),
    "enrollments.end_on": (
        lambda c, a: c.enrollments.end_on(a, "e-alban", date(2024, 6, 30)),
        {"admin"},
    ),
    "enrollments.billed_after": (
        lambda c, a: c.enrollments.billed_after(a, "e-alban", date(2024, 6, 30)),
        {"admin"},
    ),
    "enrollments.amend": (
        lambda c, a: c.enrollments.amend(a, "e-alban", late_change="pending"),
        {"admin"},
    ),
    "enrollments.close_site": (
        lambda c, a: c.enrollments.close_site(
            a, "ronde", Period(name="Grève", first_day=MON_11, last_day=MON_11)
        ),
        {"admin"},
    ),
    "reservations.book": (
        lambda c, a: c.reservations.book(a, "e-alban", MON_11),
        FAMILY | {"admin"},
    ),
    "reservations.cancel": (
        lambda c, a: c.reservations.cancel(a, "e-alban", MON_11),
        FAMILY | {"admin"},
    ),
    "reservations.set_days": (
        lambda c, a: c.reservations.set_days(a, "e-alban", {MON_11: True, TUE_5: False}),
        FAMILY | {"admin"},
    ),
    "reservations.tick_week": (
        lambda c, a: c.reservations.tick_week(a, "e-alban", MON_11),
        FAMILY | {"admin"},
    ),
    "reservations.untick_month": (
        lambda c, a: c.reservations.untick_month(a, "e-alban", 2023, 9),
        FAMILY | {"admin"},
    ),
    "reservations.tick_month_many": (
        lambda c, a: c.reservations.tick_month_many(a, ["e-alban", "e-zoe"], 2023, 10),
        FAMILY | {"admin"},
    ),
    "reservations.apply_periodicity": (
        lambda c, a: c.reservations.apply_periodicity(
            a, "e-alban", Periodicity(weekdays="lun", start=MON_11, end=date(2023, 9, 30))
        ),
        FAMILY | {"admin"},
    ),
    "reservations.book_of": (lambda c, a: c.reservations.book_of(a, "e-alban"), VIEW),
    "reservations.month_grid": (
        lambda c, a: c.reservations.month_grid(a, "e-alban", 2023, 9),
        VIEW,
    ),
    "reservations.week_grid": (lambda c, a: c.reservations.week_grid(a, "e-alban", MON_11), VIEW),
    "reservations.recap_grids": (
        lambda c, a: c.reservations.recap_grids(a, "e-alban", [MON_11, date(2023, 10, 2)]),
        VIEW,
    ),
    "reservations.pending_requests": (
        lambda c, a: c.reservations.pending_requests(a, household_id="concerto"),
        FAMILY | {"staff", "admin"},
    ),
    "reservations.decide": (
        lambda c, a: c.reservations.decide(a, _pending_request(c), approve=True),
        {"staff", "admin"},
    ),
    "reservations.withdraw": (
        lambda c, a: c.reservations.withdraw(a, _pending_request(c)),
        FAMILY | {"admin"},
    ),
    "attendance.roll_call": (
        lambda c, a: c.attendance.roll_call(a, date(2023, 9, 4), {"e-alban": "present"}),
        {"staff", "admin"},
    ),
    "attendance.justify": (
        lambda c, a: c.attendance.justify(a, "e-alban", MON_11, MON_11),
        {"staff", "admin"},
    ),
    "attendance.roll_calls": (
        lambda c, a: c.attendance.roll_calls(a, {date(2023, 9, 4): {"e-alban": "present"}}),
        {"staff", "admin"},
    ),
    "attendance.justify_many": (
        lambda c, a: c.attendance.justify_many(
            a, [JustificationRequest(enrollment_id="e-alban", first_day=MON_11, last_day=MON_11)]
        ),
        {"staff", "admin"},
    ),
    "attendance.records": (
        lambda c, a: c.attendance.records(a, start=MON_11, end=MON_11, household_id="concerto"),
        VIEW,
    ),
    "attendance.lines": (lambda c, a: c.attendance.lines(a, "e-alban", MON_11, MON_11), VIEW),
    "kitchen.headcount": (
        lambda c, a: c.kitchen.headcount(a, "ronde", MON_11),
        {"staff", "admin", "system"},
    ),
    "kitchen.allergy_flags": (
        lambda c, a: c.kitchen.allergy_flags(a, "ronde", MON_11),
        {"staff", "admin", "system"},
    ),
    "accounts.invite": (
        lambda c, a: c.accounts.invite(a, email="n@ronde.fr", display_name="N", roles=["staff"]),
        {"admin"},
    ),
    "accounts.invite_guardian": (
        lambda c, a: c.accounts.invite_guardian(a, "concerto", "maman"),
        {"admin"},
    ),
    "accounts.list_accounts": (lambda c, a: c.accounts.list_accounts(a), {"admin"}),
    "accounts.set_portal_opening": (
        lambda c, a: c.accounts.set_portal_opening(a, date(2023, 8, 21)),
        {"admin"},
    ),
    "accounts.send_outbox": (lambda c, a: c.accounts.send_outbox(a), {"admin", "system"}),
    "accounts.outbox": (lambda c, a: c.accounts.outbox(a), {"admin"}),
}

# The roll call needs a past day: the clock is moved to the evening of 4 September.
_ATTENDANCE = {"attendance.roll_call", "attendance.roll_calls"}


def _fingerprint(canteen: Canteen) -> tuple[Any, ...]:
    """Everything a denied call could have changed, read as admin."""
    return (
        canteen.families.list_households(ADMIN),
        canteen.enrollments.list_enrollments(ADMIN),
        {e: canteen.reservations.book_of(ADMIN, e) for e in ("e-alban", "e-zoe", "e-lea")},
        canteen.reservations.requests(ADMIN, household_id="concerto"),
        canteen.attendance.records(ADMIN, start=date(2023, 9, 1), end=date(2024, 7, 5)),
        canteen.accounts.list_accounts(ADMIN),
        [r.message.id for r in canteen.accounts.outbox(ADMIN)],
        canteen.accounts.portal_opens_at,
    )


class _NoMail:
    def send(self, message: object) -> None:  # an empty outbox sends nothing
        raise AssertionError("nothing should be sent")


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("method", list(MATRIX))
def test_authorization_matrix(
    method: str, role: str, memory_world: World, clock: FixedClock
) -> None:
    canteen = memory_world.canteen
    canteen.context._mailer = _NoMail()
    call, allowed = MATRIX[method]
    if method in _ATTENDANCE:
        clock.set(datetime(2023, 9, 4, 18, 0, tzinfo=UTC))
    actor = ROLES[role]
    if role in allowed:
        call(canteen, actor)
        return
    if method in {"reservations.decide", "reservations.withdraw"}:
        _pending_request(canteen)  # the request exists before the denied call
        request_id = canteen.reservations.pending_requests(ADMIN)[0].id
        before = _fingerprint(canteen)
        decide_or_withdraw: Callable[[], Any] = (
            (lambda: canteen.reservations.decide(actor, request_id, approve=True))
            if method == "reservations.decide"
            else (lambda: canteen.reservations.withdraw(actor, request_id))
        )
        with pytest.raises(NotAuthorizedError):
            decide_or_withdraw()
    else:
        before = _fingerprint(canteen)
        with pytest.raises(NotAuthorizedError):
            call(canteen, actor)
    assert _fingerprint(canteen) == before


def test_matrix_covers_every_public_method() -> None:
    canteen_namespaces = (
        "families",
        "enrollments",
        "reservations",
        "attendance",
        "kitchen",
        "accounts",
    )
    from canteen_core import services

    classes = {
        "families": services.FamilyService,
        "enrollments": services.EnrollmentService,
        "reservations": services.ReservationService,
        "attendance": services.AttendanceService,
        "kitchen": services.KitchenService,
        "accounts": services.AccountService,
    }
    # Methods whose permission is the same use case as one in the matrix (aliases, bulk forms
    # and public account flows that authenticate by a secret instead of a role).
    covered_elsewhere = {
        "accounts.activate",
        "accounts.login",
        "accounts.logout",
        "accounts.change_password",
        "accounts.request_password_reset",
        "accounts.reset_password",
        "accounts.get",
        "accounts.disable",
        "accounts.enable",
        "accounts.reissue_invitation",
        "accounts.portal_opens_at",
        "families.create_households",
        "families.remove_household",
        "enrollments.enroll_many",
        "enrollments.services",
        "enrollments.sites",
        "enrollments.remove",
        "reservations.set_days_many",
        "reservations.untick_week",
        "reservations.tick_month",
        "reservations.tick_range",
        "reservations.untick_range",
        "reservations.untick_month_many",
        "reservations.tick_range_many",
        "reservations.untick_range_many",
        "reservations.apply_periodicity_many",
        "reservations.apply_periodicities",
        "reservations.booked_days",
        "reservations.requests",
        "reservations.approve",
        "reservations.reject",
        "attendance.record",
        "attendance.unbooked_presences",
        "kitchen.headcounts",
        "kitchen.headcounts_by_site",
        "kitchen.headcounts_of_sites",
    }
    missing = []
    for namespace in canteen_namespaces:
        for name in dir(classes[namespace]):
            if name.startswith("_") or name == "context":
                continue
            key = f"{namespace}.{name}"
            if key not in MATRIX and key not in covered_elsewhere:
                missing.append(key)
    assert missing == []
