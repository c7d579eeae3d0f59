"""Billing use cases: tariff grids, billing runs, credit notes, statements, reminders.

``canteen.billing`` (:class:`BillingService`) is what the finance office and the family portal
call. Every method takes the acting :class:`~canteen_core.domain.actors.Actor` and runs through
:meth:`~canteen_core.services.runner.ServiceContext.use_case`: authorized by the policy, one
transaction, events published after the commit, emails queued in the outbox in the same
transaction.

Post-paid billing run (:meth:`BillingService.run_postpaid`)
    For a period ``"YYYY-MM"`` the run maps, per enrollment, reservations (with the late
    booking and late cancellation markers), attendance, justified absences and closures into
    one :class:`~canteen_core.domain.charging.PeriodFacts` (the enrollment's
    :class:`~canteen_core.domain.charging.DayFacts` in bulk, see :func:`period_facts`), and prices
    them with the stored tariff grids (QF valid on the day, category from the enrollment,
    sibling rank among the children billed for the service), alike days grouped
    (:func:`~canteen_core.domain.invoice_runs.run_postpaid_periods`). Numbers come from the issuer's
    sequence, taken (and locked) inside the transaction, so they stay gapless.

    **Batches.** Households are processed in batches of :attr:`BillingOptions.batch_size`,
    **one transaction per batch**: only one batch of households, enrollments, books and
    attendance is in memory at a time (a city of 25,000 households bills in bounded memory),
    the numbering lock is held for one batch only (a prepaid validation or a credit note waits
    seconds, not the whole run), and a failure loses at most the current batch. Batches are
    taken in household-id order, so numbers follow household ids. A run that stops half-way
    (crash, lost connection) is simply started again: every invoice carries its billing key
    (household, period, mode), unique in the database, and already billed households are
    skipped. Two runs started at once produce each invoice once: the second waits for the
    first's numbering lock, then sees its keys; if the database still reports a duplicate key
    (:class:`~canteen_core.domain.errors.ConflictError`), that household's invoice is skipped, its
    number reused by the next invoice, and the household listed in
    :attr:`BillingReport.conflicts`.

Prepaid mode
    :meth:`BillingService.invoice_basket` invoices a household's validated reservation basket
    for its service month (only days not invoiced yet), and
    :meth:`BillingService.credit_cancellations` credits days invoiced in advance and cancelled
    before the deadline (a late cancellation, marked by the reservation engine, is not
    credited). :meth:`BillingService.run_prepaid` is the staff's run of a month: every
    household's basket invoiced as :meth:`~BillingService.invoice_basket` does, one
    transaction per household, returning the same :class:`BillingReport` as a post-paid run.
    :meth:`BillingService.invoice_validation` is what follows a family's validation: the
    basket of each month it booked days in, invoiced after the booking is stored.

The ledger
    Nothing derived is stored: a household's :class:`~canteen_core.domain.ledger.HouseholdAccount`
    is
    rebuilt from its documents (:func:`household_account`) by replaying them in date order
    (invoices, credit notes, payments, refunds, rejections). Allocation is oldest invoice first.

Reminders and the arrears rule
    :meth:`BillingService.run_reminders` sends each reminder level of an invoice once: the
    highest level sent is kept per invoice in the storage's numbering table (kind
    ``"dunning"``), a monotonic counter updated in the same transaction as the outbox messages.
    :func:`booking_block_reason` is the optional arrears rule; the reservations service calls it
    (or :meth:`BillingService.ensure_bookings_allowed`) before accepting new bookings.
"""

from collections.abc import Iterable

from canteen_core.domain.actors import Actor
from canteen_core.domain.invoicing import BillingMode
from canteen_core.services.billing._base import (
    BillingBase,
    BillingOptions,
    household_recipients,
    parse_period,
)
from canteen_core.services.billing.billed_days import BilledQuotientChangeError
from canteen_core.services.billing.credit_notes import CreditNotes
from canteen_core.services.billing.dunning import Dunning, ReminderReport, booking_block_reason
from canteen_core.services.billing.facts import period_facts, tariff_category_of
from canteen_core.services.billing.home import HouseholdHome, HouseholdHomes
from canteen_core.services.billing.prepaid import BasketInvoices, PrepaidBilling
from canteen_core.services.billing.problems import SkippedHousehold
from canteen_core.services.billing.runs import BillingReport, IssuedInvoice, PostpaidRuns
from canteen_core.services.billing.statements import (
    InvoiceRow,
    InvoicesPage,
    household_account,
    household_accounts,
    refund_uncovered,
    refuse_while_money_held,
)
from canteen_core.services.billing.tariff_admin import BilledGridChangeError, TariffAdministration
from canteen_core.services.billing.tariff_prices import HouseholdTariffs, TariffPrices

__all__ = [
    "BasketInvoices",
    "BilledGridChangeError",
    "BilledQuotientChangeError",
    "BillingBase",
    "BillingOptions",
    "BillingReport",
    "BillingService",
    "HouseholdHome",
    "HouseholdTariffs",
    "InvoiceRow",
    "InvoicesPage",
    "IssuedInvoice",
    "ReminderReport",
    "SkippedHousehold",
    "booking_block_reason",
    "household_account",
    "household_accounts",
    "household_recipients",
    "parse_period",
    "period_facts",
    "refund_uncovered",
    "refuse_while_money_held",
    "tariff_category_of",
]


class BillingService(
    TariffAdministration,
    TariffPrices,
    PostpaidRuns,
    PrepaidBilling,
    CreditNotes,
    HouseholdHomes,
    Dunning,
):
    """``canteen.billing``: tariffs, billing runs, credit notes, statements and reminders.

    One object whose methods come from the rooms of this package: :mod:`.tariff_admin`
    (tariff grids), :mod:`.tariff_prices` (a household's prices, with why), :mod:`.runs`
    (post-paid runs), :mod:`.prepaid` (baskets and cancellation credits), :mod:`.credit_notes`,
    :mod:`.statements` (accounts, statements, "MES FACTURES"), :mod:`.home` (the family's home
    page in one read) and :mod:`.dunning` (reminders, arrears rule).
    """

    def run_month(
        self,
        actor: Actor,
        period: str,
        *,
        household_ids: Iterable[str] | None = None,
        allow_unfinished: bool = False,
    ) -> BillingReport:
        """The staff's billing run of ``period`` in the deployment's mode: :meth:`run_postpaid`
        (``allow_unfinished`` as it says), or on a prepaid deployment :meth:`run_prepaid`
        (which bills in advance: ``allow_unfinished`` changes nothing). One
        :class:`BillingReport` either way, so the command line, the API and the back office
        page say the same."""
        if self.mode is BillingMode.PREPAID:
            return self.run_prepaid(actor, period, household_ids=household_ids)
        return self.run_postpaid(
            actor, period, household_ids=household_ids, allow_unfinished=allow_unfinished
        )
