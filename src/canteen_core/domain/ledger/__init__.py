"""The payments ledger: invoices, credit notes, payments, allocations and refunds per household.

A :class:`HouseholdAccount` is an immutable aggregate: every operation returns a new account or
raises, so nothing is ever half-applied. Rules:

- Payments (card, direct debit, cash, cheque, CESU) are allocated to the payment's own target
  invoices first when it names some, then to the oldest open invoices (by issue date, then
  number). What is left is household credit.
- Household credit is applied to invoices as they arrive (``auto_apply_credit``, on by default),
  oldest first.
- A credit note reduces what is due on its invoice; if the invoice had been paid beyond the new
  amount, the excess allocation is released and becomes credit (then auto-applied).
- A rejected payment (a returned direct debit, a bounced cheque) loses its allocations: the
  invoices it paid reopen.
- A refund pays household credit back; it cannot exceed the available credit.
- A payment recorded twice with the same id and content is ignored (provider notifications
  arrive more than once); the same id with different content is a :class:`ConflictError`.

- A direct debit counts from its collection date (its ``received_on``): read on an earlier day
  (``HouseholdAccount.as_of``), it is *scheduled*. It stays allocated to its invoice, so the
  invoice is neither reminded, debited again nor payable online, but the invoice is not paid
  and the money is not received until that day.

Invoice status: ``cancelled`` when credit notes cover the whole total, ``paid`` when nothing is
left to pay, ``debit_scheduled`` when scheduled debits cover what is left ("Prélèvement prévu le
JJ/MM/AAAA"), ``partially_paid`` when something was paid or credited, ``issued`` otherwise.
Invariant: for every account, ``balance_due == invoiced - credited - allocated`` and
``net_balance == balance_due - available_credit``; ``allocated`` and ``received`` leave the
scheduled debits out, ``scheduled`` counts them.

The rooms of this package:

* :mod:`~canteen_core.domain.ledger.records`: the records: :class:`Payment`,
  :class:`Allocation`, :class:`Refund`, :class:`InvoiceState`, :class:`Statement`;
* :mod:`~canteen_core.domain.ledger.account`: :class:`HouseholdAccount`, the aggregate and its
  rules.

Every name below is importable from ``canteen_core.domain.ledger`` itself.
"""

from canteen_core.domain.ledger.account import HouseholdAccount
from canteen_core.domain.ledger.records import (
    MAX_AMOUNT,
    Allocation,
    InvoiceState,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    Refund,
    Statement,
    StatementEntry,
    check_whole_cents,
)

__all__ = [
    "MAX_AMOUNT",
    "Allocation",
    "HouseholdAccount",
    "InvoiceState",
    "InvoiceStatus",
    "Payment",
    "PaymentMethod",
    "Refund",
    "Statement",
    "StatementEntry",
    "check_whole_cents",
]
