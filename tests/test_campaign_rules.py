"""The campaign rules (Hypothesis): whatever families do before the deadline, closing leaves
every answer in exactly one settled state of its kind, and a settled answer never moves."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_core.domain.campaigns import (
    SETTLED,
    AnswerState,
    Campaign,
    CampaignAnswer,
    CampaignKind,
    CampaignSettings,
    MissingQuotientRule,
    close_campaign,
    confirm_enrollment,
    decline_enrollment,
    mark_enrolled,
    mark_not_renewed,
    mark_reminded,
    school_level,
    settle_quotient,
)
from canteen_core.domain.errors import ConflictError, InvalidInputError, RuleViolationError
from canteen_core.domain.families import Child

AT = datetime(2024, 5, 20, 8, 0, tzinfo=UTC)
_weekdays = st.none() | st.lists(st.integers(0, 4), min_size=1, max_size=5)
_action = st.tuples(st.sampled_from(["confirm", "decline"]), _weekdays)


def _answer(index: int) -> CampaignAnswer:
    return CampaignAnswer(
        id=f"a{index}",
        campaign_id="c",
        household_id=f"h{index}",
        child_id=f"c{index}",
        enrollment_id=f"e{index}",
    )


def _close(answer: CampaignAnswer) -> CampaignAnswer:
    """What closing a re-enrollment does to one answer."""
    if answer.state is AnswerState.AWAITING:
        return mark_not_renewed(answer, by="admin", at=AT)
    if answer.state is AnswerState.CONFIRMED:
        return mark_enrolled(answer, f"new-{answer.id}", by="admin", at=AT)
    return answer


@given(st.lists(st.lists(_action, max_size=6), min_size=1, max_size=8))
def test_every_household_ends_in_exactly_one_settled_state(
    histories: list[list[tuple[str, list[int] | None]]],
) -> None:
    closed: list[CampaignAnswer] = []
    for index, history in enumerate(histories):
        answer = _answer(index)
        for action, weekdays in history:
            if action == "confirm":
                answer = confirm_enrollment(answer, weekdays=weekdays, by="parent", at=AT)
            else:
                answer = decline_enrollment(answer, by="parent", at=AT)
        last = history[-1][0] if history else None
        settled = _close(answer)
        assert settled.state in SETTLED[CampaignKind.REENROLLMENT]
        expected = {
            None: AnswerState.NOT_RENEWED,
            "confirm": AnswerState.ENROLLED,
            "decline": AnswerState.DECLINED,
        }[last]
        assert settled.state is expected
        if expected is AnswerState.ENROLLED:
            assert settled.new_enrollment_id == f"new-{answer.id}"
            assert settled.weekdays == (
                None if history[-1][1] is None else tuple(sorted(set(history[-1][1])))
            )
        if settled.state is not AnswerState.DECLINED:
            with pytest.raises(ConflictError):
                confirm_enrollment(settled, weekdays=None, by="parent", at=AT)
            with pytest.raises(ConflictError):
                mark_reminded(settled, at=AT)
        closed.append(settled)
    # One answer per household asked, none lost, none doubled.
    assert sorted(a.id for a in closed) == sorted(f"a{i}" for i in range(len(histories)))


@given(
    st.sampled_from(list(MissingQuotientRule)),
    st.none() | st.decimals(min_value=0, max_value=5000, places=2),
    st.booleans(),
)
def test_the_deadline_rule_settles_every_quotient_answer(
    rule: MissingQuotientRule, previous: Decimal | None, remind: bool
) -> None:
    answer = CampaignAnswer(id="a", campaign_id="c", household_id="h")
    if remind:
        answer = mark_reminded(answer, at=AT)
    settled = settle_quotient(answer, rule, previous, title="QF 2025", by="regisseur", at=AT)
    assert settled.state in SETTLED[CampaignKind.QUOTIENT]
    kept = rule is MissingQuotientRule.KEEP and previous is not None
    assert settled.state is (AnswerState.KEPT if kept else AnswerState.TOP_BRACKET)
    assert settled.quotient == (previous if kept else None)
    assert settled.decided_at == AT
    assert "QF 2025" in (settled.note or "")
    with pytest.raises(ConflictError):
        settle_quotient(settled, rule, previous, title="QF 2025", by="regisseur", at=AT)


@given(st.integers(2000, 2030), st.integers(1990, 2030))
def test_levels_follow_the_birth_year(school_year: int, birth_year: int) -> None:
    child = Child(id="c", first_name="A", last_name="B", birth_date=date(birth_year, 6, 1))
    level = school_level(child, school_year)
    age = school_year - birth_year
    assert (level is None) == (not 3 <= age <= 10)
    if age == 10:
        assert level == "CM2"


def test_campaigns_refuse_bad_values() -> None:
    with pytest.raises(InvalidInputError):
        Campaign(
            id="c",
            kind="quotient",
            title="QF",
            deadline=date(2024, 1, 1),
            opened_by="x",
            opened_at=AT,
        )
    with pytest.raises(InvalidInputError):
        Campaign(
            id="c",
            kind="lottery",
            title="QF",
            deadline=date(2024, 1, 1),
            opened_by="x",
            opened_at=AT,
        )
    with pytest.raises(InvalidInputError):
        CampaignSettings(missing_quotient="free")
    with pytest.raises(InvalidInputError):
        CampaignSettings(leaving_age=99)
    campaign = Campaign(
        id="c",
        kind="reenrollment",
        title="Réinscriptions",
        deadline=date(2024, 6, 15),
        opened_by="x",
        opened_at=AT,
        school_year=2024,
    )
    campaign.check_open(date(2024, 6, 15))
    with pytest.raises(RuleViolationError):
        campaign.check_open(date(2024, 6, 16))
    closed = close_campaign(campaign, by="admin", at=AT)
    with pytest.raises(ConflictError):
        closed.check_open(date(2024, 6, 1))
    with pytest.raises(ConflictError):
        close_campaign(closed, by="admin", at=AT)
