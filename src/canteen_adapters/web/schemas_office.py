"""The JSON bodies of the HTTP API's back office (``/api/v1/staff/...``): roll call, closures,
headcounts, billing and reminder runs, as attrs classes (Litestar derives the OpenAPI schemas).
The conventions are those of :mod:`.schemas`."""

from __future__ import annotations

from datetime import date, time

import attrs

# -- requests ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class StayBody:
    """A child's arrival and departure (Europe/Paris wall clock)."""

    arrival: time
    departure: time


@attrs.frozen(kw_only=True)
class RollCallBody:
    """A roll call: enrollment id -> ``present`` or ``absent``; ``stays``: enrollment id ->
    arrival and departure of a present child (``"16:30:00"``), where the activity's unit needs
    them (evening care by the half-hour)."""

    presences: dict[str, str]
    stays: dict[str, StayBody] | None = None


@attrs.frozen(kw_only=True)
class ClosureBody:
    """Close a site (strike, works) from ``first_day`` to ``last_day``. ``credit_billed``
    confirms a closure over days already invoiced (the next billing run credits them):
    without it such a closure is refused (422, its ``detail`` says how many meals)."""

    name: str
    first_day: date
    last_day: date
    credit_billed: bool = False


@attrs.frozen(kw_only=True)
class BillingRunBody:
    """Bill a month (``"2023-09"``) in the deployment's mode (post-paid or prepaid)."""

    period: str


@attrs.frozen(kw_only=True)
class RemindersBody:
    """Send the reminders due on ``today`` (default: today in Europe/Paris)."""

    today: date | None = None


# -- responses -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RollCallEntryOut:
    """A child expected (or recorded) at a site on a day: ``child_name`` ("Alban CONCERTO")
    and ``household_name`` (the payer, "CONCERTO Maman") are what staff read."""

    enrollment_id: str
    household_id: str
    child_id: str
    child_name: str
    household_name: str
    booked: bool
    presence: str | None
    arrival: time | None = None
    departure: time | None = None


@attrs.frozen(kw_only=True)
class RollCallOut:
    """The roll call of a site and day."""

    site_id: str
    day: date
    entries: list[RollCallEntryOut]


@attrs.frozen(kw_only=True)
class HeadcountOut:
    """Meals to cook on a day at a site, by diet, and PAI baskets."""

    site_id: str
    day: date
    meals: dict[str, int]
    pai_baskets: int
    total: int


@attrs.frozen(kw_only=True)
class BilledDaysOut:
    """The days already invoiced that a closure cancels, which the next billing run credits
    (a credit note on each invoice): how many, the households, the invoice numbers, the
    months (``"2023-09"``) and ``summary``, the French line to show (``""`` when none)."""

    count: int
    households: list[str]
    invoices: list[str]
    months: list[str]
    summary: str


@attrs.frozen(kw_only=True)
class ClosureOut:
    """Bookings cancelled by a closure, per enrollment; ``billed``: the days already invoiced
    it cancels, credited by the next billing run."""

    cancelled: dict[str, list[date]]
    billed: BilledDaysOut


@attrs.frozen(kw_only=True)
class UnbilledOut:
    """A household a billing run could not bill, with why: fix it and run the month again,
    only it is billed then."""

    household_id: str
    reason: str


@attrs.frozen(kw_only=True)
class RegularisationNoteOut:
    """A régularisation credit note a billing run issued on an earlier invoice (days billed
    and no longer due)."""

    id: str
    number: str
    household_id: str
    invoice_id: str
    total: str


@attrs.frozen(kw_only=True)
class BillingRunOut:
    """What a billing run did: the invoices issued, then delivered (``emailed`` to paperless
    households, ``printed`` in the batch at ``print_batch_url``; ``without_address``: printed
    households with no postal address to fix before posting); ``skipped``: households it
    could not bill and why; ``credit_notes`` (``credited`` in all): the régularisation of
    earlier months."""

    period_start: date
    period_end: date
    issued: int
    total: str
    already_billed: int
    conflicts: int
    without_charges: int
    emailed: int = 0
    printed: int = 0
    without_address: list[str] = attrs.field(factory=list)
    print_batch_url: str | None = None
    skipped: list[UnbilledOut] = attrs.field(factory=list)
    credit_notes: list[RegularisationNoteOut] = attrs.field(factory=list)
    credited: str = "0.00"


@attrs.frozen(kw_only=True)
class RemindersOut:
    """What a reminders run sent."""

    reminders: int
    households: int
    messages: int
