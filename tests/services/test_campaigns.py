"""Yearly campaigns through the facade: the family-quotient update (attestations answer, the
deadline's rule settles the others, the tariff explanation says why) and the re-enrollment
for the next school year (families confirm or decline, confirmed children enrolled once with
their weekly pattern); refused input stores nothing (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canteen_core.config.deployment import DocumentStoreSettings
from canteen_core.domain.campaigns import (
    SETTLED,
    AnswerState,
    CampaignKind,
    CampaignSettings,
    MissingQuotientRule,
    confirm_enrollment,
)
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.families import Child, FamilyQuotient
from canteen_core.domain.money import Money
from canteen_core.domain.periodicity import Periodicity
from canteen_core.services import Canteen

from ._billing_fixtures import GRID, book, make_billing_canteen, open_days
from ._world import ADMIN, FINANCE, OTHER, PAYER, STAFF, World, build_world
from .conftest import ALL_BACKENDS, ISSUER, EventRecorder
from .test_family_papers import pdf_bytes

#: Wednesday 15 November 2023, 10:00 in Paris.
NOVEMBER = datetime(2023, 11, 15, 9, 0, tzinfo=UTC)
NEW_YEAR = date(2024, 1, 1)
#: Wednesday 15 May 2024: time to prepare 2024-2025.
MAY = datetime(2024, 5, 15, 8, 0, tzinfo=UTC)
GRID_2024 = attrs.evolve(GRID, id="rs-2024", valid_from=date(2024, 8, 1), valid_until=None)
THEO = Child(id="theo", first_name="Théo", last_name="Concerto", birth_date=date(2013, 2, 1))


def _canteen(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    clock: FixedClock,
    recorder: EventRecorder,
    rule: MissingQuotientRule,
) -> Canteen:
    return make_billing_canteen(
        backend,
        request,
        tmp_path,
        clock,
        recorder,
        documents=DocumentStoreSettings(folder=str(tmp_path / "documents")),
        campaigns=CampaignSettings(missing_quotient=rule),
    )


@pytest.fixture(params=ALL_BACKENDS)
def campaign_world(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> Iterator[World]:
    """The seed's world with the worked-example grids (2023-2024 and after) and quotients;
    the default rule (highest bracket)."""
    with _canteen(
        str(request.param), request, tmp_path, clock, recorder, MissingQuotientRule.TOP_BRACKET
    ) as canteen:
        yield _prepare(canteen)


@pytest.fixture
def keeping_world(
    tmp_path: Path, request: pytest.FixtureRequest, clock: FixedClock, recorder: EventRecorder
) -> Iterator[World]:
    """The same on SQLite, for a commune that carries the previous quotient over."""
    with _canteen("sqlite", request, tmp_path, clock, recorder, MissingQuotientRule.KEEP) as c:
        yield _prepare(c)


def _prepare(canteen: Canteen) -> World:
    world = build_world(canteen)
    canteen.billing.save_tariff_grid(ADMIN, GRID)
    canteen.billing.save_tariff_grid(ADMIN, GRID_2024)
    for household_id, value in (("concerto", "612.50"), ("voisins", "900")):
        canteen.families.set_family_quotient(
            FINANCE,
            household_id,
            FamilyQuotient(value=Decimal(value), valid_from=date(2023, 1, 1)),
        )
    return world


def _mails(canteen: Canteen, kind: str) -> list[object]:
    return [r.message for r in canteen.accounts.outbox(ADMIN) if r.message.kind == kind]


def _states(canteen: Canteen, campaign_id: str) -> dict[str, AnswerState]:
    progress = canteen.campaigns.progress(ADMIN, campaign_id)
    return {f"{a.household_id}/{a.child_id or ''}": a.state for a in progress.answers}


# -- the family-quotient campaign ------------------------------------------------------------


def test_quotient_campaign_from_request_to_the_highest_bracket(
    campaign_world: World, clock: FixedClock
) -> None:
    canteen = campaign_world.canteen
    clock.set(NOVEMBER)
    opened = canteen.campaigns.open_quotient(
        FINANCE, valid_from=NEW_YEAR, deadline=date(2023, 12, 15)
    )
    campaign = opened.campaign
    assert campaign.title == "Quotient familial au 01/01/2024"
    assert {a.household_id for a in opened.answers} == {"concerto", "voisins"}
    asked = _mails(canteen, "quotient-campaign-request")
    assert sorted(m.to_address for m in asked) == [  # type: ignore[attr-defined]
        "jean@voisin.fr",
        "maman@concerto.fr",
        "papa@concerto.fr",
    ]
    assert "avant le" in asked[0].subject  # type: ignore[attr-defined]

    # The Voisin family uploads its attestation; finance accepts it: answered.
    paper = canteen.papers.upload(
        OTHER,
        "voisins",
        kind="attestation_caf",
        content=pdf_bytes("Attestation CAF"),
        file_name="caf.pdf",
        issued_on=date(2023, 11, 20),
        valid_from=NEW_YEAR,
        family_quotient=Decimal("450"),
    )
    canteen.papers.accept(FINANCE, paper.id)
    assert _states(canteen, campaign.id) == {
        "concerto/": AnswerState.AWAITING,
        "voisins/": AnswerState.ANSWERED,
    }
    # Staff see who did not answer, and remind them only.
    (waiting,) = canteen.campaigns.progress(FINANCE, campaign.id, state="awaiting").answers
    assert waiting.household_id == "concerto"
    (reminded,) = canteen.campaigns.remind(FINANCE, campaign.id)
    assert reminded.reminders == 1
    assert len(_mails(canteen, "quotient-campaign-request")) == 5  # two more, CONCERTO's

    # Not before the deadline has passed.
    with pytest.raises(RuleViolationError, match="jusqu'au 15/12/2023 inclus"):
        canteen.campaigns.close(FINANCE, campaign.id)
    assert canteen.campaigns.progress(FINANCE, campaign.id).campaign.is_open

    clock.set(datetime(2023, 12, 16, 9, 0, tzinfo=UTC))
    with pytest.raises(RuleViolationError, match="terminée le 15/12/2023"):
        canteen.campaigns.remind(FINANCE, campaign.id)
    closed = canteen.campaigns.close(FINANCE, campaign.id)
    assert not closed.campaign.is_open
    assert closed.counts == {AnswerState.ANSWERED: 1, AnswerState.TOP_BRACKET: 1}
    concerto = canteen.families.get(ADMIN, "concerto")
    assert concerto.quotient_on(date(2023, 12, 31)) == Decimal("612.50")
    assert concerto.quotient_on(NEW_YEAR) is None
    tariffs = canteen.billing.household_tariffs(PAYER, "concerto", on=date(2024, 1, 8))
    alban = tariffs.prices[0]
    assert alban.price == Money.of("3.15")
    assert (
        "votre quotient familial a expiré le 31/12/2023 (aucune attestation CAF reçue pour la "
        "campagne « Quotient familial au 01/01/2024 ») : la tranche la plus haute s'applique"
    ) in alban.reasons
    (outcome, *_) = _mails(canteen, "quotient-campaign-outcome")
    assert "la tranche la plus haute" in outcome.text_body  # type: ignore[attr-defined]
    # Each decision is dated and audited.
    settled = {a.household_id: a for a in closed.answers}
    assert settled["concerto"].decided_at is not None
    assert settled["concerto"].decided_by == "regisseur"
    entries = canteen.audit.entries(ADMIN, household_id="concerto", action="manage_family_quotient")
    assert any("Clôture" in e.summary for e in entries)
    assert canteen.audit.verify(ADMIN).intact

    # Closing again changes nothing.
    again = canteen.campaigns.close(FINANCE, campaign.id)
    assert again.answers == closed.answers
    assert canteen.families.get(ADMIN, "concerto") == concerto


def test_a_campaign_closed_once_its_month_is_invoiced_leaves_that_month_alone(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock, recorder: EventRecorder
) -> None:
    """Closed late (January invoiced meanwhile at the quotient on file), the highest bracket
    applies from the first day not invoiced: January keeps its price, the family is told."""
    with _canteen(
        "memory", request, tmp_path, clock, recorder, MissingQuotientRule.TOP_BRACKET
    ) as canteen:
        world = _prepare(canteen)
        clock.set(NOVEMBER)
        opened = canteen.campaigns.open_quotient(
            FINANCE, valid_from=NEW_YEAR, deadline=date(2023, 12, 15)
        )
        book(canteen, world.alban, open_days(world.alban, date(2024, 1, 8), date(2024, 1, 12)))
        clock.set(datetime(2024, 2, 1, 9, 0, tzinfo=UTC))
        assert canteen.billing.run_postpaid(FINANCE, "2024-01").total == Money.of("12.20")
        canteen.campaigns.close(FINANCE, opened.campaign.id)
        concerto = canteen.families.get(ADMIN, "concerto")
        assert concerto.quotient_on(date(2024, 1, 31)) == Decimal("612.50")
        assert concerto.quotient_on(date(2024, 2, 1)) is None
        told = {m.household_id: m.text_body for m in _mails(canteen, "quotient-campaign-outcome")}  # type: ignore[attr-defined]
        assert "s'applique à partir du 1er février 2024" in told["concerto"]
        assert "s'applique à partir du 1er janvier 2024" in told["voisins"]  # nothing invoiced
        book(canteen, world.alban, open_days(world.alban, date(2024, 2, 5), date(2024, 2, 6)))
        clock.set(datetime(2024, 3, 1, 9, 0, tzinfo=UTC))
        february = canteen.billing.run_postpaid(FINANCE, "2024-02")
        assert (february.total, february.credit_notes) == (Money.of("6.30"), ())


def test_a_commune_that_keeps_the_previous_quotient(
    keeping_world: World, clock: FixedClock
) -> None:
    canteen = keeping_world.canteen
    clock.set(NOVEMBER)
    campaign = canteen.campaigns.open_quotient(
        FINANCE, valid_from=NEW_YEAR, deadline=date(2023, 12, 15), title="QF 2024"
    ).campaign
    # Staff recording a quotient answers too.
    canteen.families.set_family_quotient(
        FINANCE, "voisins", FamilyQuotient(value=Decimal("700"), valid_from=NEW_YEAR)
    )
    clock.set(datetime(2023, 12, 20, 9, 0, tzinfo=UTC))
    closed = canteen.campaigns.close(FINANCE, campaign.id)
    assert closed.counts == {AnswerState.ANSWERED: 1, AnswerState.KEPT: 1}
    concerto = canteen.families.get(ADMIN, "concerto")
    assert concerto.quotient_on(date(2024, 3, 1)) == Decimal("612.50")
    alban = canteen.billing.household_tariffs(PAYER, "concerto", on=date(2024, 1, 8)).prices[0]
    assert alban.price == Money.of("3.05")
    assert any("quotient reconduit" in reason for reason in alban.reasons)
    (outcome, *_) = _mails(canteen, "quotient-campaign-outcome")
    assert "est reconduit" in outcome.text_body  # type: ignore[attr-defined]


def test_bad_quotient_campaigns_are_refused_and_store_nothing(
    campaign_world: World, clock: FixedClock
) -> None:
    canteen = campaign_world.canteen
    clock.set(NOVEMBER)
    outbox = len(canteen.accounts.outbox(ADMIN))
    with pytest.raises(InvalidInputError, match="déjà passée"):
        canteen.campaigns.open_quotient(FINANCE, valid_from=NEW_YEAR, deadline=date(2023, 11, 1))
    with pytest.raises(InvalidInputError, match="précéder le 01/01/2024"):
        canteen.campaigns.open_quotient(FINANCE, valid_from=NEW_YEAR, deadline=date(2024, 1, 2))
    with pytest.raises(InvalidInputError):
        canteen.campaigns.open_quotient(
            FINANCE,
            valid_from=NEW_YEAR,
            deadline=date(2023, 12, 1),
            title="  ",
        )
    with pytest.raises(NotAuthorizedError):
        canteen.campaigns.open_quotient(PAYER, valid_from=NEW_YEAR, deadline=date(2023, 12, 1))
    with pytest.raises(NotAuthorizedError):
        canteen.campaigns.open_quotient(STAFF, valid_from=NEW_YEAR, deadline=date(2023, 12, 1))
    assert canteen.campaigns.list_campaigns(FINANCE) == ()
    assert len(canteen.accounts.outbox(ADMIN)) == outbox
    campaign = canteen.campaigns.open_quotient(
        FINANCE, valid_from=NEW_YEAR, deadline=date(2023, 12, 1)
    ).campaign
    with pytest.raises(ConflictError, match="existe déjà"):
        canteen.campaigns.open_quotient(FINANCE, valid_from=NEW_YEAR, deadline=date(2023, 12, 5))
    with pytest.raises(NotFoundError, match="introuvable"):
        canteen.campaigns.progress(FINANCE, "nope")
    with pytest.raises(NotAuthorizedError):
        canteen.campaigns.progress(PAYER, campaign.id)
    with pytest.raises(InvalidInputError, match="état inconnu"):
        canteen.campaigns.progress(FINANCE, campaign.id, state="lost")
    (answer, *_) = canteen.campaigns.progress(FINANCE, campaign.id).answers
    with pytest.raises(InvalidInputError, match="attestation CAF"):
        canteen.campaigns.confirm(ADMIN, answer.id)
    assert canteen.campaigns.list_campaigns(FINANCE) == (campaign,)


# -- the re-enrollment -----------------------------------------------------------------------


def _book_mondays_and_thursdays(world: World) -> None:
    canteen = world.canteen
    canteen.reservations.apply_periodicity(
        PAYER,
        world.alban.id,
        Periodicity(weekdays="mon,thu", start=date(2023, 9, 11), end=date(2024, 7, 5)),
    )


def test_rollover_to_the_next_school_year(campaign_world: World, clock: FixedClock) -> None:
    canteen = campaign_world.canteen
    canteen.families.add_child(ADMIN, "concerto", THEO)
    canteen.enrollments.enroll(
        ADMIN,
        "concerto",
        "theo",
        service="rs",
        site="ronde",
        booking_policy=campaign_world.alban.booking_policy,
        school_year=2023,
        enrollment_id="e-theo",
    )
    _book_mondays_and_thursdays(campaign_world)
    clock.set(MAY)
    opened = canteen.campaigns.open_reenrollment(
        ADMIN, school_year=2024, deadline=date(2024, 6, 15)
    )
    campaign = opened.campaign
    assert campaign.title == "Réinscriptions 2024-2025"
    by_child = {a.child_id: a for a in opened.answers}
    assert set(by_child) == {"alban", "zoe", "lea"}  # Théo goes to the collège
    assert by_child["alban"].level == "CM1"
    assert by_child["zoe"].level == "CE1"
    assert by_child["alban"].weekdays == (0, 3)  # Mondays and Thursdays, as this year
    assert by_child["zoe"].weekdays is None
    (mail, *_) = _mails(canteen, "reenrollment-opened")
    assert "2024-2025" in mail.text_body  # type: ignore[attr-defined]

    # The families answer; another household's answer is not found.
    with pytest.raises(NotFoundError):
        canteen.campaigns.confirm(OTHER, by_child["alban"].id)
    (mine,) = canteen.campaigns.of_household(PAYER, "concerto")
    assert {a.child_id for a in mine.answers} == {"alban", "zoe"}
    confirmed = canteen.campaigns.confirm(PAYER, by_child["alban"].id)
    assert confirmed.state is AnswerState.CONFIRMED
    assert confirmed.weekdays == (0, 3)
    canteen.campaigns.confirm(PAYER, by_child["zoe"].id, weekdays=[1])
    canteen.campaigns.decline(PAYER, by_child["zoe"].id)  # changed their mind
    with pytest.raises(InvalidInputError, match="jours de la semaine"):
        canteen.campaigns.confirm(PAYER, by_child["zoe"].id, weekdays=[9])
    # A weekday the service never runs on is refused at once, not dropped at the rollover.
    with pytest.raises(InvalidInputError, match="n'a pas lieu le mercredi"):
        canteen.campaigns.confirm(PAYER, by_child["zoe"].id, weekdays=[1, 2])
    assert canteen.campaigns.progress(ADMIN, campaign.id).answers  # still answerable

    with pytest.raises(RuleViolationError):
        canteen.campaigns.close(ADMIN, campaign.id)
    clock.set(datetime(2024, 6, 16, 9, 0, tzinfo=UTC))
    with pytest.raises(RuleViolationError, match="terminée"):
        canteen.campaigns.confirm(OTHER, by_child["lea"].id)
    before = len(canteen.enrollments.list_enrollments(ADMIN))
    closed = canteen.campaigns.close(ADMIN, campaign.id)
    assert _states(canteen, campaign.id) == {
        "concerto/alban": AnswerState.ENROLLED,
        "concerto/zoe": AnswerState.DECLINED,
        "voisins/lea": AnswerState.NOT_RENEWED,
    }
    (alban,) = [a for a in closed.answers if a.child_id == "alban"]
    assert alban.booked
    new = canteen.enrollments.get(PAYER, alban.new_enrollment_id or "")
    assert new.start == date(2024, 9, 2)  # the rentrée 2024
    assert new.site.id == "ronde"
    assert new.tariff_category == campaign_world.alban.tariff_category
    booked = canteen.reservations.booked_days(PAYER, new.id)
    assert booked
    assert {day.weekday() for day in booked} == {0, 3}
    assert len(canteen.enrollments.list_enrollments(ADMIN)) == before + 1
    # Twice: nothing more.
    again = canteen.campaigns.close(ADMIN, campaign.id)
    assert again.answers == closed.answers
    assert len(canteen.enrollments.list_enrollments(ADMIN)) == before + 1
    assert canteen.campaigns.of_household(PAYER, "concerto") == ()


def test_rollover_never_enrolls_a_child_twice(campaign_world: World, clock: FixedClock) -> None:
    canteen = campaign_world.canteen
    clock.set(MAY)
    campaign = canteen.campaigns.open_reenrollment(
        ADMIN, school_year=2024, deadline=date(2024, 6, 15), keep_periodicities=False
    ).campaign
    lea = next(
        a for a in canteen.campaigns.progress(ADMIN, campaign.id).answers if a.child_id == "lea"
    )
    canteen.campaigns.confirm(OTHER, lea.id)
    # Meanwhile the commune enrolled Léa for next year by hand.
    direct = canteen.enrollments.enroll(
        ADMIN,
        "voisins",
        "lea",
        service="rs",
        site="ronde",
        booking_policy=campaign_world.lea.booking_policy,
        school_year=2024,
    )
    clock.set(datetime(2024, 6, 20, 9, 0, tzinfo=UTC))
    closed = canteen.campaigns.close(ADMIN, campaign.id)
    (settled,) = [a for a in closed.answers if a.child_id == "lea"]
    assert settled.state is AnswerState.ENROLLED
    assert settled.new_enrollment_id == direct.id
    lea_2024 = [
        e for e in canteen.enrollments.of_household(ADMIN, "voisins") if e.start >= date(2024, 8, 1)
    ]
    assert lea_2024 == [direct]


def test_bad_reenrollments_are_refused_and_store_nothing(
    campaign_world: World, clock: FixedClock
) -> None:
    canteen = campaign_world.canteen
    clock.set(MAY)
    with pytest.raises(InvalidInputError, match="année scolaire suivante"):
        canteen.campaigns.open_reenrollment(ADMIN, school_year=2023, deadline=date(2024, 6, 1))
    with pytest.raises(InvalidInputError, match="précéder le 01/08/2024"):
        canteen.campaigns.open_reenrollment(ADMIN, school_year=2024, deadline=date(2024, 9, 1))
    with pytest.raises(NotAuthorizedError):
        canteen.campaigns.open_reenrollment(STAFF, school_year=2024, deadline=date(2024, 6, 1))
    with pytest.raises(NotAuthorizedError):
        canteen.campaigns.open_reenrollment(FINANCE, school_year=2024, deadline=date(2024, 6, 1))
    assert canteen.campaigns.list_campaigns(ADMIN) == ()
    canteen.campaigns.open_reenrollment(ADMIN, school_year=2024, deadline=date(2024, 6, 1))
    with pytest.raises(ConflictError, match="déjà ouverte"):
        canteen.campaigns.open_reenrollment(ADMIN, school_year=2024, deadline=date(2024, 6, 2))
    with pytest.raises(NotFoundError):
        canteen.campaigns.decline(PAYER, "unknown-answer")


_CHOICE = st.sampled_from(["confirm", "decline", "none"])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({"alban": _CHOICE, "zoe": _CHOICE, "lea": _CHOICE}), st.booleans())
def test_rollover_enrolls_each_confirmed_child_once(
    choices: dict[str, str], enrolled_meanwhile: bool
) -> None:
    clock = FixedClock(datetime(2023, 9, 1, 8, 0, tzinfo=UTC))
    with Canteen.in_memory(issuer=ISSUER, zone="C", clock=clock) as canteen:
        world = build_world(canteen)
        clock.set(MAY)
        campaign = canteen.campaigns.open_reenrollment(
            ADMIN, school_year=2024, deadline=date(2024, 6, 15)
        ).campaign
        for answer in canteen.campaigns.progress(ADMIN, campaign.id).answers:
            choice = choices[answer.child_id or ""]
            if choice == "confirm":
                canteen.campaigns.confirm(ADMIN, answer.id)
            elif choice == "decline":
                canteen.campaigns.decline(ADMIN, answer.id)
        if enrolled_meanwhile:
            canteen.enrollments.enroll(
                ADMIN,
                "voisins",
                "lea",
                service="rs",
                site="ronde",
                booking_policy=world.lea.booking_policy,
                school_year=2024,
            )
        clock.set(datetime(2024, 7, 1, 9, 0, tzinfo=UTC))
        first = canteen.campaigns.close(ADMIN, campaign.id)
        second = canteen.campaigns.close(ADMIN, campaign.id)
        assert first.answers == second.answers
        assert len(first.answers) == 3  # one answer per child asked, each settled once
        next_year = [
            e for e in canteen.enrollments.list_enrollments(ADMIN) if e.start >= date(2024, 8, 1)
        ]
        children = [e.child_id for e in next_year]
        assert len(children) == len(set(children))  # never two
        expected = {child for child, choice in choices.items() if choice == "confirm"}
        if enrolled_meanwhile:
            expected.add("lea")
        assert set(children) == expected
        for answer in first.answers:
            assert answer.state in SETTLED[CampaignKind.REENROLLMENT]


def test_a_household_export_and_erasure_cover_its_answers(
    keeping_world: World, clock: FixedClock
) -> None:
    canteen = keeping_world.canteen
    clock.set(NOVEMBER)
    campaign = canteen.campaigns.open_quotient(
        FINANCE, valid_from=NEW_YEAR, deadline=date(2023, 12, 15)
    ).campaign
    exported = canteen.privacy.export_household(ADMIN, "voisins").data
    (answer,) = exported["campaign_answers"]
    assert answer["campaign_id"] == campaign.id
    erased = canteen.privacy.erase_household(ADMIN, "voisins")
    assert dict(erased.removed)["réponses aux campagnes"] == 1
    remaining = canteen.campaigns.progress(FINANCE, campaign.id).answers
    assert [a.household_id for a in remaining] == ["concerto"]


def test_who_is_asked_and_who_is_reminded(keeping_world: World, clock: FixedClock) -> None:
    canteen = keeping_world.canteen
    # The Voisin quotient for 2024 is already on file: the family is not asked.
    canteen.families.set_family_quotient(
        FINANCE, "voisins", FamilyQuotient(value=Decimal("700"), valid_from=NEW_YEAR)
    )
    clock.set(NOVEMBER)
    opened = canteen.campaigns.open_quotient(
        FINANCE, valid_from=NEW_YEAR, deadline=date(2023, 12, 15)
    )
    assert [a.household_id for a in opened.answers] == ["concerto"]
    # CONCERTO uploads its attestation: not reviewed yet, but no reminder is sent.
    canteen.papers.upload(
        PAYER,
        "concerto",
        kind="attestation_caf",
        content=pdf_bytes("Attestation CAF"),
        file_name="caf.pdf",
        issued_on=date(2023, 11, 20),
        family_quotient=Decimal("480"),
    )
    assert canteen.campaigns.remind(FINANCE, opened.campaign.id) == ()
    # Accepted later, the attestation (dated before 1 January) still answers.
    (paper,) = canteen.papers.to_review(FINANCE)
    canteen.papers.accept(FINANCE, paper.id)
    (answer,) = canteen.campaigns.progress(FINANCE, opened.campaign.id).answers
    assert answer.state is AnswerState.ANSWERED
    assert answer.quotient == Decimal("480")
    assert answer.state_fr.startswith("nouveau quotient enregistré : attestation CAF")


def test_a_reenrollment_asking_a_day_without_service_books_the_others(
    campaign_world: World, clock: FixedClock
) -> None:
    """Periodicities now refuse a weekday the service never runs on: the rollover books a
    confirmed answer's served weekdays only, instead of failing every family's booking.
    Confirming such a weekday is refused now; an answer stored before still holds one."""
    canteen = campaign_world.canteen
    _book_mondays_and_thursdays(campaign_world)
    clock.set(MAY)
    opened = canteen.campaigns.open_reenrollment(
        ADMIN, school_year=2024, deadline=date(2024, 6, 15)
    )
    by_child = {a.child_id: a for a in opened.answers}
    with pytest.raises(InvalidInputError, match="n'a pas lieu le mercredi"):
        canteen.campaigns.confirm(PAYER, by_child["alban"].id, weekdays=[0, 2])
    with canteen.context.storage.unit_of_work() as uow:  # as an earlier version stored it
        uow.campaign_answers.save(
            confirm_enrollment(by_child["alban"], weekdays=[0, 2], by="payer", at=clock.now())
        )
        uow.commit()
    clock.set(datetime(2024, 6, 16, 9, 0, tzinfo=UTC))
    closed = canteen.campaigns.close(ADMIN, opened.campaign.id)
    (alban,) = [a for a in closed.answers if a.child_id == "alban"]
    assert alban.booked
    booked = canteen.reservations.booked_days(PAYER, alban.new_enrollment_id or "")
    assert {day.weekday() for day in booked} == {0}
