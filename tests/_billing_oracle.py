"""The per-day billing path, kept as the oracle of the per-period one.

canteen bills periods only (:func:`canteen_core.services.billing.period_facts`,
:func:`canteen_core.domain.invoice_runs.run_postpaid_periods`). The simpler path it replaced, one
:class:`~canteen_core.domain.charging.DayFacts` per day, decided and priced day by day, lives
here: the property tests compare both on random months.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime

import attrs

from canteen_core.domain.attendance import AbsenceJustification, AttendanceRecord, attendance_lines
from canteen_core.domain.charging import (
    Charge,
    ChargingPolicy,
    DayDecision,
    DayFacts,
    decide,
    price,
)
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import InvalidInputError, NotFoundError
from canteen_core.domain.families import Household
from canteen_core.domain.invoice_runs import BillingRun, lines_from_charges
from canteen_core.domain.invoice_runs.lines import _child_names, _paris_date
from canteen_core.domain.invoice_runs.postpaid import _households, _postpaid_run
from canteen_core.domain.invoicing import (
    BillingMode,
    InvoiceTerms,
    NumberSequence,
    billing_key,
)
from canteen_core.domain.numbering import check_sequence
from canteen_core.domain.reservations import ReservationBook
from canteen_core.domain.tariffs import TariffBook
from canteen_core.services.billing import tariff_category_of

__all__ = ["ChargingResult", "compute_charges", "day_facts", "run_postpaid"]


def day_facts(
    enrollment: Enrollment,
    book: ReservationBook,
    start: date,
    end: date,
    *,
    records: Iterable[AttendanceRecord] = (),
    justifications: Iterable[AbsenceJustification] = (),
    household: Household | None = None,
) -> list[DayFacts]:
    """The billing facts of one enrollment from ``start`` to ``end`` (both inclusive).

    Service days with a booking, an attendance record or a late cancellation give one fact
    each; booked days the service turned out to be closed on (strike, works) give a fact
    ``closed_by_organiser`` (never charged, but traced).
    """
    records = list(records)
    justifications = list(justifications)
    category = tariff_category_of(enrollment, household)
    lo, hi = max(start, enrollment.start), min(end, enrollment.end)
    if hi < lo:
        return []
    facts: list[DayFacts] = []
    for line in attendance_lines(
        enrollment, book, lo, hi, records=records, justifications=justifications
    ):
        present = None if line.presence is None else line.presence.value == "present"
        justified = line.booked and line.justified and present is not True
        facts.append(
            DayFacts(
                child_id=enrollment.child_id,
                household_id=enrollment.household_id,
                enrollment_id=enrollment.id,
                service_id=enrollment.service.id,
                category=category,
                day=line.day,
                booked=line.booked,
                present=False if justified else present,
                absence_justified=justified,
                late_booking=line.booked and line.late_booked,
                late_cancellation=(not line.booked) and line.late_cancelled,
            )
        )
    for day in book.booked_days(lo, hi):
        if enrollment.closure(day) is not None:
            facts.append(
                DayFacts(
                    child_id=enrollment.child_id,
                    household_id=enrollment.household_id,
                    enrollment_id=enrollment.id,
                    service_id=enrollment.service.id,
                    category=category,
                    day=day,
                    booked=True,
                    closed_by_organiser=True,
                )
            )
    return facts


@attrs.frozen(kw_only=True)
class ChargingResult:
    """Every decision (charged or not, for the audit trail) and the priced charges."""

    decisions: tuple[DayDecision, ...]
    charges: tuple[Charge, ...]


def compute_charges(
    facts: Iterable[DayFacts],
    *,
    tariffs: TariffBook,
    households: Mapping[str, Household],
    policy: ChargingPolicy | None = None,
    policies: Mapping[str, ChargingPolicy] | None = None,
    carried_runs: Mapping[str, int] | None = None,
    ranks: Mapping[str, int] | None = None,
) -> ChargingResult:
    """:func:`decide` then :func:`price`, in one call."""
    decisions = decide(facts, policy=policy, policies=policies, carried_runs=carried_runs)
    charges = price(decisions, tariffs=tariffs, households=households, ranks=ranks)
    return ChargingResult(decisions=decisions, charges=charges)


def run_postpaid(
    *,
    issuer_id: str,
    period_start: date,
    period_end: date,
    facts: Iterable[DayFacts],
    households: Mapping[str, Household] | Iterable[Household],
    tariffs: TariffBook,
    sequence: NumberSequence,
    issued_at: datetime,
    terms: InvoiceTerms | None = None,
    already_billed: Collection[str] = frozenset(),
    policy: ChargingPolicy | None = None,
    policies: Mapping[str, ChargingPolicy] | None = None,
    carried_runs: Mapping[str, int] | None = None,
    ranks: Mapping[str, int] | None = None,
    label: str | None = None,
    service_names: Mapping[str, str] | None = None,
) -> BillingRun:
    """Bill ``period_start..period_end`` (inclusive) for every household, post-paid.

    One invoice per household with charges, numbered in household-id order. Households whose
    billing key is in ``already_billed`` are skipped: re-running a period is idempotent.
    Everything is computed before anything is returned: a bad fact or a missing grid raises and
    no number is consumed.
    """
    if not isinstance(period_start, date) or not isinstance(period_end, date):
        raise InvalidInputError("period bounds must be dates", path="period_start")
    if period_end < period_start:
        raise InvalidInputError("period ends before it starts", path="period_end")
    issue_date = _paris_date(issued_at)
    check_sequence(sequence, issuer_id, issue_date, "")
    by_id = _households(households)
    items = list(facts)
    for index, item in enumerate(items):
        if not isinstance(item, DayFacts):
            raise InvalidInputError("expected DayFacts", path=f"facts[{index}]")
        if not period_start <= item.day <= period_end:
            raise InvalidInputError(
                f"{item.day.isoformat()} is outside the billed period", path=f"facts[{index}]"
            )
        if item.household_id not in by_id:
            raise NotFoundError(f"unknown household {item.household_id!r}")
    decisions = decide(items, policy=policy, policies=policies, carried_runs=carried_runs)
    keys = {
        household_id: billing_key(
            BillingMode.POSTPAID,
            issuer_id=issuer_id,
            household_id=household_id,
            first_day=period_start,
            last_day=period_end,
        )
        for household_id in by_id
    }
    billed = set(already_billed)
    to_price = [d for d in decisions if keys[d.facts.household_id] not in billed]
    charges = price(to_price, tariffs=tariffs, households=by_id, ranks=ranks)
    per_household: dict[str, list[Charge]] = defaultdict(list)
    for charge in charges:
        per_household[charge.facts.household_id].append(charge)
    lines_of = {
        household_id: lines_from_charges(
            household_charges,
            child_names=_child_names(by_id[household_id]),
            service_names=service_names,
        )
        for household_id, household_charges in per_household.items()
    }
    return _postpaid_run(
        issuer_id=issuer_id,
        period_start=period_start,
        period_end=period_end,
        households=by_id,
        keys=keys,
        billed=billed,
        lines_of=lines_of,
        sequence=sequence,
        issued_at=issued_at,
        terms=terms,
        label=label,
        decisions=decisions,
    )
