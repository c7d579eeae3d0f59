"""The JSON bodies of the enrollment-request and tariff routes (attrs classes, like
:mod:`canteen_adapters.web.schemas`); :mod:`.convert_enrollment` builds them.

Amounts are decimal strings in euros (``"3.10"``); texts meant for display are French and
ready to show.
"""

from __future__ import annotations

from datetime import date, datetime

import attrs

__all__ = [
    "EnrollmentRequestBody",
    "EnrollmentRequestOut",
    "GridBandOut",
    "GridRowOut",
    "GridTableOut",
    "OfferOut",
    "PriceOut",
    "TariffsOut",
]


@attrs.frozen(kw_only=True)
class EnrollmentRequestBody:
    """ "Inscription à la restauration scolaire": the child, the service at a site, the school
    year (its start year: 2023 for 2023-2024), optionally a tariff category (``"pai"``...), a
    note for the service and the weekdays the child eats (``mon``..``sun``, days the service
    runs), booked every week once the request is accepted."""

    child_id: str
    service_id: str
    site_id: str
    school_year: int
    tariff_category: str | None = None
    note: str | None = None
    weekdays: list[str] | None = None


@attrs.frozen(kw_only=True)
class EnrollmentRequestOut:
    """An enrollment request and its state (``status_label``: "Refusée : motif"...)."""

    id: str
    household_id: str
    child_id: str
    service_id: str
    site_id: str
    school_year: int
    label: str
    tariff_category: str | None
    note: str | None
    status: str
    status_label: str
    requested_at: datetime
    decided_at: datetime | None
    reason: str | None
    enrollment_id: str | None
    #: The weekdays the child eats (``mon``..``sun``), booked on acceptance; ``null``: none.
    weekdays: list[str] | None = None
    #: The same in French ("lundi, mardi et jeudi").
    weekdays_label: str | None = None


@attrs.frozen(kw_only=True)
class OfferOut:
    """A service a family may ask for at a site."""

    service_id: str
    service_name: str
    site_id: str
    site_name: str
    label: str


@attrs.frozen(kw_only=True)
class GridBandOut:
    """One price of a grid row (``bounds``: "QF de 700 € à moins de 1 000 €")."""

    bounds: str
    price: str


@attrs.frozen(kw_only=True)
class GridRowOut:
    """The prices of one category ("enfant résident")."""

    category: str
    bands: list[GridBandOut]


@attrs.frozen(kw_only=True)
class GridTableOut:
    """A tariff grid in force during the school year."""

    grid_id: str
    service_id: str
    service_name: str
    valid_from: date
    valid_until: date | None
    period: str
    rows: list[GridRowOut]
    rules: list[str]


@attrs.frozen(kw_only=True)
class PriceOut:
    """A child's price per meal and why ("Votre tarif : 3,10 € par repas, car ...")."""

    child_id: str
    child_name: str
    enrollment_id: str
    service_name: str
    day: date
    unit_price: str
    category: str
    sibling_rank: int
    discount_percent: str
    reasons: list[str]
    text: str


@attrs.frozen(kw_only=True)
class TariffsOut:
    """ "Tarification": the grids of the school year and the household's prices."""

    household_id: str
    school_year: int
    school_year_label: str
    day: date
    grids: list[GridTableOut]
    prices: list[PriceOut]
    missing: list[str]
