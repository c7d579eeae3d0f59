"""Yearly campaigns: the family-quotient update and the re-enrollment for the next school year.

``canteen.campaigns`` on the facade (rules: :mod:`canteen_core.domain.campaigns`).

Family quotient (finance, admin: ``manage_family_quotient``)
    :meth:`CampaignService.open_quotient` asks every household with children to upload its
    attestation CAF for the quotients valid from ``valid_from`` (e-mail through the outbox);
    accepting the attestation (``canteen.papers.accept``) or recording a quotient
    (``canteen.families.set_family_quotient``) answers; :meth:`~CampaignService.remind`
    e-mails the households still awaited; :meth:`~CampaignService.close` applies, after the
    deadline, the deployment's rule to the others (``[campaigns] missing_quotient``: the
    previous quotient carried over, or the highest bracket) and tells each family.

Re-enrollment (admin: ``manage_enrollments``)
    :meth:`~CampaignService.open_reenrollment` offers each child enrolled this school year the
    same service next year (:mod:`~canteen_core.services.campaigns.rollover`); the family
    :meth:`~CampaignService.confirm` (optionally with the weekdays to book each week) or
    :meth:`~CampaignService.decline` each child until the deadline; :meth:`~CampaignService.close`
    makes the confirmed enrollments, then books their weekly pattern. Closing again is
    harmless: nothing is enrolled twice, and patterns not yet booked are booked.

Every decision is dated on its answer and written to the audit trail with the use case.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar_words import school_year_label
from canteen_core.domain.campaigns import (
    AnswerState,
    Campaign,
    CampaignAnswer,
    CampaignKind,
    close_campaign,
    confirm_enrollment,
    decline_enrollment,
    mark_reminded,
)
from canteen_core.domain.clock import paris_today
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.periodicity import Periodicity
from canteen_core.domain.policy import Action, authorize, is_allowed
from canteen_core.domain.school_years import YearClosing
from canteen_core.services.campaign_answers import record_quotient_answer
from canteen_core.services.campaigns import quotient as _quotient
from canteen_core.services.campaigns import rollover as _rollover
from canteen_core.services.campaigns._common import (
    MANAGING,
    CampaignProgress,
    HouseholdCampaign,
    answers_of,
    campaign_of,
    check_closable,
    check_deadline,
    mail_household,
    may_answer,
    state_filter,
)
from canteen_core.services.reservations import ReservationService
from canteen_core.services.runner import ServiceBase, Transaction, school_year_of
from canteen_core.services.school_years import close_school_year, closed_years

__all__ = [
    "CampaignProgress",
    "CampaignService",
    "HouseholdCampaign",
    "record_quotient_answer",
]


def _text(value: str | None, default: str) -> str:
    if value is None:
        return default
    if not value.strip():
        raise InvalidInputError("le titre ne peut pas être vide", path="title")
    return " ".join(value.split())[:200]


def _new_campaign(
    tx: Transaction, kind: CampaignKind, *, title: str, deadline: date, **fields: Any
) -> Campaign:
    """Store a new campaign opened now by the actor; :class:`ConflictError` when one of the
    same kind exists for the same date (quotients) or school year (re-enrollment)."""
    assert tx.actor is not None
    campaign = Campaign(
        id=tx.new_id(),
        kind=kind,
        title=title,
        deadline=deadline,
        opened_by=tx.actor.user_id,
        opened_at=tx.now,
        **fields,
    )
    for other in tx.uow.campaigns.list(kind=kind.value):
        if (other.valid_from, other.school_year) != (campaign.valid_from, campaign.school_year):
            continue
        if kind is CampaignKind.QUOTIENT:
            assert other.valid_from is not None
            what = f"une campagne de quotient familial au {other.valid_from:%d/%m/%Y} existe déjà"
        else:
            what = f"la réinscription {other.school_year_fr} est déjà ouverte"
        raise ConflictError(f"{what} (« {other.title} »)")
    tx.uow.campaigns.add(campaign)
    return campaign


def _opened(
    tx: Transaction, campaign: Campaign, answers: Sequence[CampaignAnswer]
) -> CampaignProgress:
    """Store the answers a new campaign awaits, and audit its opening."""
    tx.uow.campaign_answers.add_many(answers)
    tx.audit.change(f"campaign:{campaign.id}", "status", None, campaign.status.value)
    tx.audit.describe(f"Ouverture de la campagne « {campaign.title} » ({len(answers)} réponse(s))")
    return CampaignProgress(campaign=campaign, answers=tuple(answers))


class CampaignService(ServiceBase):
    """Yearly campaigns: family quotients and re-enrollment (see the module docstring)."""

    # -- staff: opening ---------------------------------------------------------------------

    def open_quotient(
        self,
        actor: Actor,
        *,
        valid_from: date,
        deadline: date,
        title: str | None = None,
    ) -> CampaignProgress:
        """Open a family-quotient campaign for the quotients valid from ``valid_from``:
        households with children and no quotient recorded for that date are asked (e-mail)
        to upload their attestation CAF by ``deadline`` (before ``valid_from``)."""
        today = paris_today(self._ctx.clock)
        check_deadline(today, deadline, valid_from)
        name = _text(title, f"Quotient familial au {valid_from:%d/%m/%Y}")
        with self._ctx.use_case(actor, Action.MANAGE_FAMILY_QUOTIENT) as tx:
            campaign = _new_campaign(
                tx, CampaignKind.QUOTIENT, title=name, deadline=deadline, valid_from=valid_from
            )
            answers: list[CampaignAnswer] = []
            for household in tx.uow.households.all():
                if not _quotient.needs_quotient(household, campaign):
                    continue
                answers.append(
                    CampaignAnswer(
                        id=tx.new_id(), campaign_id=campaign.id, household_id=household.id
                    )
                )
                _quotient.ask(tx, campaign, household, reminder=False)
            return _opened(tx, campaign, answers)

    def open_reenrollment(
        self,
        actor: Actor,
        *,
        school_year: int,
        deadline: date,
        keep_periodicities: bool = True,
        title: str | None = None,
    ) -> CampaignProgress:
        """Open the re-enrollment for ``school_year`` (the next one, by its start year): each
        child enrolled until the end of this year is offered the same service next year, at
        the next level (those leaving the primary school are not), with this year's weekly
        pattern when ``keep_periodicities``; each household is e-mailed."""
        today = paris_today(self._ctx.clock)
        if school_year != school_year_of(today) + 1:
            nxt = school_year_of(today) + 1
            raise InvalidInputError(
                "la réinscription se prépare pour l'année scolaire suivante "
                f"({school_year_label(nxt)})",
                path="school_year",
            )
        check_deadline(today, deadline, date(school_year, 8, 1))
        name = _text(title, f"Réinscriptions {school_year_label(school_year)}")
        leaving_age = self._ctx.deployment.campaigns.leaving_age
        with self._ctx.use_case(actor, Action.MANAGE_ENROLLMENTS) as tx:
            campaign = _new_campaign(
                tx,
                CampaignKind.REENROLLMENT,
                title=name,
                deadline=deadline,
                school_year=school_year,
                keep_periodicities=keep_periodicities,
            )
            answers: list[CampaignAnswer] = []
            for household, found in _rollover.proposals(
                self._ctx, tx, campaign, leaving_age=leaving_age
            ):
                for proposal in found:
                    answers.append(
                        CampaignAnswer(
                            id=tx.new_id(),
                            campaign_id=campaign.id,
                            household_id=household.id,
                            child_id=proposal.enrollment.child_id,
                            enrollment_id=proposal.enrollment.id,
                            level=proposal.level,
                            weekdays=proposal.weekdays,
                        )
                    )
                self._invite(tx, campaign, household.id, answers, reminder=False)
            return _opened(tx, campaign, answers)

    def _invite(
        self,
        tx: Transaction,
        campaign: Campaign,
        household_id: str,
        answers: Sequence[CampaignAnswer],
        *,
        reminder: bool,
    ) -> None:
        household = tx.uow.households.get(household_id)
        children = []
        for answer in answers:
            if answer.household_id != household_id or answer.child_id is None:
                continue
            old = tx.uow.enrollments.get(answer.enrollment_id or "")
            child = household.child(answer.child_id)
            level = f" ({answer.level})" if answer.level else ""
            children.append(f"{child.display_name}{level} : {old.service.name} à {old.site.name}")
        mail_household(
            tx,
            household,
            _rollover.OPENED_MAIL,
            {
                "title": campaign.title,
                "school_year": campaign.school_year_fr,
                "deadline": campaign.deadline,
                "children": children,
                "reminder": reminder,
            },
            key=f"{campaign.id}:{household_id}:{'reminder' if reminder else 'ask'}:"
            f"{tx.now.isoformat()}",
        )

    # -- staff: following ---------------------------------------------------------------------

    def _managing(self, actor: Actor, campaign_id: str) -> Action:
        """The action managing the campaign's kind, checked for ``actor`` ("introuvable" for
        an unknown campaign) before the use case runs under it (and is audited as it)."""
        with self._ctx.use_case(actor, Action.VIEW_HOUSEHOLD, read_only=True) as tx:
            tx.filtered()
            campaign = tx.uow.campaigns.find(campaign_id)
        if campaign is None:
            raise NotFoundError("campagne introuvable")
        action = MANAGING[campaign.kind]
        authorize(actor, action)
        return action

    def list_campaigns(self, actor: Actor) -> tuple[Campaign, ...]:
        """The campaigns the actor manages (by kind), newest first."""
        kinds = [kind for kind, action in MANAGING.items() if is_allowed(actor, action)]
        if not kinds:
            raise RuleViolationError("votre rôle ne gère aucune campagne")
        with self._ctx.use_case(actor, MANAGING[kinds[0]], read_only=True) as tx:
            found = [c for c in tx.uow.campaigns.list() if c.kind in kinds]
        return tuple(sorted(found, key=lambda c: (c.opened_at, c.id), reverse=True))

    def progress(
        self, actor: Actor, campaign_id: str, *, state: AnswerState | str | None = None
    ) -> CampaignProgress:
        """A campaign and its answers (in ``state`` when given): who answered, who did not."""
        wanted = state_filter(state)
        action = self._managing(actor, campaign_id)
        with self._ctx.use_case(actor, action, read_only=True) as tx:
            campaign = campaign_of(tx, campaign_id)
            answers = answers_of(tx, campaign.id, wanted)
        return CampaignProgress(campaign=campaign, answers=tuple(answers))

    def remind(self, actor: Actor, campaign_id: str) -> tuple[CampaignAnswer, ...]:
        """E-mail again every household still awaited (once per household; not one whose
        attestation CAF waits for review), until the deadline; the reminded answers (their
        count of reminders up by one)."""
        today = paris_today(self._ctx.clock)
        action = self._managing(actor, campaign_id)
        with self._ctx.use_case(actor, action) as tx:
            campaign = campaign_of(tx, campaign_id)
            campaign.check_open(today)
            waiting = answers_of(tx, campaign.id, AnswerState.AWAITING)
            if campaign.kind is CampaignKind.QUOTIENT:  # an attestation to review answered
                waiting = [
                    a for a in waiting if not _quotient.attestation_waiting(tx, a.household_id)
                ]
            reminded = [mark_reminded(answer, at=tx.now) for answer in waiting]
            for household_id in dict.fromkeys(answer.household_id for answer in reminded):
                if campaign.kind is CampaignKind.QUOTIENT:
                    household = tx.uow.households.get(household_id)
                    _quotient.ask(tx, campaign, household, reminder=True)
                else:
                    self._invite(tx, campaign, household_id, reminded, reminder=True)
            for answer in reminded:
                tx.uow.campaign_answers.save(answer)
                tx.audit.touch(f"campaign_answer:{answer.id}", household_id=answer.household_id)
            tx.audit.describe(
                f"Relance de la campagne « {campaign.title} » ({len(reminded)} réponse(s))"
            )
        return tuple(reminded)

    def close(self, actor: Actor, campaign_id: str) -> CampaignProgress:
        """Close a campaign once its deadline has passed: every answer still open is settled
        (quotients: the deployment's rule; re-enrollment: confirmed ones enrolled, then their
        weekly pattern booked). Closing a closed campaign again only finishes what was left
        (weekly patterns not booked yet); nothing is done twice."""
        today = paris_today(self._ctx.clock)
        action = self._managing(actor, campaign_id)
        with self._ctx.use_case(actor, action) as tx:
            campaign = campaign_of(tx, campaign_id)
            if campaign.is_open:
                check_closable(campaign, today)
                campaign = self._settle(tx, campaign)
            answers = answers_of(tx, campaign.id)
        if campaign.kind is CampaignKind.REENROLLMENT and campaign.keep_periodicities:
            answers = self._book(actor, campaign, answers)
        return CampaignProgress(campaign=campaign, answers=tuple(answers))

    def _settle(self, tx: Transaction, campaign: Campaign) -> Campaign:
        assert tx.actor is not None
        answers = answers_of(tx, campaign.id)
        if campaign.kind is CampaignKind.QUOTIENT:
            rule = self._ctx.deployment.campaigns.missing_quotient
            for answer in answers:
                if answer.state is AnswerState.AWAITING:
                    _quotient.settle(tx, campaign, answer, rule)
        else:
            for answer in _rollover.enroll_confirmed(self._ctx, tx, campaign, answers):
                tx.audit.change(
                    f"campaign_answer:{answer.id}",
                    "state",
                    None,
                    answer.state.value,
                    household_id=answer.household_id,
                )
        closed = close_campaign(campaign, by=tx.actor.user_id, at=tx.now)
        tx.uow.campaigns.save(closed)
        tx.audit.change(f"campaign:{campaign.id}", "status", campaign.status, closed.status)
        tx.audit.describe(f"Clôture de la campagne « {campaign.title} »")
        return closed

    def _book(
        self, actor: Actor, campaign: Campaign, answers: list[CampaignAnswer]
    ) -> list[CampaignAnswer]:
        """Book the weekly pattern of each enrollment made and not booked yet (its own use
        case: the reservations'; the weekdays its service runs on), then mark those answers
        booked."""
        todo = [
            a for a in answers if a.state is AnswerState.ENROLLED and a.weekdays and not a.booked
        ]
        if not todo:
            return answers
        patterns: dict[str, Periodicity] = {}
        with self._ctx.use_case(actor, Action.MANAGE_ENROLLMENTS, read_only=True) as tx:
            for answer in todo:
                assert answer.new_enrollment_id is not None
                assert answer.weekdays
                new = tx.uow.enrollments.get(answer.new_enrollment_id)
                # Only the weekdays the new enrollment's service runs on: a periodicity
                # naming another is refused, and one answer must not stop everyone's booking.
                served = set(answer.weekdays) & new.calendar.open_weekdays
                if served:
                    patterns[new.id] = Periodicity(weekdays=served, start=new.start, end=new.end)
        ReservationService(self._ctx).apply_periodicities(actor, patterns, replace=False)
        done = {a.id: attrs.evolve(a, booked=True) for a in todo}
        with self._ctx.use_case(actor, Action.MANAGE_ENROLLMENTS) as tx:
            for answer in done.values():
                tx.uow.campaign_answers.save(answer)
                tx.audit.touch(f"campaign_answer:{answer.id}", household_id=answer.household_id)
            tx.audit.describe(
                f"Réservation des semaines types de « {campaign.title} » ({len(done)})"
            )
        return [done.get(a.id, a) for a in answers]

    # -- the year's end -----------------------------------------------------------------------

    def close_year(self, actor: Actor, school_year: int | str) -> YearClosing:
        """Close ``school_year`` (``2023`` or ``"2023-2024"``) after its last day: no booking,
        cancellation, roll call or late change on its days any more, from families or staff
        (:class:`RuleViolationError` naming the year); its invoices stay payable and each
        household's balance is carried as it stands, counted in the closing returned.
        :class:`ConflictError` for a year already closed (``manage_calendar``)."""
        return close_school_year(self._ctx, actor, school_year)

    def closed_years(self, actor: Actor) -> tuple[YearClosing, ...]:
        """The closed school years, oldest first."""
        return closed_years(self._ctx, actor)

    # -- families -----------------------------------------------------------------------------

    def of_household(self, actor: Actor, household_id: str) -> tuple[HouseholdCampaign, ...]:
        """The open campaigns that ask ``household_id`` something, with its answers (the
        household, or staff)."""
        with self._ctx.use_case(
            actor, Action.VIEW_HOUSEHOLD, household_id=household_id, read_only=True
        ) as tx:
            tx.uow.households.get(household_id)
            by_campaign: dict[str, list[CampaignAnswer]] = {}
            for answer in tx.uow.campaign_answers.list(household_id=household_id):
                by_campaign.setdefault(answer.campaign_id, []).append(answer)
            found = []
            for campaign_id, answers in sorted(by_campaign.items()):
                campaign = tx.uow.campaigns.get(campaign_id)
                if campaign.is_open:
                    ordered = sorted(answers, key=lambda a: (a.child_id or "", a.id))
                    found.append(HouseholdCampaign(campaign=campaign, answers=tuple(ordered)))
        return tuple(sorted(found, key=lambda c: c.campaign.deadline))

    def confirm(
        self,
        actor: Actor,
        answer_id: str,
        *,
        weekdays: Sequence[int] | None = None,
        book: bool = True,
    ) -> CampaignAnswer:
        """Confirm a child's enrollment next year (the family, until the deadline): with
        ``book``, the weekdays to book each week (``weekdays``, Monday = 0; default: those
        proposed from this year; a weekday the service never runs on is refused with
        :class:`InvalidInputError`); without, no day is booked."""
        return self._answer(actor, answer_id, confirm=True, weekdays=weekdays, book=book)

    def decline(self, actor: Actor, answer_id: str) -> CampaignAnswer:
        """Say the child will not be re-enrolled next year (the family, until the deadline;
        it may confirm again before then)."""
        return self._answer(actor, answer_id, confirm=False, weekdays=None, book=False)

    def _answer(
        self,
        actor: Actor,
        answer_id: str,
        *,
        confirm: bool,
        weekdays: Sequence[int] | None,
        book: bool,
    ) -> CampaignAnswer:
        today = paris_today(self._ctx.clock)
        with self._ctx.use_case(actor, Action.REQUEST_ENROLLMENT) as tx:
            tx.filtered()
            answer = may_answer(tx, answer_id)
            tx.authorize(answer.household_id)
            campaign = tx.uow.campaigns.get(answer.campaign_id)
            if campaign.kind is not CampaignKind.REENROLLMENT:
                raise InvalidInputError(
                    "ce quotient se met à jour en déposant une attestation CAF", path="answer_id"
                )
            campaign.check_open(today)
            if confirm:
                days = (weekdays if weekdays is not None else answer.weekdays) if book else None
                changed = confirm_enrollment(answer, weekdays=days, by=actor.user_id, at=tx.now)
                if weekdays is not None and changed.weekdays and answer.enrollment_id is not None:
                    # Refused now, in the family's words, rather than dropped at the rollover.
                    enrollment = tx.uow.enrollments.find(answer.enrollment_id)
                    if enrollment is not None:
                        enrollment.service.check_runs_on(changed.weekdays)
            else:
                changed = decline_enrollment(answer, by=actor.user_id, at=tx.now)
            tx.uow.campaign_answers.save(changed)
            tx.audit.change(
                f"campaign_answer:{answer.id}",
                "state",
                answer.state.value,
                changed.state.value,
                household_id=answer.household_id,
            )
            tx.audit.describe(f"Réinscription : {changed.state.label_fr}")
        return changed
