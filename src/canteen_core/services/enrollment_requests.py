"""Enrollment requests: a family asks to enroll a child, staff accept or refuse.

``canteen.enrollment_requests`` on the facade. What a family may ask for is an **offer**: a
service of the catalog (``canteen.catalog``) at a site of the catalog. On acceptance, the new
enrollment takes its cut-off policies and late-change mode from an enrollment in the same
service at the same site (one of the school year asked for when there is one), or else from an
enrollment in the same service at any site; a service nobody is enrolled in yet is refused at
acceptance (staff enroll the child themselves, with the policies they choose).

* :meth:`EnrollmentRequestService.submit` (guardian, co-representative): refused in French,
  nothing stored, for an unknown child or one of another household, a service not offered at
  the site, a school year other than the current or the next one, an unknown tariff category,
  a pending request for the same child, service and year
  (:class:`~canteen_core.domain.errors.DuplicateRequestError`), or a child already enrolled then;
* :meth:`~EnrollmentRequestService.accept` (staff): the enrollment is made by the enrollment
  use case's own steps (:meth:`EnrollmentService._enroll_in`: child of the household, no
  overlap, category priced by the tariff book) in the same transaction as the decision;
* :meth:`~EnrollmentRequestService.refuse` (staff) with a reason the family reads.

Deciding or withdrawing a request no longer pending raises
:class:`~canteen_core.domain.errors.AlreadyDecidedError` (how and when it was decided).

Either decision e-mails the household's guardians (outbox, same transaction).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar_words import school_year_label
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.change_requests import RequestStatus
from canteen_core.domain.clock import FixedClock, paris_today
from canteen_core.domain.enrollment_requests import (
    EnrollmentApplication,
    accept,
    refuse,
    withdraw,
)
from canteen_core.domain.enrollments import Enrollment, grid_category
from canteen_core.domain.errors import (
    ConflictError,
    DuplicateRequestError,
    InvalidInputError,
    NotFoundError,
)
from canteen_core.domain.families import Household
from canteen_core.domain.periodicity import Periodicity
from canteen_core.domain.policy import Action
from canteen_core.domain.reservations import apply_periodicity_to_service_days
from canteen_core.ports.storage import Range
from canteen_core.services.billing._base import household_recipients
from canteen_core.services.billing.billed_days import ensure_days_not_billed
from canteen_core.services.change_requests import already_decided
from canteen_core.services.enrollments import EnrollmentRequest, EnrollmentService
from canteen_core.services.runner import ServiceBase, Transaction, school_year_of

__all__ = ["EnrollmentOffer", "EnrollmentRequestService"]

#: The e-mail telling the family the decision.
MAIL_KIND = "enrollment-request-decided"


@attrs.frozen(kw_only=True)
class EnrollmentOffer:
    """A service a family may ask for at a site (``label_fr``: "Restauration scolaire à
    École Ronde")."""

    service: Service
    site: Site

    @property
    def key(self) -> str:
        """``"<service id>@<site id>"``: how forms name the offer."""
        return f"{self.service.id}@{self.site.id}"

    @property
    def label_fr(self) -> str:
        """The service and the site, in French."""
        return f"{self.service.name} à {self.site.name}"


def _text(value: object, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError("ce champ est obligatoire", path=path)
    return value.strip()


def _weekdays(value: Iterable[int | str] | str | None, service: Service) -> frozenset[int] | None:
    """The weekdays a family asked for, each one a day ``service`` runs (``None``: none)."""
    if value is None:
        return None
    return service.check_runs_on(EnrollmentApplication.weekdays_of(value))


def _offer(tx: Transaction, service_id: object, site_id: object) -> EnrollmentOffer | None:
    """The catalog's service ``service_id`` at its site ``site_id`` (``None``: either is not in
    the catalog, or not an id)."""
    if not isinstance(service_id, str) or not isinstance(site_id, str):
        return None
    service = tx.uow.services.find(service_id)
    site = tx.uow.sites.find(site_id)
    if service is None or site is None:
        return None
    return EnrollmentOffer(service=service.service, site=site.site)


def _template(tx: Transaction, offer: EnrollmentOffer, school_year: int) -> Enrollment | None:
    """The enrollment whose policies a new one in ``offer`` takes: one in the service at the
    site (of ``school_year`` or later when there is one), else one in the service anywhere;
    ``None`` when nobody is enrolled in the service.

    Reads one row at a time through indexed filters, not the city's enrollments."""
    later = {"last_day": Range(low=date(school_year, 8, 1))}
    service_id = offer.service.id
    for where in (
        {"service_id": service_id, "site_id": offer.site.id, **later},
        {"service_id": service_id, "site_id": offer.site.id},
        {"service_id": service_id, **later},
        {"service_id": service_id},
    ):
        rows = tx.uow.enrollments.list(**where)
        try:
            found = next(rows, None)
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()  # release the cursor of the rows not read
        if found is not None:
            return found
    return None


class EnrollmentRequestService(ServiceBase):
    """Families ask for enrollments; staff accept (the enrollment is made) or refuse."""

    # -- families ---------------------------------------------------------------------------

    def offers(self, actor: Actor) -> tuple[EnrollmentOffer, ...]:
        """The services a family may ask for, by site (anyone logged in): every service of
        the catalog at every site of the catalog, by service then site id."""
        with self._ctx.use_case(actor, Action.VIEW_RESERVATIONS, read_only=True) as tx:
            tx.filtered()  # the commune's offers are no household's data
            services = sorted(tx.uow.services.list(), key=lambda entry: entry.id)
            sites = sorted(tx.uow.sites.list(), key=lambda entry: entry.id)
        return tuple(
            EnrollmentOffer(service=service.service, site=site.site)
            for service in services
            for site in sites
        )

    @property
    def school_years(self) -> tuple[int, int]:
        """The school years a family may ask for: the current one and the next."""
        current = school_year_of(paris_today(self._ctx.clock))
        return current, current + 1

    def submit(
        self,
        actor: Actor,
        household_id: str,
        child_id: str,
        *,
        service_id: str,
        site_id: str,
        school_year: int,
        tariff_category: str | None = None,
        note: str | None = None,
        weekdays: Iterable[int | str] | str | None = None,
    ) -> EnrollmentApplication:
        """Ask for ``child_id`` to be enrolled in ``service_id`` at ``site_id`` for
        ``school_year`` (its start year), optionally eating on ``weekdays`` (``"lun,jeu"``,
        numbers with Monday = 0), booked every week once accepted. See the module docstring
        for what is refused; weekdays on which the service does not run are refused too."""
        child_id = _text(child_id, "child_id")
        if tariff_category is not None:
            grid_category(tariff_category)
        if note is not None and not note.strip():
            note = None
        years = self.school_years
        if school_year not in years:
            raise InvalidInputError(
                f"une inscription se demande pour l'année scolaire {years[0]}-{years[0] + 1} "
                f"ou {years[1]}-{years[1] + 1}",
                path="school_year",
            )
        with self._ctx.use_case(actor, Action.REQUEST_ENROLLMENT, household_id=household_id) as tx:
            household = tx.uow.households.get(household_id)
            if not household.has_child(child_id):
                raise NotFoundError("cet enfant n'est pas un membre de votre foyer")
            offer = _offer(tx, service_id, site_id)
            if offer is None:
                raise InvalidInputError(
                    "cette prestation n'est pas proposée sur ce site", path="site_id"
                )
            self._check_new(tx, household, child_id, offer, school_year)
            days = _weekdays(weekdays, offer.service)
            application = EnrollmentApplication(
                id=tx.new_id(),
                household_id=household_id,
                child_id=child_id,
                service_id=service_id,
                service_name=offer.service.name,
                site_id=site_id,
                site_name=offer.site.name,
                school_year=school_year,
                tariff_category=tariff_category,
                note=note,
                requested_by=actor.user_id,
                requested_at=tx.now,
                weekdays=days,
            )
            tx.uow.enrollment_requests.add(application)
        return application

    def _check_new(
        self,
        tx: Transaction,
        household: Household,
        child_id: str,
        offer: EnrollmentOffer,
        school_year: int,
    ) -> None:
        """Refuse a second pending request, or a child already enrolled that school year."""
        name = household.child(child_id).first_name
        for other in tx.uow.enrollment_requests.list(
            household_id=household.id, child_id=child_id, status=RequestStatus.PENDING.value
        ):
            if other.service_id == offer.service.id and other.school_year == school_year:
                raise DuplicateRequestError(
                    f"Une demande d'inscription est déjà en cours pour {name} : "
                    f"{other.label_fr}, en attente d'instruction."
                )
        calendar = self._ctx.calendar(offer.site, offer.service, school_year)
        for enrollment in tx.uow.enrollments.list(
            household_id=household.id, child_id=child_id, service_id=offer.service.id
        ):
            if enrollment.start <= calendar.last_day and calendar.first_day <= enrollment.end:
                raise ConflictError(
                    f"{name} est déjà inscrit(e) à {offer.service.name} pour "
                    f"{school_year_label(school_year)}"
                )

    def of_household(self, actor: Actor, household_id: str) -> tuple[EnrollmentApplication, ...]:
        """The household's enrollment requests, newest first (pending and decided)."""
        with self._ctx.use_case(
            actor, Action.VIEW_HOUSEHOLD, household_id=household_id, read_only=True
        ) as tx:
            tx.uow.households.get(household_id)
            found = list(tx.uow.enrollment_requests.list(household_id=household_id))
        return tuple(sorted(found, key=lambda r: (r.requested_at, r.id), reverse=True))

    def withdraw(self, actor: Actor, request_id: str) -> EnrollmentApplication:
        """The family withdraws its pending request (nothing else changes)."""
        with self._ctx.use_case(actor, Action.REQUEST_ENROLLMENT) as tx:
            application = self._pending(tx, request_id)
            withdrawn = withdraw(application, actor=actor, now=tx.now)
            tx.uow.enrollment_requests.save(withdrawn)
        return withdrawn

    # -- staff ------------------------------------------------------------------------------

    def pending(self, actor: Actor) -> tuple[EnrollmentApplication, ...]:
        """Requests awaiting instruction, oldest first (staff)."""
        with self._ctx.use_case(actor, Action.DECIDE_ENROLLMENT_REQUEST, read_only=True) as tx:
            found = list(tx.uow.enrollment_requests.list(status=RequestStatus.PENDING.value))
        return tuple(sorted(found, key=lambda r: (r.requested_at, r.id)))

    def get(self, actor: Actor, request_id: str) -> EnrollmentApplication:
        """One request (a family only its own)."""
        with self._ctx.use_case(actor, Action.VIEW_HOUSEHOLD, read_only=True) as tx:
            application = tx.uow.enrollment_requests.get(request_id)
            tx.authorize(application.household_id)
        return application

    def accept(
        self, actor: Actor, request_id: str, *, note: str | None = None
    ) -> EnrollmentApplication:
        """Accept a pending request (staff): the enrollment is made, with every check of the
        enrollment use case, for the school year (from today when it has begun), with the
        offer's cut-off policies; the family is e-mailed."""
        with self._ctx.use_case(actor, Action.DECIDE_ENROLLMENT_REQUEST) as tx:
            application = self._pending(tx, request_id)
            offer = _offer(tx, application.service_id, application.site_id)
            if offer is None:
                raise ConflictError(
                    "cette prestation n'est plus proposée sur ce site : refusez la demande"
                )
            template = _template(tx, offer, application.school_year)
            if template is None:
                raise ConflictError(
                    f"personne n'est encore inscrit à {offer.service.name} : inscrivez l'enfant "
                    "depuis la gestion des inscriptions, avec ses délais de réservation"
                )
            calendar = self._ctx.calendar(offer.site, offer.service, application.school_year)
            today = paris_today(self._ctx.clock)
            if today > calendar.last_day:
                raise ConflictError("l'année scolaire de cette demande est terminée")
            (enrollment,) = EnrollmentService(self._ctx)._enroll_in(
                tx,
                [
                    EnrollmentRequest(
                        household_id=application.household_id,
                        child_id=application.child_id,
                        service=offer.service,
                        site=offer.site,
                        booking_policy=template.booking_policy,
                        cancellation_policy=template.cancellation_policy,
                        late_change=template.late_change,
                        tariff_category=application.tariff_category or "resident",
                        school_year=application.school_year,
                        start=max(calendar.first_day, today),
                    )
                ],
            )
            if application.weekdays:
                self._book_weekdays(tx, enrollment, application)
            decided = accept(
                application, enrollment_id=enrollment.id, actor=actor, now=tx.now, note=note
            )
            tx.uow.enrollment_requests.save(decided)
            self._tell_family(tx, decided)
        return decided

    def _book_weekdays(
        self, tx: Transaction, enrollment: Enrollment, application: EnrollmentApplication
    ) -> None:
        """Book the application's weekdays every week of the new ``enrollment`` (its service
        days only), in the acceptance's transaction, as the family that asked would book
        them then: days past their deadline follow the enrollment's late-change mode."""
        assert application.weekdays is not None
        household = tx.uow.households.get(enrollment.household_id)
        pattern = Periodicity(
            weekdays=application.weekdays, start=enrollment.start, end=enrollment.end
        )
        book = tx.uow.reservations.load(enrollment.id)
        booked, result = apply_periodicity_to_service_days(
            book,
            pattern,
            replace=False,
            enrollment=enrollment,
            household=household,
            actor=Actor.guardian(application.requested_by, application.household_id),
            clock=FixedClock(tx.now),
            pending=(),
            new_id=tx.new_id,
        )
        ensure_days_not_billed(
            tx.uow, self._ctx.deployment, {enrollment.household_id: list(result.changed)}
        )
        if booked.version != book.version:
            tx.uow.reservations.save_many([(booked, book.version)])
        if result.pending:
            tx.uow.change_requests.add_many(result.pending)
        tx.emit(result.event)

    def refuse(self, actor: Actor, request_id: str, *, reason: str) -> EnrollmentApplication:
        """Refuse a pending request (staff) with a ``reason`` the family reads (e-mailed)."""
        with self._ctx.use_case(actor, Action.DECIDE_ENROLLMENT_REQUEST) as tx:
            application = self._pending(tx, request_id)
            decided = refuse(application, reason=reason, actor=actor, now=tx.now)
            tx.uow.enrollment_requests.save(decided)
            self._tell_family(tx, decided)
        return decided

    def _pending(self, tx: Transaction, request_id: str) -> EnrollmentApplication:
        """The request ``request_id``, which the actor may act on and which is still pending
        (:class:`~canteen_core.domain.errors.AlreadyDecidedError` saying how and when it was
        decided otherwise)."""
        application = tx.uow.enrollment_requests.get(request_id)
        tx.authorize(application.household_id)
        if not application.is_pending:
            raise already_decided(
                application.status,
                application.decided_at,
                what="Cette demande d'inscription",
            )
        return application

    def _tell_family(self, tx: Transaction, decided: EnrollmentApplication) -> None:
        household = tx.uow.households.get(decided.household_id)
        notifier = self._ctx.notifier
        context = {
            "approved": decided.status is RequestStatus.APPROVED,
            "child_name": household.child(decided.child_id).display_name,
            "label": decided.label_fr,
            "reason": decided.reason,
            "portal_url": notifier.settings.portal_url,
        }
        seen: set[str] = set()
        for recipient in household_recipients(household):
            if recipient.address in seen:  # payer and co-representative may share one
                continue
            seen.add(recipient.address)
            tx.send(
                notifier.render(
                    MAIL_KIND, recipient, context, key=decided.id, household_id=decided.household_id
                )
            )
