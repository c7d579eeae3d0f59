"""Yearly campaigns: the family-quotient update and the re-enrollment for the next school year.

A :class:`Campaign` is opened by staff with a deadline; each household concerned gets one
:class:`CampaignAnswer` per thing it is asked (its family quotient; each child's enrollment in
a service for next year). An answer moves through :class:`AnswerState`:

* **quotient** campaign (``valid_from``: the day the new quotients apply, e.g. 1 January):
  ``awaiting`` until an attestation CAF is accepted with a quotient that covers ``valid_from``
  (``answered``); at the deadline the commune's rule (:class:`MissingQuotientRule`) settles the
  others: the previous quotient is carried over (``kept``) or the highest bracket applies
  (``top_bracket``).
* **re-enrollment** campaign (``school_year``: the new year's start): the family ``confirmed``
  or ``declined`` each child's enrollment (and may change its mind until the deadline); when
  staff close it, confirmed answers become enrollments (``enrolled``), those left without an
  answer are ``not_renewed``, declined ones stay ``declined``.

Every transition returns a new answer, dated, with who decided; a settled answer never
changes again (:class:`~canteen_core.domain.errors.ConflictError`). After a campaign is closed
every answer is in one of :data:`SETTLED` (one state per household and thing asked).

School levels are not kept by canteen: they follow from the birth year as in French primary
schools (:func:`school_level`: 3 years old in the calendar year of the rentrée is "petite
section", 10 is "CM2"); a child who would be :attr:`CampaignSettings.leaving_age` or older
next year leaves the primary school and is not offered re-enrollment.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs

from canteen_core.domain._labelled import LabelledEnum
from canteen_core.domain._validators import (
    a_date,
    aware_datetime,
    check_year,
    non_empty_str,
    optional_aware_datetime,
    optional_date,
    parse_enum,
)
from canteen_core.domain.calendar_words import school_year_label, weekdays_fr
from canteen_core.domain.errors import ConflictError, InvalidInputError, RuleViolationError
from canteen_core.domain.families import Child

__all__ = [
    "LEVELS_FR",
    "SETTLED",
    "AnswerState",
    "Campaign",
    "CampaignAnswer",
    "CampaignKind",
    "CampaignSettings",
    "CampaignStatus",
    "MissingQuotientRule",
    "answer_quotient",
    "close_campaign",
    "confirm_enrollment",
    "decline_enrollment",
    "mark_enrolled",
    "mark_not_renewed",
    "mark_reminded",
    "school_level",
    "settle_quotient",
    "weekdays_fr",
]


class CampaignKind(enum.StrEnum):
    """What a campaign asks families."""

    QUOTIENT = "quotient"
    REENROLLMENT = "reenrollment"


class CampaignStatus(enum.StrEnum):
    """Open (families answer) or closed (every answer settled)."""

    OPEN = "open"
    CLOSED = "closed"


class MissingQuotientRule(enum.StrEnum):
    """What the commune does, at the deadline, for a household that sent no new quotient."""

    TOP_BRACKET = "top_bracket"  # the previous quotient ends: the highest bracket applies
    KEEP = "keep"  # the previous quotient is carried over


class AnswerState(LabelledEnum):
    """Where a household's answer stands; ``label`` is what staff and families read."""

    AWAITING = "awaiting", "en attente de réponse"
    ANSWERED = "answered", "nouveau quotient enregistré"
    KEPT = "kept", "quotient précédent reconduit"
    TOP_BRACKET = "top_bracket", "tranche la plus haute appliquée"
    CONFIRMED = "confirmed", "réinscription confirmée"
    DECLINED = "declined", "pas de réinscription"
    ENROLLED = "enrolled", "réinscrit(e)"
    NOT_RENEWED = "not_renewed", "non réinscrit(e) (sans réponse)"


#: The states an answer may end in, by kind of campaign (once the campaign is closed).
SETTLED: dict[CampaignKind, frozenset[AnswerState]] = {
    CampaignKind.QUOTIENT: frozenset(
        {AnswerState.ANSWERED, AnswerState.KEPT, AnswerState.TOP_BRACKET}
    ),
    CampaignKind.REENROLLMENT: frozenset(
        {AnswerState.ENROLLED, AnswerState.DECLINED, AnswerState.NOT_RENEWED}
    ),
}
_FINAL = frozenset(
    {
        AnswerState.ANSWERED,
        AnswerState.KEPT,
        AnswerState.TOP_BRACKET,
        AnswerState.ENROLLED,
        AnswerState.NOT_RENEWED,
    }
)

#: French primary-school levels by age in the calendar year of the rentrée.
LEVELS_FR: dict[int, str] = {
    3: "petite section",
    4: "moyenne section",
    5: "grande section",
    6: "CP",
    7: "CE1",
    8: "CE2",
    9: "CM1",
    10: "CM2",
}


def school_level(child: Child, school_year: int) -> str | None:
    """The child's level in ``school_year`` (its start year) from the birth year, ``None``
    outside the primary school (too young, or gone to the collège)."""
    return LEVELS_FR.get(school_year - child.birth_date.year)


def _rule(value: MissingQuotientRule | str) -> MissingQuotientRule:
    return parse_enum(
        MissingQuotientRule,
        value,
        path="missing_quotient",
        message="« {value} » au lieu de top_bracket ou keep",
    )


def _leaving_age(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 4 <= value <= 20:
        raise InvalidInputError("un âge de 4 à 20 ans est attendu", path=attribute.name)


@attrs.frozen(kw_only=True)
class CampaignSettings:
    """``[campaigns]`` of the deployment: ``missing_quotient`` is what applies at a quotient
    campaign's deadline to a household without a new quotient (``"top_bracket"``, the default,
    or ``"keep"``); ``leaving_age``: a child this old in the calendar year of the next rentrée
    has left the primary school and is not offered re-enrollment (default 11, after CM2)."""

    missing_quotient: MissingQuotientRule = attrs.field(
        default=MissingQuotientRule.TOP_BRACKET, converter=_rule
    )
    leaving_age: int = attrs.field(default=11, validator=_leaving_age)


def _kind(value: CampaignKind | str) -> CampaignKind:
    return parse_enum(
        CampaignKind,
        value,
        path="kind",
        message="type de campagne inconnu « {value} » (quotient, reenrollment)",
    )


def _optional_year(_: object, attribute: attrs.Attribute[int | None], value: object) -> None:
    if value is not None:
        check_year(value, attribute.name)


@attrs.frozen(kw_only=True)
class Campaign:
    """A yearly campaign: ``valid_from`` for a quotient campaign, ``school_year`` (the new
    year's start) for a re-enrollment; families answer until ``deadline`` (inclusive)."""

    id: str = attrs.field(validator=non_empty_str)
    kind: CampaignKind = attrs.field(converter=_kind)
    title: str = attrs.field(validator=non_empty_str)
    deadline: date = attrs.field(validator=a_date)
    opened_by: str = attrs.field(validator=non_empty_str)
    opened_at: datetime = attrs.field(validator=aware_datetime)
    valid_from: date | None = attrs.field(default=None, validator=optional_date)
    school_year: int | None = attrs.field(default=None, validator=_optional_year)
    keep_periodicities: bool = True
    status: CampaignStatus = attrs.field(default=CampaignStatus.OPEN, converter=CampaignStatus)
    closed_by: str | None = None
    closed_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)

    def __attrs_post_init__(self) -> None:
        if self.kind is CampaignKind.QUOTIENT and self.valid_from is None:
            raise InvalidInputError(
                "une campagne de quotient familial a une date d'effet", path="valid_from"
            )
        if self.kind is CampaignKind.REENROLLMENT and self.school_year is None:
            raise InvalidInputError("une réinscription vise une année scolaire", path="school_year")

    @property
    def is_open(self) -> bool:
        """Families may still answer (until the deadline)."""
        return self.status is CampaignStatus.OPEN

    @property
    def school_year_fr(self) -> str | None:
        """``"2024-2025"`` for a re-enrollment."""
        if self.school_year is None:
            return None
        return school_year_label(self.school_year)

    def check_open(self, today: date) -> None:
        """Refuse (in French) an answer to a closed campaign or after the deadline."""
        if not self.is_open:
            raise ConflictError(f"la campagne « {self.title} » est close")
        if today > self.deadline:
            raise RuleViolationError(
                f"la campagne « {self.title} » s'est terminée le {self.deadline:%d/%m/%Y}"
            )


def _state(value: AnswerState | str) -> AnswerState:
    return parse_enum(
        AnswerState, value, path="state", message="état de réponse inconnu « {value} »"
    )


def _weekdays(value: Iterable[int] | None) -> tuple[int, ...] | None:
    if value is None:
        return None
    days = tuple(sorted(set(value)))
    if not days or any(
        not isinstance(day, int) or isinstance(day, bool) or not 0 <= day <= 6 for day in days
    ):
        raise InvalidInputError(
            "les jours de la semaine vont de 0 (lundi) à 6 (dimanche), au moins un",
            path="weekdays",
        )
    return days


@attrs.frozen(kw_only=True)
class CampaignAnswer:
    """One household's answer to a campaign: its quotient, or one child's enrollment next year.

    For a re-enrollment, ``enrollment_id`` is this year's enrollment the answer renews (its
    service, site, policies and category), ``level`` the child's level next year,
    ``weekdays`` the weekly pattern to book next year (``None``: none), ``new_enrollment_id``
    the enrollment made and ``booked`` whether its days were booked. For a quotient campaign,
    ``quotient`` is the value applying from the campaign's ``valid_from`` once settled (``None``
    with the highest bracket). ``note`` says, in French, why the answer settled that way.
    """

    id: str = attrs.field(validator=non_empty_str)
    campaign_id: str = attrs.field(validator=non_empty_str)
    household_id: str = attrs.field(validator=non_empty_str)
    state: AnswerState = attrs.field(default=AnswerState.AWAITING, converter=_state)
    child_id: str | None = None
    enrollment_id: str | None = None
    level: str | None = None
    weekdays: tuple[int, ...] | None = attrs.field(default=None, converter=_weekdays)
    new_enrollment_id: str | None = None
    booked: bool = False
    quotient: Decimal | None = None
    reminders: int = 0
    reminded_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    decided_by: str | None = None
    decided_at: datetime | None = attrs.field(default=None, validator=optional_aware_datetime)
    note: str | None = None

    @property
    def is_settled(self) -> bool:
        """No transition leaves this state."""
        return self.state in _FINAL

    @property
    def state_fr(self) -> str:
        """The state in French, with the note when there is one."""
        label = self.state.label_fr
        return f"{label} : {self.note}" if self.note else label


def _decided(
    answer: CampaignAnswer,
    state: AnswerState,
    *,
    by: str,
    at: datetime,
    note: str | None = None,
    **changes: Any,
) -> CampaignAnswer:
    if not isinstance(answer, CampaignAnswer):
        raise InvalidInputError("une réponse de campagne est attendue", path="answer")
    if answer.is_settled:
        raise ConflictError(f"cette réponse est déjà réglée ({answer.state.label_fr})")
    return attrs.evolve(answer, state=state, decided_by=by, decided_at=at, note=note, **changes)


def answer_quotient(
    answer: CampaignAnswer, quotient: Decimal, *, by: str, at: datetime, since: date
) -> CampaignAnswer:
    """A new quotient (from an accepted attestation CAF, applying from ``since``) answers."""
    return _decided(
        answer,
        AnswerState.ANSWERED,
        by=by,
        at=at,
        note=f"attestation CAF enregistrée (à partir du {since:%d/%m/%Y})",
        quotient=quotient,
    )


def settle_quotient(
    answer: CampaignAnswer,
    rule: MissingQuotientRule,
    previous: Decimal | None,
    *,
    title: str,
    by: str,
    at: datetime,
) -> CampaignAnswer:
    """The deadline's rule for a household without a new quotient: ``previous`` carried over
    (rule ``keep`` and a previous quotient on file) or the highest bracket."""
    keep = rule is MissingQuotientRule.KEEP and previous is not None
    outcome = "quotient précédent reconduit" if keep else "la tranche la plus haute s'applique"
    return _decided(
        answer,
        AnswerState.KEPT if keep else AnswerState.TOP_BRACKET,
        by=by,
        at=at,
        note=f"aucune attestation CAF reçue pour la campagne « {title} » : {outcome}",
        quotient=previous if keep else None,
    )


def confirm_enrollment(
    answer: CampaignAnswer, *, weekdays: Iterable[int] | None, by: str, at: datetime
) -> CampaignAnswer:
    """The family confirms next year's enrollment (``weekdays``: the days to book each week)."""
    days = _weekdays(weekdays)
    note = f"jours réservés : {weekdays_fr(days)}" if days else None
    return _decided(answer, AnswerState.CONFIRMED, by=by, at=at, note=note, weekdays=days)


def decline_enrollment(answer: CampaignAnswer, *, by: str, at: datetime) -> CampaignAnswer:
    """The family does not re-enroll the child next year."""
    return _decided(answer, AnswerState.DECLINED, by=by, at=at, weekdays=None)


def mark_enrolled(
    answer: CampaignAnswer, enrollment_id: str, *, by: str, at: datetime, note: str | None = None
) -> CampaignAnswer:
    """A confirmed answer became the enrollment ``enrollment_id``."""
    if answer.state is not AnswerState.CONFIRMED:
        raise ConflictError("seule une réinscription confirmée devient une inscription")
    return _decided(
        answer,
        AnswerState.ENROLLED,
        by=by,
        at=at,
        note=note or answer.note,
        new_enrollment_id=enrollment_id,
    )


def mark_not_renewed(answer: CampaignAnswer, *, by: str, at: datetime) -> CampaignAnswer:
    """No answer by the campaign's close: the child is not re-enrolled."""
    if answer.state is not AnswerState.AWAITING:
        raise ConflictError("seule une réponse en attente devient « non réinscrit(e) »")
    return _decided(
        answer,
        AnswerState.NOT_RENEWED,
        by=by,
        at=at,
        note="aucune réponse avant la clôture",
    )


def mark_reminded(answer: CampaignAnswer, *, at: datetime) -> CampaignAnswer:
    """One more reminder sent for an answer still awaited."""
    if answer.state is not AnswerState.AWAITING:
        raise ConflictError("on ne relance qu'une famille qui n'a pas répondu")
    return attrs.evolve(answer, reminders=answer.reminders + 1, reminded_at=at)


def close_campaign(campaign: Campaign, *, by: str, at: datetime) -> Campaign:
    """The campaign closed by ``by`` at ``at``."""
    if not campaign.is_open:
        raise ConflictError(f"la campagne « {campaign.title} » est déjà close")
    return attrs.evolve(campaign, status=CampaignStatus.CLOSED, closed_by=by, closed_at=at)
