"""Documents on request ("Édition de documents"): what a family's certificates are made of.

``canteen.documents`` (:class:`DocumentService`) gives the data of the documents a family prints
from the portal, each computed when asked and nothing stored: the household's ledger account (the
yearly payment certificate is computed from it), the attendance certificate of a period (the
meals billed and the presences at the roll calls taken), and the list of documents on offer with
their dates. The PDFs are drawn by the documents adapter
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
from canteen_core.services.billing.billed_days import net_billed_days
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


def _count_fr(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count < 2 else plural}"


@attrs.frozen(kw_only=True)
class AttendanceLine:
    """One child at one service and site over the certificate's period: the days billed,
    the days a roll call was taken, and the days it found the child present.

    ``billed_days``: days on the household's invoices for this child and service (net of
    credit notes that cancel days), the meals a family paid for; ``roll_call_days``: days
    staff recorded the child at the roll call (present or absent); ``days``: those of them
    the child was present. ``meal`` says what a billed day is: a meal (lunch, a day with its
    meal) or a day of another activity.
    """

    child_id: str
    child_name: str
    birth_date: date | None
    service_name: str
    site_name: str
    days: tuple[date, ...]
    billed_days: tuple[date, ...] = ()
    roll_call_days: tuple[date, ...] = ()
    meal: bool = True

    @property
    def count(self) -> int:
        """Number of days present at the roll call."""
        return len(self.days)

    @property
    def billed(self) -> int:
        """Number of days (meals) billed."""
        return len(self.billed_days)

    @property
    def billed_fr(self) -> str:
        """``"4 repas"``, ``"1 jour"``, ``"3 jours"``: what was billed, in French."""
        if self.meal:
            return f"{self.billed} repas"
        return _count_fr(self.billed, "jour", "jours")

    @property
    def presence_fr(self) -> str:
        """``"3 jours sur 4 appels"``; ``"pas d'appel"`` when no roll call was taken (then
        nothing is said about presence, rather than "0 jour")."""
        if not self.roll_call_days:
            return "pas d'appel"
        calls = _count_fr(len(self.roll_call_days), "appel", "appels")
        return f"{_count_fr(self.count, 'jour', 'jours')} sur {calls}"


@attrs.frozen(kw_only=True)
class AttendanceCertificate:
    """What a household's children were billed and seen at over ``start``..``end``, issued
    on ``issued_on`` (see :meth:`DocumentService.attendance_certificate` for the rule)."""

    household_id: str
    payer_name: str
    start: date
    end: date
    issued_on: date
    lines: tuple[AttendanceLine, ...]

    @property
    def total_days(self) -> int:
        """Days present at the roll call, all children together."""
        return sum(line.count for line in self.lines)

    @property
    def total_billed(self) -> int:
        """Days (meals) billed, all children and services together."""
        return sum(line.billed for line in self.lines)

    @property
    def has_roll_call(self) -> bool:
        """Whether any roll call recorded one of the children over the period."""
        return any(line.roll_call_days for line in self.lines)


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
        """The children's attendance certificate from ``start`` to ``end`` (inclusive, at
        most :data:`MAX_CERTIFICATE_DAYS` days, not after today), one line per child,
        service and site (``view_reservations``: a family only its own).

        Families hand it to an employer, a works council, the CAF or an aid body as proof of
        what the canteen served and charged, so it states two facts, each for what it is:

        * **the days billed** (``billed_days``): the days of the period on the household's
          invoices for the child and the service (late pick-up fees aside), less the days a
          credit note cancels. That is what the family paid for, whether or not a roll call
          was taken (many communes bill the booking itself, prepaid or when nobody records
          attendance); a booked day of unjustified absence is billed, hence counted. A
          credit note of an amount names no day and changes no count.
        * **the presences at the roll call** (``days``), only where a roll call was taken
          (``roll_call_days``: the child recorded present or absent). Without any, the
          certificate says there was no roll call instead of "0 jour".

        An enrollment appears when it has a billed day or a roll call in the period."""
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
            called: dict[str, list[date]] = defaultdict(list)
            present: dict[str, list[date]] = defaultdict(list)
            for record in uow.attendance.list(household_id=household_id, day=Range(first, last)):
                called[record.enrollment_id].append(record.day)
                if record.presence is Presence.PRESENT:
                    present[record.enrollment_id].append(record.day)
            billed = net_billed_days(
                uow.invoices.list(household_id=household_id),
                uow.credit_notes.list(household_id=household_id),
                first,
                last,
            )
        children = {child.id: child for child in household.children}
        lines = []
        for enrollment in enrollments.values():
            served = enrollment.calendar.open_weekdays
            charged = tuple(
                sorted(
                    day
                    for day in billed.get((enrollment.child_id, enrollment.service.id), ())
                    if enrollment.covers(day) and day.weekday() in served
                )
            )
            if not charged and enrollment.id not in called:
                continue
            child = children.get(enrollment.child_id)
            lines.append(
                AttendanceLine(
                    child_id=enrollment.child_id,
                    child_name=child.display_name if child else enrollment.child_id,
                    birth_date=child.birth_date if child else None,
                    service_name=enrollment.service.name,
                    site_name=enrollment.site.name,
                    days=tuple(sorted(present.get(enrollment.id, ()))),
                    billed_days=charged,
                    roll_call_days=tuple(sorted(called.get(enrollment.id, ()))),
                    meal=enrollment.service.priced_unit_fr == "repas",
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
