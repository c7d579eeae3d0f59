"""Enrollments: a child registered to a service at a site for a period, with its policies.

``canteen.enrollments`` on the facade. The service calendar of an enrollment is built by the
context from the deployment's holiday source (one per site zone, service weekdays and school
year, cached), so enrolling 30,000 children at the rentrée builds it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import attrs

from canteen_core.config.deployment import BilledDays
from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar import Period
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.clock import paris_today
from canteen_core.domain.deadlines import CutOffPolicy
from canteen_core.domain.enrollments import (
    Enrollment,
    HouseholdChildren,
    LateChangeMode,
    check_no_overlap,
    check_priced,
    enroll,
    grid_category,
)
from canteen_core.domain.errors import ConflictError, InvalidInputError
from canteen_core.domain.families import Household
from canteen_core.domain.policy import Action
from canteen_core.domain.reservations import drop_closed_days
from canteen_core.domain.tariffs import TariffGrid
from canteen_core.services.billing.billed_days import (
    BilledDaysCancelled,
    billed_days_cancelled,
    ensure_days_not_billed,
)
from canteen_core.services.catalog import (
    CatalogService,
    site_closures_for,
    stored_service,
    stored_site,
)
from canteen_core.services.runner import ServiceBase, Transaction, school_year_of
from canteen_core.services.school_years import ensure_years_open

# Below this many households in one call, their existing enrollments are read household by
# household; above it (the rentrée), those of each service of the batch in one query.
_PER_HOUSEHOLD_READS = 50

__all__ = ["EnrollmentRequest", "EnrollmentService"]


def _date_or_none(_: object, attribute: attrs.Attribute[date | None], value: object) -> None:
    if value is not None and (not isinstance(value, date) or hasattr(value, "hour")):
        raise InvalidInputError("une date (sans heure) est attendue", path=attribute.name)


@attrs.frozen(kw_only=True)
class EnrollmentRequest:
    """What :meth:`EnrollmentService.enroll_many` needs for one child.

    ``start`` / ``end`` default to the first and last class days of ``school_year`` (the
    school year of today when not given). ``cancellation_policy`` defaults to
    ``booking_policy``. ``service`` and ``site`` are catalog ids, or values added to the
    catalog when their id is not stored yet (see :mod:`canteen_core.services.catalog`).
    """

    household_id: str
    child_id: str
    service: Service | str
    site: Site | str
    booking_policy: CutOffPolicy
    cancellation_policy: CutOffPolicy | None = None
    late_change: LateChangeMode | str = LateChangeMode.REFUSE
    tariff_category: str = "resident"
    school_year: int | None = None
    start: date | None = attrs.field(default=None, validator=_date_or_none)
    end: date | None = attrs.field(default=None, validator=_date_or_none)
    id: str | None = None


class EnrollmentService(ServiceBase):
    """Enroll children (admin); everyone allowed to see a household sees its enrollments.

    Every enrollment made or changed here is checked against the others of the child
    (no two overlapping enrollments in one service) and the tariff book (its category is
    priced for its service over its period); see :mod:`canteen_core.domain.enrollments`.
    """

    @staticmethod
    def _existing(tx: Transaction, enrollments: Sequence[Enrollment]) -> list[Enrollment]:
        """The stored enrollments the new ``enrollments`` could collide with."""
        households = {e.household_id for e in enrollments}
        if len(households) <= _PER_HOUSEHOLD_READS:
            return [e for h in sorted(households) for e in tx.uow.enrollments.list(household_id=h)]
        services = {e.service.id for e in enrollments}
        return [e for s in sorted(services) for e in tx.uow.enrollments.list(service_id=s)]

    @staticmethod
    def _check(
        enrollments: Sequence[Enrollment], existing: Sequence[Enrollment], grids: list[TariffGrid]
    ) -> None:
        by_child: dict[tuple[str, str, str], list[Enrollment]] = {}
        for e in existing:
            by_child.setdefault((e.household_id, e.child_id, e.service.id), []).append(e)
        for enrollment in enrollments:
            check_priced(enrollment, grids)
            key = (enrollment.household_id, enrollment.child_id, enrollment.service.id)
            others = by_child.setdefault(key, [])
            check_no_overlap(enrollment, others)
            others.append(enrollment)  # two requests of one batch may collide too

    def _build(
        self,
        tx: Transaction,
        request: EnrollmentRequest,
        cache: dict[str, Household | HouseholdChildren],
    ) -> Enrollment:
        household = cache.get(request.household_id)
        if household is None:  # unknown: NotFoundError here, in the order of the requests
            household = tx.uow.households.get(request.household_id)
            cache[request.household_id] = household
        if request.school_year is not None:
            year = request.school_year
        else:
            year = school_year_of(request.start or paris_today(self._ctx.clock))
        site = stored_site(tx, request.site)
        service = stored_service(tx, request.service).service
        calendar = self._ctx.calendar(site.site, service, year)
        closures = site_closures_for(site, calendar)
        if closures:  # the site's own closures reach enrollments made after them
            calendar = self._ctx.intern_calendar(calendar.with_closures(*closures))
        return enroll(
            household,
            request.child_id,
            id=request.id or tx.new_id(),
            service=service,
            site=site.site,
            calendar=calendar,
            start=request.start or calendar.first_day,
            end=request.end or calendar.last_day,
            booking_policy=request.booking_policy,
            cancellation_policy=request.cancellation_policy,
            late_change=request.late_change,
            tariff_category=request.tariff_category,
        )

    def enroll(
        self,
        actor: Actor,
        household_id: str,
        child_id: str,
        *,
        service: Service | str,
        site: Site | str,
        booking_policy: CutOffPolicy,
        cancellation_policy: CutOffPolicy | None = None,
        late_change: LateChangeMode | str = LateChangeMode.REFUSE,
        tariff_category: str = "resident",
        school_year: int | None = None,
        start: date | None = None,
        end: date | None = None,
        enrollment_id: str | None = None,
    ) -> Enrollment:
        """Enroll a child of a household in ``service`` at ``site`` (admin).

        ``service`` and ``site`` are catalog ids (``NotFoundError`` when unknown) or values,
        stored in the catalog when new (``ConflictError`` when their id is stored with other
        details). The enrollment's calendar has the site's closures. The period defaults to
        the school year (of ``start``, or of today): rentrée to last class day.
        ``NotFoundError`` for an unknown household or a child not in it.
        """
        request = EnrollmentRequest(
            household_id=household_id,
            child_id=child_id,
            service=service,
            site=site,
            booking_policy=booking_policy,
            cancellation_policy=cancellation_policy,
            late_change=late_change,
            tariff_category=tariff_category,
            school_year=school_year,
            start=start,
            end=end,
            id=enrollment_id,
        )
        return self.enroll_many(actor, [request])[0]

    def enroll_many(
        self, actor: Actor, requests: Sequence[EnrollmentRequest]
    ) -> tuple[Enrollment, ...]:
        """Enroll many children in one transaction (the rentrée); all or nothing."""
        items = list(requests)
        for index, item in enumerate(items):
            if not isinstance(item, EnrollmentRequest):
                raise InvalidInputError("expected EnrollmentRequest items", path=f"[{index}]")
        with self._ctx.use_case(actor, Action.MANAGE_ENROLLMENTS) as tx:
            return self._enroll_in(tx, items)

    def _enroll_in(
        self, tx: Transaction, items: Sequence[EnrollmentRequest]
    ) -> tuple[Enrollment, ...]:
        """Make and store the enrollments of ``items`` inside the running use case ``tx``,
        with every check of :meth:`enroll_many` (child of the household, no overlap, priced
        category). For use cases that enroll as one of their steps (accepting a family's
        enrollment request); ``tx`` is already authorized."""
        # The children of every household in one batch read, without building households;
        # an unknown household still fails in _build, in order.
        found = tx.uow.households.child_ids(
            item.household_id for item in items if isinstance(item.household_id, str)
        )
        cache: dict[str, Household | HouseholdChildren] = {
            household_id: HouseholdChildren(id=household_id, child_ids=child_ids)
            for household_id, child_ids in found.items()
        }
        enrollments = tuple(self._build(tx, item, cache) for item in items)
        ensure_years_open(tx, enrollments)
        self._check(enrollments, self._existing(tx, enrollments), list(tx.uow.tariffs.list()))
        tx.uow.enrollments.add_many(enrollments)
        for enrollment in enrollments:
            tx.audit.change(
                f"enrollment:{enrollment.id}",
                "enrollment",
                None,
                _audited(enrollment),
                household_id=enrollment.household_id,
            )
        children = sorted({e.child_id for e in enrollments})
        tx.audit.describe(
            f"Inscription de l'enfant {children[0]}"
            if len(children) == 1
            else f"Inscription de {len(children)} enfants"
        )
        return enrollments

    def get(self, actor: Actor, enrollment_id: str) -> Enrollment:
        """One enrollment (a family only its own children's)."""
        with self._ctx.use_case(actor, Action.VIEW_HOUSEHOLD, read_only=True) as tx:
            enrollment = self._ctx.intern(tx.uow.enrollments.get(enrollment_id))
            tx.authorize(enrollment.household_id)
        return enrollment

    def of_household(self, actor: Actor, household_id: str) -> tuple[Enrollment, ...]:
        """The enrollments of a household's children."""
        with self._viewing(actor, Action.VIEW_HOUSEHOLD, household_id) as tx:
            tx.uow.households.get(household_id)
            return tuple(
                self._ctx.intern(e) for e in tx.uow.enrollments.list(household_id=household_id)
            )

    def list_enrollments(
        self, actor: Actor, *, site_id: str | None = None, service_id: str | None = None
    ) -> tuple[Enrollment, ...]:
        """Enrollments at a site and/or of a service (what the actor may see)."""
        where = {
            key: value
            for key, value in (("site_id", site_id), ("service_id", service_id))
            if value is not None
        }
        with self._ctx.use_case(actor, Action.VIEW_RESERVATIONS, read_only=True) as tx:
            if actor.is_family:
                found = tuple(
                    self._ctx.intern(e)
                    for household_id in sorted(actor.household_ids)
                    for e in tx.uow.enrollments.list(household_id=household_id, **where)
                )
            else:
                found = tuple(self._ctx.intern(e) for e in tx.uow.enrollments.list(**where))
            tx.authorize_many(e.household_id for e in found)
            tx.filtered()
            return found

    def services(self, actor: Actor) -> tuple[Service, ...]:
        """The services children are enrolled in (by id)."""
        found = {e.service.id: e.service for e in self.list_enrollments(actor)}
        return tuple(found[key] for key in sorted(found))

    def sites(self, actor: Actor) -> tuple[Site, ...]:
        """The sites children are enrolled at (by id)."""
        found = {e.site.id: e.site for e in self.list_enrollments(actor)}
        return tuple(found[key] for key in sorted(found))

    def end_on(self, actor: Actor, enrollment_id: str, end: date) -> Enrollment:
        """Move an enrollment's last day (a child leaving, or staying longer: admin).

        Booked days after the new end are cancelled in the same transaction (nobody is
        charged for them). ``end`` may not be before the enrollment's start. Days after it
        already invoiced are credited by the next billing run (:meth:`billed_after` says
        which, before); with ``[billing] billed_days = "refuse"``, cancelling a booked day
        of a month already invoiced, or a day an invoice charged, is refused and nothing
        changes.
        """
        with self._ctx.use_case(actor, Action.MANAGE_ENROLLMENTS) as tx:
            enrollment = tx.uow.enrollments.get(enrollment_id)
            ensure_years_open(tx, [enrollment])
            changed = attrs.evolve(enrollment, end=end)
            if end > enrollment.end:
                self._check([changed], self._existing(tx, [changed]), list(tx.uow.tariffs.list()))
            book = tx.uow.reservations.load(enrollment_id)
            new_book, dropped = drop_closed_days(book, changed)
            deployment = self._ctx.deployment
            ensure_days_not_billed(tx.uow, deployment, {enrollment.household_id: dropped})
            if deployment.billing.billed_days is BilledDays.REFUSE and end < enrollment.end:
                # A day after ``end`` an invoice charged without a booking is refused too.
                after = enrollment.open_days(end + timedelta(days=1))
                billed = billed_days_cancelled(tx.uow, [(enrollment, after)])
                ensure_days_not_billed(tx.uow, deployment, billed.by_household())
            if new_book.version != book.version:
                tx.uow.reservations.save(new_book, expected_version=book.version)
            tx.uow.enrollments.save(changed)
            tx.audit.change(
                f"enrollment:{enrollment.id}",
                "end",
                enrollment.end,
                end,
                household_id=enrollment.household_id,
            )
            tx.audit.describe(f"Fin de l'inscription {enrollment.id} au {end}")
        return self._ctx.intern(changed)

    def billed_after(self, actor: Actor, enrollment_id: str, end: date) -> BilledDaysCancelled:
        """The days already invoiced that :meth:`end_on` with ``end`` would cancel (admin;
        nothing stored): the service days after ``end`` an invoice charged and no credit note
        credited yet, which the next billing run credits. Empty when ``end`` is not earlier
        than the enrollment's last day."""
        with self._ctx.use_case(actor, Action.MANAGE_ENROLLMENTS, read_only=True) as tx:
            enrollment = tx.uow.enrollments.get(enrollment_id)
            tx.authorize(enrollment.household_id)
            after = enrollment.open_days(end + timedelta(days=1)) if end < enrollment.end else ()
            return billed_days_cancelled(tx.uow, [(enrollment, after)])

    def amend(
        self,
        actor: Actor,
        enrollment_id: str,
        *,
        tariff_category: str | None = None,
        booking_policy: CutOffPolicy | None = None,
        cancellation_policy: CutOffPolicy | None = None,
        late_change: LateChangeMode | str | None = None,
    ) -> Enrollment:
        """Change an enrollment's tariff category, cut-off policies or late-change mode
        (admin); what is not given is kept. The new category must be priced by the tariff
        book over the enrollment's period. Days already invoiced keep the category they were
        invoiced in, régularisation included (a late-eaten day of a billed month too); the
        next invoices use the new category. A category that was wrong from the start is
        corrected on past invoices by a credit note (``billing.issue_credit_note``)."""
        if tariff_category is not None:
            grid_category(tariff_category)
        with self._ctx.use_case(actor, Action.MANAGE_ENROLLMENTS) as tx:
            enrollment = tx.uow.enrollments.get(enrollment_id)
            ensure_years_open(tx, [enrollment])
            changes: dict[str, Any] = {}
            if tariff_category is not None:
                changes["tariff_category"] = tariff_category
            if booking_policy is not None:
                changes["booking_policy"] = booking_policy
            if cancellation_policy is not None:
                changes["cancellation_policy"] = cancellation_policy
            if late_change is not None:
                changes["late_change"] = late_change
            if not changes:
                raise InvalidInputError("rien à modifier dans l'inscription", path="changes")
            changed = attrs.evolve(enrollment, **changes)
            if tariff_category is not None:
                check_priced(changed, tx.uow.tariffs.list())
            tx.uow.enrollments.save(changed)
            tx.audit.changes_of(
                f"enrollment:{enrollment.id}",
                enrollment,
                changed,
                sorted(changes),
                household_id=enrollment.household_id,
            )
            tx.audit.describe(f"Modification de l'inscription {enrollment.id}")
        return self._ctx.intern(changed)

    def close_site(self, actor: Actor, site_id: str, period: Period) -> dict[str, tuple[date, ...]]:
        """Close a site over ``period`` (admin): :meth:`CatalogService.close_site
        <canteen_core.services.catalog.CatalogService.close_site>`, kept here for callers of
        the enrollments namespace."""
        return CatalogService(self._ctx).close_site(actor, site_id, period)

    def remove(self, actor: Actor, enrollment_id: str) -> None:
        """Delete an enrollment without reservations (admin); ``ConflictError`` otherwise."""
        with self._ctx.use_case(actor, Action.MANAGE_ENROLLMENTS) as tx:
            if len(tx.uow.reservations.load(enrollment_id)):
                raise ConflictError(
                    f"l'inscription {enrollment_id} a des réservations : annulez-les d'abord"
                )
            before = tx.uow.enrollments.get(enrollment_id)
            tx.uow.enrollments.remove(enrollment_id)
            tx.audit.change(
                f"enrollment:{enrollment_id}",
                "enrollment",
                _audited(before),
                None,
                household_id=before.household_id,
            )
            tx.audit.describe(f"Suppression de l'inscription {enrollment_id}")


def _audited(enrollment: Enrollment) -> dict[str, object]:
    """What the audit trail keeps of an enrollment created or removed."""
    return {
        "child_id": enrollment.child_id,
        "service_id": enrollment.service.id,
        "site_id": enrollment.site.id,
        "start": enrollment.start.isoformat(),
        "end": enrollment.end.isoformat(),
        "tariff_category": enrollment.tariff_category,
    }
