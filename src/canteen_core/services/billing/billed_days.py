"""``[billing] billed_days = "refuse"``: no booking, cancellation or attendance change to a
day of a month already invoiced (with ``"regularise"``, the default, such changes are
allowed and the next post-paid run regularises them, see :mod:`.regularise`), and
:func:`billed_days_cancelled`: the days already invoiced a change cancels, which that run
credits (what a site closure tells the operator).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

import attrs

from canteen_core.config.deployment import BilledDays, Deployment
from canteen_core.domain._french import format_date_fr, format_month_fr
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import RuleViolationError
from canteen_core.domain.invoicing import MONTH_NAMES_FR
from canteen_core.domain.money import format_number_fr
from canteen_core.ports.storage import UnitOfWork

__all__ = [
    "BilledDaysCancelled",
    "CreditedDay",
    "billed_days_cancelled",
    "ensure_days_not_billed",
]


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
    included) by the day, and no credit note credited yet: what the next billing run credits
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
    credited: dict[str, set[tuple[str | None, str, date]]] = {}
    for note in uow.credit_notes.list(household_id=households):
        credited.setdefault(note.invoice_id, set()).update(note.credited_days())
    charged: dict[tuple[str, date], CreditedDay] = {}
    for invoice in uow.invoices.list(household_id=households):
        already = credited.get(invoice.id, set())
        for line in invoice.lines:
            if line.child_id is None or line.unit is not None:
                continue  # activities billed by their own unit are not regularised
            for enrollment, days in wanted.get((line.child_id, line.service_id), ()):
                if enrollment.household_id != invoice.household_id:
                    continue
                for day in line.days:
                    if day in days and (line.child_id, line.service_id, day) not in already:
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
