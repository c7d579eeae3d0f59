"""Documents on request ("Édition de documents"): what a family's certificates are made of.

``canteen.documents`` (:class:`DocumentService`) gives the data of the documents a family prints
from the portal, each computed when asked and nothing stored: the household's ledger account (the
yearly payment certificate is computed from it), the attendance certificate of a period, and the
list of documents on offer with their dates. The PDFs are drawn by the documents adapter
(:mod:`canteen_adapters.documents`), which the core does not import.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.attendance import Presence
from canteen_core.domain.clock import paris_date, paris_today
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.ledger import HouseholdAccount
from canteen_core.domain.policy import Action
from canteen_core.ports.storage import Range
from canteen_core.services.billing import household_account
from canteen_core.services.payments._base import _a_date
from canteen_core.services.runner import ServiceBase

__all__ = [
    "ATTENDANCE_CERTIFICATE",
    "MAX_CERTIFICATE_DAYS",
    "PAYMENT_CERTIFICATE",
    "STATEMENT",
    "AttendanceCertificate",
    "AttendanceLine",
    "DocumentService",
    "OfferedDocument",
]

#: Kinds of documents on request.
PAYMENT_CERTIFICATE = "payment-certificate"
ATTENDANCE_CERTIFICATE = "attendance-certificate"
STATEMENT = "statement"
#: An attendance certificate covers at most this many days (two school years).
MAX_CERTIFICATE_DAYS = 731


@attrs.frozen(kw_only=True)
class AttendanceLine:
    """The days one child was seen at one service and site."""

    child_id: str
    child_name: str
    birth_date: date | None
    service_name: str
    site_name: str
    days: tuple[date, ...]

    @property
    def count(self) -> int:
        """Number of days present."""
        return len(self.days)


@attrs.frozen(kw_only=True)
class AttendanceCertificate:
    """Attendance of a household's children over ``start``..``end`` (roll calls marked
    present), issued on ``issued_on``."""

    household_id: str
    payer_name: str
    start: date
    end: date
    issued_on: date
    lines: tuple[AttendanceLine, ...]

    @property
    def total_days(self) -> int:
        """Days present, all children together."""
        return sum(line.count for line in self.lines)


@attrs.frozen(kw_only=True)
class OfferedDocument:
    """A document the family may print: its kind, French title, what it covers, and the date
    it would bear (generated when asked, so today's)."""

    kind: str
    title: str
    dated: date
    year: int | None = None
    start: date | None = None
    end: date | None = None


def _school_year_start(today: date) -> date:
    """1 September of the school year ``today`` is in."""
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)


class DocumentService(ServiceBase):
    """``canteen.documents``: the data of the documents a family asks for."""

    def household_account(self, actor: Actor, household_id: str) -> HouseholdAccount:
        """The household's ledger account: invoices, credit notes, payments, refunds and their
        allocations, as of today in Paris: a direct debit still to be collected is scheduled,
        not received (``view_invoices``: a family only its own). The yearly payment
        certificate is computed from it."""
        with self._viewing(actor, Action.VIEW_INVOICES, household_id) as tx:
            tx.uow.households.get(household_id)
            return household_account(tx.uow, household_id, as_of=paris_date(tx.now))

    def attendance_certificate(
        self, actor: Actor, household_id: str, start: date, end: date
    ) -> AttendanceCertificate:
        """The children's days of presence from ``start`` to ``end`` (inclusive, at most
        :data:`MAX_CERTIFICATE_DAYS` days, not after today), per child, service and site
        (``view_reservations``: a family only its own)."""
        first, last = _a_date(start, "start"), _a_date(end, "end")
        if last < first:
            raise InvalidInputError("la période se termine avant de commencer", path="end")
        if (last - first).days >= MAX_CERTIFICATE_DAYS:
            raise InvalidInputError(
                f"une attestation couvre au plus {MAX_CERTIFICATE_DAYS} jours", path="end"
            )
        with self._viewing(actor, Action.VIEW_RESERVATIONS, household_id) as tx:
            uow = tx.uow
            household = uow.households.get(household_id)
            today = paris_date(tx.now)
            if first > today:
                raise InvalidInputError(
                    "la période commence après aujourd'hui : aucune présence à attester",
                    path="start",
                )
            last = min(last, today)
            enrollments = {e.id: e for e in uow.enrollments.list(household_id=household_id)}
            days: dict[str, list[date]] = defaultdict(list)
            for record in uow.attendance.list(household_id=household_id, day=Range(first, last)):
                if record.presence is Presence.PRESENT:
                    days[record.enrollment_id].append(record.day)
        children = {child.id: child for child in household.children}
        lines = []
        for enrollment_id, seen in days.items():
            enrollment = enrollments.get(enrollment_id)
            if enrollment is None:
                continue
            child = children.get(enrollment.child_id)
            lines.append(
                AttendanceLine(
                    child_id=enrollment.child_id,
                    child_name=child.display_name if child else enrollment.child_id,
                    birth_date=child.birth_date if child else None,
                    service_name=enrollment.service.name,
                    site_name=enrollment.site.name,
                    days=tuple(sorted(seen)),
                )
            )
        lines.sort(key=lambda line: (line.child_name, line.service_name, line.site_name))
        return AttendanceCertificate(
            household_id=household_id,
            payer_name=household.payer.display_name,
            start=first,
            end=last,
            issued_on=today,
            lines=tuple(lines),
        )

    def documents_on_request(self, actor: Actor, household_id: str) -> tuple[OfferedDocument, ...]:
        """The documents the family may print, each dated today: the account statement, the
        attendance certificate of the current school year (another period may be asked), and
        a payment certificate for this year and each earlier year with a payment."""
        account = self.household_account(actor, household_id)
        today = paris_today(self._ctx.clock)
        years = {p.received_on.year for p in account.payments if not p.is_rejected}
        years.add(today.year)
        offered = [
            OfferedDocument(kind=STATEMENT, title="Relevé de compte du foyer", dated=today),
            OfferedDocument(
                kind=ATTENDANCE_CERTIFICATE,
                title="Attestation de présence",
                dated=today,
                start=_school_year_start(today),
                end=today,
            ),
        ]
        offered.extend(
            OfferedDocument(
                kind=PAYMENT_CERTIFICATE,
                title=f"Attestation de paiement {year}",
                dated=today,
                year=year,
            )
            for year in sorted((y for y in years if y <= today.year), reverse=True)
        )
        return tuple(offered)
