"""Fixtures for the billing and payment service tests.

A canteen on each backend whose deployment names the payment providers (PayZen in TEST mode,
SEPA writing its files under ``tmp_path``, the counter), a tariff grid with the worked-example
brackets, and helpers writing reservations, attendance and justified absences straight through
the storage ports (what the reservation and attendance services store).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from canteen_adapters.payment.payzen import compute_signature
from canteen_core.config.deployment import (
    BillingMode,
    BillingSettings,
    CalendarSettings,
    CampaignSettings,
    Deployment,
    DocumentStoreSettings,
    PortalSettings,
    StorageSettings,
)
from canteen_core.domain.attendance import AbsenceJustification, AttendanceRecord, Presence
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.enrollments import Enrollment
from canteen_core.domain.families import FamilyQuotient
from canteen_core.domain.reservations import ReservationBook
from canteen_core.domain.tariffs import (
    BracketPricing,
    FlatPricing,
    SiblingDiscount,
    Surcharge,
    TariffCategory,
    TariffGrid,
)
from canteen_core.services import Canteen

from ._world import ADMIN, FINANCE, World, build_world
from .conftest import ISSUER, EventRecorder, _pg_storage, cheap_accounts

PAYZEN_KEY = "k3y-for-tests"
PAYZEN = {"site_id": "12345678", "mode": "TEST", "test_key": PAYZEN_KEY}
SEPA = {
    "creditor_name": "Régie de restauration scolaire de Ronde",
    "creditor_iban": "FR7630004000031234567890143",
    "creditor_id": "FR72ZZZ123456",
    "creditor_bic": "BNPAFRPP",
}
#: Monday 2 October 2023, 09:00 in Paris: September is over, billing day.
BILLING_DAY = datetime(2023, 10, 2, 7, 0, tzinfo=UTC)
FAMILY_IBAN = "FR1420041010050500013M02606"

#: The worked-example grid: 4 QF brackets 1.00 / 3.05 / 3.10 / 3.15, second child half price,
#: +1.00 for a meal taken without booking.
GRID = TariffGrid(
    id="rs-2023",
    service_id="rs",
    valid_from=date(2023, 8, 1),
    valid_until=date(2024, 7, 31),
    prices={
        TariffCategory.RESIDENT_CHILD: BracketPricing.from_thresholds(
            ["1.00", "3.05", "3.10", "3.15"], [500, 800, 1200]
        ),
        TariffCategory.PAI_BASKET: FlatPricing.of("1.50"),
    },
    sibling_discounts=(SiblingDiscount(from_rank=2, percent=Decimal(50)),),
    unbooked_surcharge=Surcharge.add_amount("1.00"),
)


def make_billing_canteen(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: FixedClock,
    recorder: EventRecorder,
    *,
    mode: BillingMode = BillingMode.POSTPAID,
    billing: BillingSettings | None = None,
    documents: DocumentStoreSettings | None = None,
    campaigns: CampaignSettings | None = None,
) -> Canteen:
    """A canteen on ``backend`` whose deployment configures PayZen, SEPA and the counter."""
    payment: dict[str, dict[str, Any]] = {
        "payzen": dict(PAYZEN),
        "payfip": {"numcli": "012345", "saisie": "T"},
        "sepa": {**SEPA, "output_dir": str(tmp_path / "sepa")},
        "manual": {"accepted_methods": ["cash", "cheque", "cesu"]},
    }
    if backend == "memory":
        storage = StorageSettings(url="memory://")
    elif backend == "sqlite":
        storage = StorageSettings(url=f"sqlite:///{tmp_path / 'billing.db'}")
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        storage = _pg_storage(dsn, request.getfixturevalue("_services_pg_schema"))
    deployment = Deployment(
        issuer=ISSUER,
        storage=storage,
        calendar=CalendarSettings(department="75"),
        portal=PortalSettings(url="https://famille.ronde.fr"),
        payment=payment,
        billing=billing or BillingSettings(mode=mode),
        documents=documents or DocumentStoreSettings(folder=str(tmp_path / "documents")),
        campaigns=campaigns or CampaignSettings(),
    )
    return Canteen.from_deployment(
        deployment, clock=clock, plugins=[recorder], account_settings=cheap_accounts()
    )


@pytest.fixture
def billing_canteen(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: FixedClock,
    recorder: EventRecorder,
) -> Iterator[Canteen]:
    """A canteen with payment providers, on each backend."""
    with make_billing_canteen(backend, request, tmp_path, clock, recorder) as built:
        yield built


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_backend(request: pytest.FixtureRequest) -> str:
    """A database several canteens (processes) can share: SQLite file, PostgreSQL."""
    return str(request.param)


@pytest.fixture
def any_billing_canteen(
    any_backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: FixedClock,
    recorder: EventRecorder,
) -> Iterator[Canteen]:
    """A canteen with payment providers on memory, SQLite and PostgreSQL (the subset)."""
    with make_billing_canteen(any_backend, request, tmp_path, clock, recorder) as built:
        yield built


@pytest.fixture
def memory_billing_canteen(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> Iterator[Canteen]:
    """The same, in memory only."""
    with make_billing_canteen("memory", request, tmp_path, clock, recorder) as built:
        yield built


def priced_world(canteen: Canteen) -> World:
    """The seed's world, the grid, and a QF of 612.50 for the CONCERTO household."""
    world = build_world(canteen)
    canteen.billing.save_tariff_grid(ADMIN, GRID)
    canteen.families.set_family_quotient(
        FINANCE, "concerto", FamilyQuotient(value="612.50", valid_from=date(2023, 9, 1))
    )
    return world


@pytest.fixture
def bworld(billing_canteen: Canteen) -> World:
    """:func:`priced_world` on each backend."""
    return priced_world(billing_canteen)


@pytest.fixture
def any_bworld(any_billing_canteen: Canteen) -> World:
    """:func:`priced_world` on memory, SQLite and PostgreSQL."""
    return priced_world(any_billing_canteen)


@pytest.fixture
def memory_bworld(memory_billing_canteen: Canteen) -> World:
    """:func:`priced_world` in memory."""
    return priced_world(memory_billing_canteen)


# -- writing what the reservation and attendance services store ---------------------------------


def book(
    canteen: Canteen,
    enrollment: Enrollment,
    days: Iterable[date],
    *,
    late: Iterable[date] = (),
    cancel: Iterable[date] = (),
    late_cancel: Iterable[date] = (),
) -> ReservationBook:
    """Book ``days`` (``late``: after the deadline), cancel ``cancel`` and ``late_cancel``."""
    with canteen.context.storage.unit_of_work() as uow:
        current = uow.reservations.load(enrollment.id)
        removed = set(cancel) | set(late_cancel)
        booked = (set(current.booked_days()) | set(days)) - removed
        updated = ReservationBook.from_days(
            enrollment.id,
            current.origin,
            booked,
            version=current.version + 1,
            late_booked=(set(current.late_booked_days()) | set(late)) & booked,
            late_cancelled=(set(current.late_cancelled_days()) | set(late_cancel)) - booked,
        )
        uow.reservations.save(updated, expected_version=current.version)
        uow.commit()
    return updated


def attend(canteen: Canteen, enrollment: Enrollment, presence: dict[date, Presence | str]) -> None:
    """Record attendance as staff would (one record per enrollment and day)."""
    with canteen.context.storage.unit_of_work() as uow:
        current = uow.reservations.load(enrollment.id)
        for day, seen in presence.items():
            uow.attendance.save(
                AttendanceRecord(
                    id=f"{enrollment.id}/{day.isoformat()}",
                    enrollment_id=enrollment.id,
                    child_id=enrollment.child_id,
                    household_id=enrollment.household_id,
                    site_id=enrollment.site.id,
                    day=day,
                    presence=seen,
                    booked=current.is_booked(day),
                    recorded_by="agent",
                    recorded_at=BILLING_DAY,
                )
            )
        uow.commit()


def justify(canteen: Canteen, enrollment: Enrollment, first: date, last: date) -> None:
    """Store a medical certificate covering ``first``..``last``."""
    with canteen.context.storage.unit_of_work() as uow:
        uow.absences.add(
            AbsenceJustification(
                id=f"cert-{enrollment.id}-{first.isoformat()}",
                enrollment_id=enrollment.id,
                child_id=enrollment.child_id,
                first_day=first,
                last_day=last,
                recorded_by="agent",
                recorded_at=BILLING_DAY,
            )
        )
        uow.commit()


def open_days(enrollment: Enrollment, start: date, end: date) -> list[date]:
    """The enrollment's service days in ``start``..``end``."""
    return list(enrollment.open_days(start, end))


def september(enrollment: Enrollment) -> list[date]:
    """Service days of September 2023."""
    return open_days(enrollment, date(2023, 9, 1), date(2023, 9, 30))


def ipn(form: dict[str, str], *, status: str = "CAPTURED", **changes: str) -> dict[str, str]:
    """The signed PayZen notification of a posted form (as PayZen would send it)."""
    fields = {k: v for k, v in form.items() if k.startswith("vads_")}
    fields.update(vads_trans_status=status, vads_auth_result="00", vads_trans_uuid="abc123")
    fields["signature"] = compute_signature(fields, PAYZEN_KEY, "HMAC-SHA-256")
    fields.update(changes)  # after signing: a tampered field
    return fields


def signed(fields: dict[str, str]) -> dict[str, str]:
    """``fields`` signed again (a genuine notification with those values)."""
    body = {k: v for k, v in fields.items() if k != "signature"}
    return {**body, "signature": compute_signature(body, PAYZEN_KEY, "HMAC-SHA-256")}


def later(clock: FixedClock, instant: datetime = BILLING_DAY) -> FixedClock:
    """Move the clock to ``instant``."""
    return clock.set(instant)


def plus_days(day: date, days: int) -> date:
    """``day`` + ``days``."""
    return day + timedelta(days=days)
