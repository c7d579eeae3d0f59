"""Enrollment requests, offers and tariffs as the bodies of :mod:`.schemas_enrollment`."""

from __future__ import annotations

from canteen_adapters.web.convert import money
from canteen_adapters.web.schemas_enrollment import (
    EnrollmentRequestOut,
    GridBandOut,
    GridRowOut,
    GridTableOut,
    OfferOut,
    PriceOut,
    TariffsOut,
)
from canteen_core.domain.enrollment_requests import EnrollmentApplication
from canteen_core.domain.tariff_explanation import GridTable, PriceExplanation
from canteen_core.services.billing import HouseholdTariffs
from canteen_core.services.enrollment_requests import EnrollmentOffer

__all__ = ["enrollment_request_out", "offer_out", "tariffs_out"]


#: How the API names weekdays (Monday = 0), as the periodicity route reads them.
WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def enrollment_request_out(application: EnrollmentApplication) -> EnrollmentRequestOut:
    """An enrollment request's body."""
    return EnrollmentRequestOut(
        id=application.id,
        household_id=application.household_id,
        child_id=application.child_id,
        service_id=application.service_id,
        site_id=application.site_id,
        school_year=application.school_year,
        label=application.label_fr,
        tariff_category=application.tariff_category,
        note=application.note,
        status=application.status.value,
        status_label=application.status_fr,
        requested_at=application.requested_at,
        decided_at=application.decided_at,
        reason=application.reason,
        enrollment_id=application.enrollment_id,
        weekdays=None
        if application.weekdays is None
        else [WEEKDAY_CODES[day] for day in sorted(application.weekdays)],
        weekdays_label=application.weekdays_fr,
    )


def offer_out(offer: EnrollmentOffer) -> OfferOut:
    """An offer's body."""
    return OfferOut(
        service_id=offer.service.id,
        service_name=offer.service.name,
        site_id=offer.site.id,
        site_name=offer.site.name,
        label=offer.label_fr,
    )


def _table_out(table: GridTable) -> GridTableOut:
    return GridTableOut(
        grid_id=table.grid_id,
        service_id=table.service_id,
        service_name=table.service_name,
        valid_from=table.valid_from,
        valid_until=table.valid_until,
        period=table.period_fr,
        rows=[
            GridRowOut(
                category=category,
                bands=[GridBandOut(bounds=b.bounds, price=money(b.price)) for b in bands],
            )
            for category, bands in table.rows
        ],
        rules=list(table.rules),
    )


def _price_out(price: PriceExplanation) -> PriceOut:
    quote = price.quote
    return PriceOut(
        child_id=price.child_id,
        child_name=price.child_name,
        enrollment_id=price.enrollment_id,
        service_name=price.service_name,
        day=price.day,
        unit_price=money(price.price),
        category=quote.category.value,
        sibling_rank=quote.sibling_rank,
        discount_percent=f"{quote.discount_percent.normalize():f}",
        reasons=list(price.reasons),
        text=price.sentence_fr,
    )


def tariffs_out(found: HouseholdTariffs) -> TariffsOut:
    """The "Tarification" body."""
    return TariffsOut(
        household_id=found.household_id,
        school_year=found.school_year,
        school_year_label=found.school_year_fr,
        day=found.day,
        grids=[_table_out(t) for t in found.tables],
        prices=[_price_out(p) for p in found.prices],
        missing=list(found.missing),
    )
