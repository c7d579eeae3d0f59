"""Enrollment requests, offers and tariffs as the bodies of :mod:`.schemas_enrollment`."""

from __future__ import annotations

from canteen_adapters.web.convert import body, money, service_and_site
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
    return body(
        EnrollmentRequestOut,
        application,
        label=application.label_fr,
        status_label=application.status_fr,
        weekdays=None
        if application.weekdays is None
        else [WEEKDAY_CODES[day] for day in sorted(application.weekdays)],
        weekdays_label=application.weekdays_fr,
    )


def offer_out(offer: EnrollmentOffer) -> OfferOut:
    """An offer's body."""
    return OfferOut(label=offer.label_fr, **service_and_site(offer))


def _table_out(table: GridTable) -> GridTableOut:
    return body(
        GridTableOut,
        table,
        period=table.period_fr,
        rows=[
            GridRowOut(category=category, bands=[body(GridBandOut, band) for band in bands])
            for category, bands in table.rows
        ],
    )


def _price_out(price: PriceExplanation) -> PriceOut:
    return body(
        PriceOut,
        price,
        price.quote,
        unit_price=money(price.price),
        discount_percent=f"{price.quote.discount_percent.normalize():f}",
        text=price.sentence_fr,
    )


def tariffs_out(found: HouseholdTariffs) -> TariffsOut:
    """The "Tarification" body."""
    return body(
        TariffsOut,
        found,
        school_year_label=found.school_year_fr,
        grids=[_table_out(t) for t in found.tables],
        prices=[_price_out(p) for p in found.prices],
    )
