"""Days already invoiced.

* ``[billing] billed_days = "refuse"``: no booking, cancellation or attendance change to a day
  of a month already invoiced (with ``"regularise"``, the default, such changes are allowed and
  the next post-paid run regularises them, see :mod:`.regularise`).
* A family quotient never re-prices a day already invoiced unless confirmed
  (:func:`quotient_repricing`; docs/rules/tariffs.md): staff setting one are refused
  (:class:`BilledQuotientChangeError`), an accepted attestation CAF or a campaign's outcome
  applies from the first day not invoiced (:func:`unbilled_quotient`).
* :func:`billed_days_cancelled`: the days already invoiced a change cancels, which the next
  run credits (what a site closure tells the operator).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

import attrs

from canteen_core.config.deployment import BilledDays, Deployment
from canteen_core.domain._french import format_date_fr, format_month_fr
from canteen_core.domain.charging import ChargeRule
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import RuleViolationError
from canteen_core.domain.families import FamilyQuotient, Household
from canteen_core.domain.invoicing import MONTH_NAMES_FR, CreditNote, Invoice, InvoiceLine
from canteen_core.domain.money import format_number_fr
from canteen_core.ports.storage import UnitOfWork

__all__ = [
    "BilledDaysCancelled",
    "BilledQuotientChangeError",
    "BilledQuotientDays",
    "CreditedDay",
    "billed_days_cancelled",
    "ensure_days_not_billed",
    "net_billed_days",
    "quotient_repricing",
    "unbilled_quotient",
    "uncredited_days",
]


class BilledQuotientChangeError(RuleViolationError):
    """A family quotient would re-price days already invoiced for the household, unconfirmed
    (``set_family_quotient(..., reprice_billed=True)`` confirms it)."""


def ensure_days_not_billed(
    uow: UnitOfWork,
    deployment: Deployment,
    changes: Mapping[str, Iterable[date]],
) -> None:
    """Refuse (French :class:`RuleViolationError`) a change to a day (household id -> days
    changed) that an invoice of the household already covers, when the deployment says
    ``billed_days = "refuse"``; nothing to check otherwise. One query (the households'
    invoices), only when something changed."""
    if deployment.billing.billed_days is not BilledDays.REFUSE:
        return
    wanted = {household: sorted(set(days)) for household, days in changes.items() if days}
    wanted = {household: days for household, days in wanted.items() if days}
    if not wanted:
        return
    for invoice in uow.invoices.list(household_id=tuple(sorted(wanted))):
        for day in wanted.get(invoice.household_id, ()):
            if invoice.period_start <= day <= invoice.period_end:
                month = f"{MONTH_NAMES_FR[day.month - 1]} {day.year}"
                raise RuleViolationError(
                    f"Le mois de {month} est déjà facturé (facture {invoice.number}) : "
                    f"le {format_date_fr(day)} ne peut plus être modifié"
                )


def uncredited_days(
    invoices: Iterable[Invoice],
    notes: Iterable[CreditNote],
    *,
    first: date = date.min,
    last: date = date.max,
    by_unit: bool = True,
) -> dict[str, dict[tuple[str, str], set[date]]]:
    """Invoice id -> (child id, service id) -> the days from ``first`` to ``last`` the invoice
    charged for them that the credit notes on that invoice did not credit yet, as a post-paid
    run's régularisation matches them (:func:`~canteen_core.domain.regularisation.regularise`):
    a day counts once per line of the invoice charging it and is taken off once per line of a
    note on the invoice crediting it, and stands while charged more times than credited.

    Late pick-up fees are not days; with ``by_unit=False`` neither are the lines of activities
    billed by their own unit (an hour, a half-day: their quantity is units, not days). Only
    invoices with such days appear, in the order given; a note on an invoice not given is
    ignored."""
    counts: dict[str, Counter[tuple[str, str, date]]] = {}
    for invoice in invoices:
        tally = counts.setdefault(invoice.id, Counter())
        for key in _traced_days(invoice.lines, first, last, by_unit):
            tally[key] += 1
    for note in notes:
        found = counts.get(note.invoice_id)
        if found is not None:
            found.subtract(_traced_days(note.lines, first, last, by_unit))
    standing: dict[str, dict[tuple[str, str], set[date]]] = {}
    for invoice_id, tally in counts.items():
        days: dict[tuple[str, str], set[date]] = {}
        for (child_id, service_id, day), times in tally.items():
            if times > 0:
                days.setdefault((child_id, service_id), set()).add(day)
        if days:
            standing[invoice_id] = days
    return standing


def _traced_days(
    lines: Iterable[InvoiceLine], first: date, last: date, by_unit: bool
) -> list[tuple[str, str, date]]:
    """(child id, service id, day) once per line and day from ``first`` to ``last`` that
    :func:`uncredited_days` counts."""
    return [
        (line.child_id, line.service_id, day)
        for line in lines
        if line.child_id is not None
        and line.rule is not ChargeRule.LATE_PICKUP
        and (by_unit or line.unit is None)
        for day in set(line.days)
        if first <= day <= last
    ]


def net_billed_days(
    invoices: Iterable[Invoice], notes: Iterable[CreditNote], first: date, last: date
) -> dict[tuple[str, str], set[date]]:
    """(child id, service id) -> the days from ``first`` to ``last`` an invoice charged for
    them and a credit note on it did not credit yet (:func:`uncredited_days`, whichever
    invoice charged them; late pick-up fees are not days)."""
    billed: dict[tuple[str, str], set[date]] = defaultdict(set)
    for charged in uncredited_days(invoices, notes, first=first, last=last).values():
        for key, days in charged.items():
            billed[key] |= days
    return billed


@attrs.frozen(kw_only=True)
class BilledQuotientDays:
    """The days invoiced for a household that a change of its quotients would price with
    another quotient: the first and the last of them, the invoice that bills the last, and
    the first day the change can apply from without touching an invoiced day (the day after
    the period of that invoice: 1 October for a September invoice)."""

    first: date
    last: date
    invoice: Invoice
    free_from: date

    @property
    def billed_until(self) -> date:
        """The day before :attr:`free_from`: what stays priced with the quotient before."""
        return self.free_from - timedelta(days=1)

    @property
    def months_fr(self) -> str:
        """``"septembre 2023"``, or ``"janvier 2023 à septembre 2023"``."""
        first, last = format_month_fr(self.first), format_month_fr(self.last)
        return first if first == last else f"{first} à {last}"

    def refusal_fr(self) -> str:
        """Why a quotient from before :attr:`free_from` is refused, in French (one line)."""
        one = (self.first.year, self.first.month) == (self.last.year, self.last.month)
        verb = "est déjà facturé" if one else "sont déjà facturés"
        return (
            f"{self.months_fr} {verb} (facture {self.invoice.number}) : ce QF peut "
            f"s'appliquer à partir du {self.free_from:%d/%m/%Y}, ou confirmez la refacturation"
        )


def quotient_repricing(
    uow: UnitOfWork, before: Household, after: Household
) -> BilledQuotientDays | None:
    """The household's days invoiced (net of credit notes, prepaid ones included, even in
    the future) whose quotient differs between ``before`` and ``after``: the days the next
    post-paid run would credit and charge again at the new bracket; ``None`` if there are
    none. Two queries (the household's invoices and credit notes), only when the quotients
    changed."""
    if before.quotients == after.quotients:
        return None
    invoices = list(uow.invoices.list(household_id=before.id))
    if not invoices:
        return None
    notes = uow.credit_notes.list(household_id=before.id)
    billed = net_billed_days(invoices, notes, date.min, date.max)
    days = sorted(
        {
            day
            for found in billed.values()
            for day in found
            if before.quotient_on(day) != after.quotient_on(day)
        }
    )
    if not days:
        return None
    last = days[-1]
    covering = [i for i in invoices if i.period_start <= last <= i.period_end]
    billing = [i for i in invoices if any(last in line.days for line in i.lines)]
    named = max(
        [i for i in covering if i in billing] or covering or billing,
        key=lambda invoice: (invoice.issue_date, invoice.number),
    )
    free_from = max([last, *(i.period_end for i in covering)]) + timedelta(days=1)
    return BilledQuotientDays(first=days[0], last=last, invoice=named, free_from=free_from)


def unbilled_quotient(
    uow: UnitOfWork, household: Household, quotient: FamilyQuotient
) -> tuple[FamilyQuotient | None, BilledQuotientDays | None]:
    """``quotient`` as it can be recorded for ``household`` without re-pricing a day already
    invoiced: from its own ``valid_from`` when that touches no invoiced day, else from the
    day after the last invoiced day it would re-price (``None`` when that is after its
    ``valid_until``: its whole validity is invoiced); with those invoiced days, if any."""
    billed = quotient_repricing(uow, household, household.with_quotient(quotient))
    if billed is None:
        return quotient, None
    start = billed.free_from
    if quotient.valid_until is not None and quotient.valid_until < start:
        return None, billed
    return attrs.evolve(quotient, valid_from=start), billed


@attrs.frozen(kw_only=True)
class CreditedDay:
    """One day of an enrollment that an invoice charged and a change cancels: the next
    billing run credits it (a credit note on ``invoice_number``). ``meal``: the enrollment's
    service is lunch (a day with its meal), so the day is a meal; else a day of an activity."""

    household_id: str
    enrollment_id: str
    day: date
    invoice_id: str
    invoice_number: str
    meal: bool = True


@attrs.frozen(kw_only=True)
class BilledDaysCancelled:
    """The days already invoiced that a change cancels (a site closure): with
    ``billed_days = "regularise"`` the next billing run credits each on the invoice that
    charged it. Empty when nothing invoiced is touched."""

    days: tuple[CreditedDay, ...] = ()

    @property
    def count(self) -> int:
        """How many days (one per enrollment and day)."""
        return len(self.days)

    @property
    def household_ids(self) -> tuple[str, ...]:
        """The households concerned, by id."""
        return tuple(sorted({item.household_id for item in self.days}))

    @property
    def invoice_numbers(self) -> tuple[str, ...]:
        """The invoices that charged the days, by number."""
        return tuple(sorted({item.invoice_number for item in self.days}))

    def by_household(self) -> dict[str, tuple[date, ...]]:
        """The days per household (what :func:`ensure_days_not_billed` takes)."""
        found: dict[str, set[date]] = {}
        for item in self.days:
            found.setdefault(item.household_id, set()).add(item.day)
        return {household: tuple(sorted(days)) for household, days in sorted(found.items())}

    @property
    def months(self) -> tuple[date, ...]:
        """The months of the days (their first day), in order."""
        return tuple(sorted({item.day.replace(day=1) for item in self.days}))

    @property
    def summary_fr(self) -> str:
        """``"12 repas déjà facturés (7 familles, factures de septembre 2023) seront crédités
        à la prochaine facturation"`` (``"12 repas et 3 jours d'activité déjà facturés..."``
        when other activities are closed too); ``""`` when nothing invoiced is cancelled."""
        count = self.count
        if not count:
            return ""
        many = count > 1
        meals = sum(1 for item in self.days if item.meal)
        others = count - meals
        what = [f"{format_number_fr(meals)} repas"] if meals else []
        if others:
            what.append(f"{format_number_fr(others)} jour{'s' if others > 1 else ''} d'activité")
        unit = " et ".join(what)
        families = len(self.household_ids)
        months = [format_month_fr(month) for month in self.months]
        listed = months[0] if len(months) == 1 else f"{', '.join(months[:-1])} et {months[-1]}"
        invoices = "factures" if len(self.invoice_numbers) > 1 else "facture"
        of = "d'" if listed[0] in "aeiouy" else "de "  # d'avril, d'août, d'octobre
        return (
            f"{unit} déjà facturé{'s' if many else ''} "
            f"({format_number_fr(families)} famille{'s' if families > 1 else ''}, "
            f"{invoices} {of}{listed}) {'seront' if many else 'sera'} "
            f"crédité{'s' if many else ''} à la prochaine facturation"
        )


def billed_days_cancelled(
    uow: UnitOfWork, cancelled: Iterable[tuple[Enrollment, Iterable[date]]]
) -> BilledDaysCancelled:
    """The days of ``cancelled`` (enrollment, days it no longer charges) that an invoice of
    the household charged for the enrollment's child and service (its meal's service
    included) by the day, and the credit notes on it did not credit yet
    (:func:`uncredited_days`): what the next billing run credits, on that invoice
    (activities billed by another unit, an hour, a half-day, are billed as they stand and
    left out). Two queries (the households' invoices and credit notes), only when a day is
    given."""
    wanted: dict[tuple[str, str], list[tuple[Enrollment, frozenset[date]]]] = {}
    for enrollment, days in cancelled:
        found = frozenset(days)
        if not found:
            continue
        services = {enrollment.service.id, enrollment.service.meal_service_id}
        for service_id in services - {None}:
            key = (enrollment.child_id, str(service_id))
            wanted.setdefault(key, []).append((enrollment, found))
    if not wanted:
        return BilledDaysCancelled()
    households = tuple(sorted({e.household_id for items in wanted.values() for e, _ in items}))
    asked = [day for items in wanted.values() for _, days in items for day in days]
    invoices = {invoice.id: invoice for invoice in uow.invoices.list(household_id=households)}
    standing = uncredited_days(
        invoices.values(),
        uow.credit_notes.list(household_id=households),
        first=min(asked),
        last=max(asked),
        by_unit=False,  # activities billed by their own unit are not regularised
    )
    charged: dict[tuple[str, date], CreditedDay] = {}
    for invoice_id, by_key in standing.items():
        invoice = invoices[invoice_id]
        for key, billed in by_key.items():
            for enrollment, days in wanted.get(key, ()):
                if enrollment.household_id != invoice.household_id:
                    continue
                for day in billed & days:
                    charged.setdefault(
                        (enrollment.id, day),
                        CreditedDay(
                            household_id=enrollment.household_id,
                            enrollment_id=enrollment.id,
                            day=day,
                            invoice_id=invoice.id,
                            invoice_number=invoice.number,
                            meal=enrollment.service.priced_unit_fr == "repas",
                        ),
                    )
    return BilledDaysCancelled(days=tuple(charged[key] for key in sorted(charged)))
