"""Why a household's invoice cannot be computed, said in French for the finance staff.

A billing run never stops for one household: a household whose invoice cannot be computed
(an enrollment in a category the tariff book does not price, a day no grid covers) is
reported in :attr:`~canteen_core.services.billing.BillingReport.skipped` with the reason, and
the others are billed. The household keeps no billing key, so running the period again after
the fix bills it, and only it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from canteen_core.domain._french import format_date_fr
from canteen_core.domain.charging import DayFacts, PeriodFacts
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.errors import CanteenError, NotFoundError
from canteen_core.domain.tariffs import TariffBook

__all__ = ["SkippedHousehold", "category_problem", "pricing_problem"]


@attrs.frozen(kw_only=True)
class SkippedHousehold:
    """A household a run could not bill, and why (French, one line, for the staff)."""

    household_id: str
    reason: str


def category_problem(enrollment: Enrollment) -> str:
    """The reason for an enrollment whose tariff category canteen does not know."""
    return (
        f"l'inscription {enrollment.id} (enfant {enrollment.child_id}) a la catégorie tarifaire "
        f"« {enrollment.tariff_category} », inconnue : corrigez l'inscription"
    )


def pricing_problem(
    error: CanteenError,
    facts: Iterable[PeriodFacts | DayFacts],
    tariffs: TariffBook,
    service_names: Mapping[str, str],
) -> str:
    """The reason pricing a household's ``facts`` (a post-paid run's, or a prepaid basket's
    days) failed with ``error``: the first day no grid covers, or the first enrollment whose
    category its grid does not price."""
    for item in facts:
        name = service_names.get(item.service_id, item.service_id)
        days = (item.day,) if isinstance(item, DayFacts) else item.days()
        for day in days:
            try:
                grid = tariffs.grid_on(item.service_id, day)
            except NotFoundError:
                return (
                    f"aucune grille tarifaire du service « {name} » ne couvre le "
                    f"{format_date_fr(day)} (enfant {item.child_id})"
                )
            if item.category not in grid.prices:
                return (
                    f"la grille tarifaire « {grid.id} » du service « {name} » ne tarife pas la "
                    f"catégorie « {item.category.value} » de l'inscription {item.enrollment_id} "
                    f"(enfant {item.child_id}) : complétez la grille ou corrigez l'inscription"
                )
    return f"la facture ne peut pas être calculée : {error}"
