"""Enrollment rules held by the service, not the CLI (issue 14, items 1 and 2): one
enrollment per child, service and day; a tariff category the tariff book prices."""

from __future__ import annotations

from datetime import date, datetime, time

import attrs
import pytest

from canteen_core.config.serialization import structure, unstructure
from canteen_core.domain.calendar import ServiceCalendar
from canteen_core.domain.deadlines import CutOffPolicy, Lang, WorkingDaysBefore, wall_clock
from canteen_core.domain.enrollments import LateChangeMode
from canteen_core.domain.errors import ConflictError, InvalidInputError
from canteen_core.domain.tariffs import FlatPricing, TariffCategory, TariffGrid
from canteen_core.services import Canteen
from canteen_core.services.enrollments import EnrollmentRequest

from ._world import ADMIN, SERVICE, SITE, WEEKLY, World

GRID = TariffGrid(
    id="rs-2023",
    service_id="rs",
    valid_from=date(2023, 8, 1),
    valid_until=date(2024, 7, 31),
    prices={TariffCategory.RESIDENT_CHILD: FlatPricing.of("3.35")},
)


def enroll(canteen: Canteen, child: str = "alban", **changes: object) -> object:
    values: dict[str, object] = {
        "service": SERVICE,
        "site": SITE,
        "booking_policy": WEEKLY,
        "school_year": 2023,
    }
    values |= changes
    return canteen.enrollments.enroll(ADMIN, "concerto", child, **values)  # type: ignore[arg-type]


def test_the_same_child_enrolled_twice_over_overlapping_days_is_refused(any_world: World) -> None:
    canteen = any_world.canteen
    before = canteen.enrollments.of_household(ADMIN, "concerto")
    with pytest.raises(ConflictError, match="l'enfant alban est déjà inscrit au service"):
        enroll(canteen)
    with pytest.raises(ConflictError, match="inscription e-alban"):
        enroll(canteen, start=date(2024, 6, 1), end=date(2024, 6, 30))
    assert canteen.enrollments.of_household(ADMIN, "concerto") == before
    # Another service, or days after the first enrollment ends, are fine.
    canteen.enrollments.end_on(ADMIN, "e-alban", date(2024, 3, 31))
    later = enroll(canteen, start=date(2024, 4, 2), end=date(2024, 7, 5), enrollment_id="e-2")
    assert later is not None
    # Moving the first end past the second start would overlap again.
    with pytest.raises(ConflictError, match="inscription e-2"):
        canteen.enrollments.end_on(ADMIN, "e-alban", date(2024, 4, 30))
    # An end that is not a date (a datetime, a text) is refused before anything is read.
    for bad in (datetime(2024, 4, 30, 12, 0), "2024-04-30"):
        for call in (canteen.enrollments.end_on, canteen.enrollments.billed_after):
            with pytest.raises(InvalidInputError) as refused:
                call(ADMIN, "e-alban", bad)  # type: ignore[arg-type]
            assert refused.value.path == "end"


def test_two_requests_of_one_batch_may_not_overlap(world: World) -> None:
    canteen = world.canteen
    canteen.enrollments.remove(ADMIN, "e-alban")
    request = EnrollmentRequest(
        household_id="concerto",
        child_id="alban",
        service=SERVICE,
        site=SITE,
        booking_policy=WEEKLY,
        school_year=2023,
    )
    with pytest.raises(ConflictError, match="déjà inscrit"):
        canteen.enrollments.enroll_many(ADMIN, [request, request])
    assert [e.id for e in canteen.enrollments.of_household(ADMIN, "concerto")] == ["e-zoe"]


def test_an_unknown_or_unpriced_category_is_refused_at_enrollment(any_world: World) -> None:
    canteen = any_world.canteen
    canteen.enrollments.remove(ADMIN, "e-alban")
    with pytest.raises(InvalidInputError, match="catégorie tarifaire inconnue « vip »"):
        enroll(canteen, tariff_category="vip")
    canteen.billing.save_tariff_grid(ADMIN, GRID)
    with pytest.raises(InvalidInputError, match="pas de prix pour la catégorie « adult »"):
        enroll(canteen, tariff_category="adult")
    assert [e.id for e in canteen.enrollments.of_household(ADMIN, "concerto")] == ["e-zoe"]
    # A period no grid covers yet is accepted: billing reports the missing grid.
    assert enroll(canteen, tariff_category="adult", school_year=2025) is not None


def test_amend_changes_category_and_modes_within_the_rules(world: World) -> None:
    canteen = world.canteen
    canteen.billing.save_tariff_grid(ADMIN, GRID)
    with pytest.raises(InvalidInputError, match="pas de prix"):
        canteen.enrollments.amend(ADMIN, "e-alban", tariff_category="non_resident")
    with pytest.raises(InvalidInputError, match="rien à modifier"):
        canteen.enrollments.amend(ADMIN, "e-alban")
    changed = canteen.enrollments.amend(
        ADMIN, "e-alban", tariff_category="resident_child", late_change="surcharge"
    )
    assert changed.tariff_category == "resident_child"
    assert changed.late_change is LateChangeMode.SURCHARGE
    assert canteen.enrollments.get(ADMIN, "e-alban") == changed


@attrs.frozen(kw_only=True)
class NoonTheDayBefore(CutOffPolicy):
    """A portal's own policy: noon the calendar day before."""

    at: time = time(12)

    def deadline(self, day: date, calendar: ServiceCalendar) -> datetime:
        return wall_clock(date.fromordinal(day.toordinal() - 1), self.at)

    def describe(self, lang: Lang = "fr") -> str:
        return "la veille à midi" if lang == "fr" else "noon the day before"


def test_a_portal_policy_and_working_days_are_stored_and_read_back(world: World) -> None:
    # Issue 14, item 14: on SQLite this was a raw cattrs KeyError.
    canteen = world.canteen
    canteen.enrollments.remove(ADMIN, "e-alban")
    canteen.enrollments.remove(ADMIN, "e-zoe")
    enroll(canteen, booking_policy=NoonTheDayBefore(), enrollment_id="e-portal")
    enroll(
        canteen,
        "zoe",
        booking_policy=WorkingDaysBefore(days=2, at=time(10)),
        enrollment_id="e-working",
    )
    assert canteen.enrollments.get(ADMIN, "e-portal").booking_policy == NoonTheDayBefore()
    assert canteen.enrollments.get(ADMIN, "e-working").cancellation_policy == WorkingDaysBefore(
        days=2, at=time(10)
    )


def test_an_unknown_policy_kind_is_a_clear_invalid_input() -> None:
    data = unstructure(NoonTheDayBefore(), CutOffPolicy)
    assert data == {"type": "NoonTheDayBefore", "at": "12:00:00"}
    assert structure(data, CutOffPolicy) == NoonTheDayBefore()
    with pytest.raises(InvalidInputError, match="type de date limite inconnu « Vanished »"):
        structure({"type": "Vanished", "at": "12:00:00"}, CutOffPolicy)
