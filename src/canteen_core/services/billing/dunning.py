"""Reminders (dunning) and the arrears rule."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import paris_date, paris_today
from canteen_core.domain.errors import (
    InvalidInputError,
    RuleViolationError,
)
from canteen_core.domain.families import Household
from canteen_core.domain.invoicing import (
    NumberSequence,
)
from canteen_core.domain.outbox.store import OutboxRecord
from canteen_core.domain.policy import Action
from canteen_core.domain.reminders import (
    ArrearsRule,
    due_reminders,
    reminder_level,
)
from canteen_core.ports.storage import UnitOfWork
from canteen_core.services.billing._base import (
    BillingBase,
    _chunks,
    _household_id,
    household_recipients,
)
from canteen_core.services.billing.statements import household_account
from canteen_core.services.runner import Transaction

_DUNNING_COUNTER = "dunning"
#: The outbox kind of a payment reminder e-mail.
REMINDER_KIND = "invoice-overdue"


@attrs.frozen(kw_only=True)
class ReminderReport:
    """What a reminders run sent: one :class:`~canteen_core.domain.events.InvoiceOverdue` per
    (invoice, level), each at most once."""

    sent: tuple[tuple[str, int], ...]  # (invoice id, level)
    households: int
    messages: int


def booking_block_reason(
    uow: UnitOfWork, household_id: str, *, today: date, rule: ArrearsRule | None
) -> str | None:
    """Why ``household_id`` may not book new days (French, for the family), or ``None``.

    The optional arrears rule: overdue balance above the rule's threshold blocks new bookings.
    Call it inside the booking use case's transaction (it reads the household's documents).
    """
    if rule is None or not rule.enabled:
        return None
    account = household_account(uow, household_id, as_of=today)
    if not rule.blocks_bookings(account, today=today):
        return None
    return (
        "De nouvelles réservations ne sont pas possibles tant que les factures échues "
        f"ne sont pas réglées (reste à payer : {account.balance_due.format_fr()})."
    )


class Dunning(BillingBase):
    """Reminder runs and the arrears rule."""

    # -- reminders and arrears -----------------------------------------------------------------

    def run_reminders(self, actor: Actor, *, today: date | None = None) -> ReminderReport:
        """Send the reminders due on ``today`` (default: today in Europe/Paris).

        ``send_reminders`` (finance, admin, system). Each (invoice, level) is sent once: an
        :class:`~canteen_core.domain.events.InvoiceOverdue` event and an email to the guardians.
        Households are processed in batches, one transaction each. A ``today`` after today
        (a mistyped year) is refused (:class:`InvalidInputError`) before anything is sent: it
        would send reminders for invoices not overdue yet.
        """
        if today is not None and (not isinstance(today, date) or isinstance(today, datetime)):
            raise InvalidInputError("une date (sans heure) est attendue", path="today")
        with self._ctx.use_case(actor, Action.SEND_REMINDERS, read_only=True) as tx:
            now = paris_date(tx.now)
            day = today or now
            if day > now:
                raise InvalidInputError(
                    f"les relances ne partent pas à une date future ({day:%d/%m/%Y} ; "
                    f"aujourd'hui : {now:%d/%m/%Y}) : rien n'a été envoyé",
                    path="today",
                )
            households = tx.uow.households.count()
            # A reminder comes at the earliest the first level's delay after a due date, and
            # an invoice falls due no earlier than its issue: only the households billed by
            # then can owe one (on the 2nd of the month, last month's new invoices cannot).
            first = self.options.dunning.levels[0].days_overdue
            ids = sorted(tx.uow.invoices.households_billed_until(day - timedelta(days=first)))
        sent: list[tuple[str, int]] = []
        messages = 0
        for batch in _chunks(ids, self.options.batch_size):
            with self._ctx.use_case(actor, Action.SEND_REMINDERS) as tx:
                for household_id in batch:
                    household = tx.uow.households.find(household_id)
                    if household is None:
                        continue
                    pairs, count = self._remind(tx, household, day)
                    sent.extend(pairs)
                    messages += count
        return ReminderReport(sent=tuple(sent), households=households, messages=messages)

    def sent_reminders(self, actor: Actor, *, limit: int = 200) -> list[OutboxRecord]:
        """The reminder e-mails in the outbox (queued, sent or dead), newest first, at most
        ``limit``. ``send_reminders`` (finance, admin): unlike the whole outbox (admin only),
        the staff who send reminders may see which were sent."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise InvalidInputError(
                f"la limite doit être un entier de 1 à 10000 (reçu « {limit} »)", path="limit"
            )
        with self._ctx.use_case(actor, Action.SEND_REMINDERS, read_only=True) as tx:
            records = tx.uow.outbox.records(None)
            found = [record for record in records if record.message.kind == REMINDER_KIND]
        return list(reversed(found))[:limit]

    def _remind(
        self, tx: Transaction, household: Household, today: date
    ) -> tuple[list[tuple[str, int]], int]:
        uow = tx.uow
        # A scheduled direct debit covers its invoice: no reminder (``reminder_level``).
        account = household_account(uow, household.id, as_of=today)
        schedule = self.options.dunning
        overdue = [
            state for state in account.open_invoices() if reminder_level(state, today, schedule) > 0
        ]
        if not overdue:
            return [], 0
        counters: dict[str, NumberSequence] = {}
        already: set[tuple[str, int]] = set()
        for state in overdue:
            counter = uow.invoices.sequence(
                _DUNNING_COUNTER, state.invoice.issue_date.year, kind=state.invoice.id
            )
            counters[state.invoice.id] = counter
            if counter.last_used:
                already.add((state.invoice.id, counter.last_used))
        events = due_reminders(
            account, today=today, occurred_at=tx.now, schedule=schedule, already_sent=already
        )
        recipients = household_recipients(household)
        count = 0
        for event in events:
            uow.invoices.save_sequence(
                attrs.evolve(counters[event.invoice_id], last_used=event.level),
                kind=event.invoice_id,
            )
            tx.emit(event)
            if recipients:
                found = self._ctx.notifier.invoice_overdue(event, recipients)
                tx.send(*found)
                count += len(found)
        return [(event.invoice_id, event.level) for event in events], count

    def booking_block_reason(self, actor: Actor, household_id: str) -> str | None:
        """Why the household may not book new days now (arrears rule), or ``None``.

        ``view_invoices``: a guardian may ask for their own household (the portal shows it).
        """
        with self._ctx.use_case(
            actor, Action.VIEW_INVOICES, household_id=_household_id(household_id), read_only=True
        ) as tx:
            return booking_block_reason(
                tx.uow,
                household_id,
                today=paris_date(tx.now),
                rule=self.options.arrears_rule,
            )

    def ensure_bookings_allowed(self, uow: UnitOfWork, household_id: str) -> None:
        """Inside a booking transaction: raise :class:`RuleViolationError` when the arrears
        rule of these options blocks new bookings."""
        ensure_bookings_allowed(
            uow, household_id, today=paris_today(self._ctx.clock), rule=self.options.arrears_rule
        )


def ensure_bookings_allowed(
    uow: UnitOfWork, household_id: str, *, today: date, rule: ArrearsRule | None
) -> None:
    """Raise :class:`RuleViolationError` (the French reason of :func:`booking_block_reason`)
    when ``rule`` blocks new bookings for the household. The reservations service calls it
    with the deployment's rule when a family books new days."""
    reason = booking_block_reason(uow, household_id, today=today, rule=rule)
    if reason is not None:
        raise RuleViolationError(reason)
