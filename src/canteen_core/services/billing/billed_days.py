"""Days already invoiced.

* ``[billing] billed_days = "refuse"``: no booking, cancellation or attendance change to a day
  of a month already invoiced (with ``"regularise"``, the default, such changes are allowed and
  the next post-paid run regularises them, see :mod:`.regularise`).
* A family quotient never re-prices a day already invoiced unless confirmed
  (:func:`quotient_repricing`; docs/rules/tariffs.md): staff setting one are refused
  (:class:`BilledQuotientChangeError`), an accepted attestation CAF or a campaign's outcome
  applies from the first day not invoiced (:func:`unbilled_quotient`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

import attrs

from canteen_core.config.deployment import BilledDays, Deployment
from canteen_core.domain._french import format_date_fr, format_month_fr
from canteen_core.domain.charging import ChargeRule
from canteen_core.domain.errors import RuleViolationError
from canteen_core.domain.families import FamilyQuotient, Household
from canteen_core.domain.invoicing import MONTH_NAMES_FR, CreditNote, Invoice
from canteen_core.ports.storage import UnitOfWork

__all__ = [
    "BilledQuotientChangeError",
    "BilledQuotientDays",
    "ensure_days_not_billed",
    "net_billed_days",
    "quotient_repricing",
    "unbilled_quotient",
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


def net_billed_days(
    invoices: Iterable[Invoice], notes: Iterable[CreditNote], first: date, last: date
) -> dict[tuple[str, str], set[date]]:
    """(child id, service id) -> the days from ``first`` to ``last`` invoiced for them and not
    cancelled by a credit note's line for the same day (late pick-up fees are not days)."""
    count: Counter[tuple[str, str, date]] = Counter()
    signed = [(invoice.lines, 1) for invoice in invoices]
    signed.extend((note.lines, -1) for note in notes)
    for lines, sign in signed:
        for line in lines:
            if line.child_id is None or line.rule is ChargeRule.LATE_PICKUP:
                continue
            for day in set(line.days):
                if first <= day <= last:
                    count[(line.child_id, line.service_id, day)] += sign
    billed: dict[tuple[str, str], set[date]] = defaultdict(set)
    for (child_id, service_id, day), times in count.items():
        if times > 0:
            billed[(child_id, service_id)].add(day)
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
