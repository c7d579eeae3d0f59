"""``[billing] billed_days = "refuse"``: no booking, cancellation or attendance change to a
day of a month already invoiced (with ``"regularise"``, the default, such changes are
allowed and the next post-paid run regularises them, see :mod:`.regularise`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from canteen_core.config.deployment import BilledDays, Deployment
from canteen_core.domain._french import format_date_fr
from canteen_core.domain.errors import RuleViolationError
from canteen_core.domain.invoicing import MONTH_NAMES_FR
from canteen_core.ports.storage import UnitOfWork


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
