"""Building invoices: lines from charges, the post-paid run, prepaid baskets and their credits.

The documents, their numbering and their terms are in :mod:`canteen_core.domain.invoicing`;
this module turns priced charges into them:

- :func:`run_postpaid_periods` bills a period for every household from
  :class:`~canteen_core.domain.charging.PeriodFacts` (one per enrollment), one invoice per
  household with charges, numbered once, in household-id order;
- :func:`invoice_prepaid_basket` bills a validated reservation basket for its service month,
  and :func:`prepaid_cancellation_credit` credits prepaid days cancelled before the deadline;
- :func:`lines_from_charges` groups day charges into invoice lines.

The rooms of this package:

* :mod:`~canteen_core.domain.invoice_runs.lines`: invoice lines from priced charges, shared by
  both billing modes;
* :mod:`~canteen_core.domain.invoice_runs.postpaid`: post-paid billing:
  :func:`run_postpaid_periods` and its :class:`BillingRun`;
* :mod:`~canteen_core.domain.invoice_runs.prepaid`: prepaid billing:
  :func:`invoice_prepaid_basket` and :func:`prepaid_cancellation_credit`.

Every name below is importable from ``canteen_core.domain.invoice_runs`` itself.
"""

from canteen_core.domain.invoice_runs.lines import lines_from_charges
from canteen_core.domain.invoice_runs.postpaid import BillingRun, run_postpaid_periods
from canteen_core.domain.invoice_runs.prepaid import (
    PrepaidInvoicing,
    invoice_prepaid_basket,
    prepaid_cancellation_credit,
)

__all__ = [
    "BillingRun",
    "PrepaidInvoicing",
    "invoice_prepaid_basket",
    "lines_from_charges",
    "prepaid_cancellation_credit",
    "run_postpaid_periods",
]
