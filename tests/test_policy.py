"""The authorization matrix: every action for every role, own and other households."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_core.domain import policy
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.errors import InvalidInputError, NotAuthorizedError
from canteen_core.domain.policy import ACTION_LABELS, Action, authorize, is_allowed

G, C, S, F, AD, SY = (
    Role.GUARDIAN,
    Role.CO_REPRESENTATIVE,
    Role.STAFF,
    Role.FINANCE,
    Role.ADMIN,
    Role.SYSTEM,
)
OWN, ANY = "own", "any"

# Written independently of the module on purpose: a change of policy must change this table.
EXPECTED: dict[Action, dict[Role, str]] = {
    Action.VIEW_HOUSEHOLD: {G: OWN, C: OWN, S: ANY, F: ANY, AD: ANY, SY: ANY},
    Action.UPDATE_HOUSEHOLD: {G: OWN, AD: ANY},
    Action.VIEW_RESERVATIONS: {G: OWN, C: OWN, S: ANY, F: ANY, AD: ANY, SY: ANY},
    Action.BOOK_MEALS: {G: OWN, C: OWN, AD: ANY},
    Action.CANCEL_MEALS: {G: OWN, C: OWN, AD: ANY},
    Action.APPLY_PERIODICITY: {G: OWN, C: OWN, AD: ANY},
    Action.VIEW_CHANGE_REQUESTS: {G: OWN, C: OWN, S: ANY, AD: ANY},
    Action.DECIDE_CHANGE_REQUEST: {S: ANY, AD: ANY},
    Action.REQUEST_ENROLLMENT: {G: OWN, C: OWN, AD: ANY},
    Action.DECIDE_ENROLLMENT_REQUEST: {S: ANY, AD: ANY},
    Action.RECORD_ATTENDANCE: {S: ANY, AD: ANY},
    Action.VIEW_HEADCOUNT: {S: ANY, AD: ANY, SY: ANY},
    Action.VIEW_INVOICES: {G: OWN, C: OWN, F: ANY, AD: ANY, SY: ANY},
    Action.PAY_ONLINE: {G: OWN, C: OWN, AD: ANY},
    Action.MANAGE_DIRECT_DEBIT: {G: OWN, F: ANY, AD: ANY},
    Action.VIEW_PAYMENTS: {G: OWN, C: OWN, F: ANY, AD: ANY, SY: ANY},
    Action.RUN_BILLING: {F: ANY, AD: ANY, SY: ANY},
    Action.ISSUE_CREDIT_NOTE: {F: ANY, AD: ANY},
    Action.RECORD_PAYMENT: {F: ANY, AD: ANY, SY: ANY},
    Action.EXPORT_SEPA: {F: ANY, AD: ANY, SY: ANY},
    Action.SEND_REMINDERS: {F: ANY, AD: ANY, SY: ANY},
    Action.MANAGE_FAMILY_QUOTIENT: {F: ANY, AD: ANY},
    Action.VIEW_REPORTS: {F: ANY, AD: ANY},
    Action.MANAGE_HOUSEHOLDS: {AD: ANY},
    Action.MANAGE_ENROLLMENTS: {AD: ANY},
    Action.MANAGE_TARIFFS: {AD: ANY},
    Action.MANAGE_CALENDAR: {AD: ANY},
    Action.INVITE_ACCOUNT: {AD: ANY},
    Action.MANAGE_ACCOUNTS: {AD: ANY},
    Action.SEND_OUTBOX: {AD: ANY, SY: ANY},
    Action.VIEW_OUTBOX: {AD: ANY},
    Action.SUBMIT_DOCUMENTS: {G: OWN, C: OWN, AD: ANY},
    Action.VIEW_DOCUMENTS: {G: OWN, C: OWN, S: ANY, F: ANY, AD: ANY},
    Action.REVIEW_DOCUMENTS: {S: ANY, F: ANY, AD: ANY},
    Action.VIEW_AUDIT: {AD: ANY},
    Action.MANAGE_PERSONAL_DATA: {AD: ANY},
    Action.APPLY_RETENTION: {AD: ANY, SY: ANY},
    Action.PUBLISH_MENUS: {S: ANY, AD: ANY},
}

OWN_HOUSEHOLD = "h-own"
OTHER_HOUSEHOLD = "h-other"


def actor_with(role: Role) -> Actor:
    households = (OWN_HOUSEHOLD,) if role in (G, C) else ()
    return Actor(user_id=f"user-{role.value}", roles={role}, household_ids=households)


def test_expected_table_covers_every_action() -> None:
    assert set(EXPECTED) == set(Action)


CASES = [
    pytest.param(action, role, id=f"{action.value}-{role.value}")
    for action in Action
    for role in Role
]


@pytest.mark.parametrize(("action", "role"), CASES)
def test_matrix(action: Action, role: Role) -> None:
    actor = actor_with(role)
    grant = EXPECTED[action].get(role)
    own = is_allowed(actor, action, household_id=OWN_HOUSEHOLD)
    other = is_allowed(actor, action, household_id=OTHER_HOUSEHOLD)
    unscoped = is_allowed(actor, action)
    if grant == ANY:
        assert (own, other, unscoped) == (True, True, True)
        authorize(actor, action, household_id=OTHER_HOUSEHOLD)
    elif grant == OWN:
        # A guardian acts on their own household only, and must say which one.
        assert (own, other, unscoped) == (True, False, False)
        authorize(actor, action, household_id=OWN_HOUSEHOLD)
        with pytest.raises(NotAuthorizedError, match=f"permise sur le foyer {OTHER_HOUSEHOLD}"):
            authorize(actor, action, household_id=OTHER_HOUSEHOLD)
        with pytest.raises(NotAuthorizedError, match="doit nommer le foyer concerné"):
            authorize(actor, action)
    else:
        assert (own, other, unscoped) == (False, False, False)
        with pytest.raises(NotAuthorizedError) as refused:
            authorize(actor, action, household_id=OWN_HOUSEHOLD)
        # One French line naming the action and the role.
        message = str(refused.value)
        assert message.startswith("Accès refusé à l'utilisateur ")
        assert f"« {ACTION_LABELS[action]} » n'est pas permise au rôle " in message
        assert "\n" not in message
        assert action.value not in message


def test_guardian_of_two_households_acts_on_both_but_not_a_third() -> None:
    parent = Actor.guardian("u1", "h1", "h2")
    assert is_allowed(parent, Action.VIEW_INVOICES, household_id="h1")
    assert is_allowed(parent, Action.VIEW_INVOICES, household_id="h2")
    assert not is_allowed(parent, Action.VIEW_INVOICES, household_id="h3")


def test_roles_combine() -> None:
    # A staff member who is also a parent: staff rights everywhere, family rights at home.
    both = Actor(user_id="u", roles={S, G}, household_ids={"h1"})
    assert is_allowed(both, Action.RECORD_ATTENDANCE)
    assert is_allowed(both, Action.BOOK_MEALS, household_id="h1")
    assert not is_allowed(both, Action.BOOK_MEALS, household_id="h2")
    assert is_allowed(both, Action.VIEW_HOUSEHOLD, household_id="h2")  # staff sees all


def test_actor_without_roles_is_denied_everything() -> None:
    nobody = Actor(user_id="u", roles=set())
    assert not any(is_allowed(nobody, action, household_id="h") for action in Action)
    with pytest.raises(NotAuthorizedError, match="sans rôle"):
        authorize(nobody, Action.VIEW_HOUSEHOLD, household_id="h")


def test_bad_input_is_rejected_clearly() -> None:
    with pytest.raises(InvalidInputError, match="unknown action 'fly'"):
        authorize(Actor.system(), "fly")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="expected an Actor"):
        is_allowed("admin", Action.VIEW_HOUSEHOLD)  # type: ignore[arg-type]
    # Actions may also be given by their value (e.g. from a config file).
    assert is_allowed(Actor.system(), "send_outbox")  # type: ignore[arg-type]


def test_not_authorized_is_a_permission_error() -> None:
    with pytest.raises(PermissionError):
        authorize(Actor.guardian("u", "h1"), Action.RUN_BILLING)


def test_docstring_matrix_matches_the_rules() -> None:
    doc = policy.__doc__ or ""
    lines = doc.splitlines()
    rulers = [i for i, line in enumerate(lines) if line.startswith("=====")]
    header, body_start, body_end = rulers[0] + 1, rulers[1] + 1, rulers[2]
    spans = [m.span() for m in re.finditer(r"=+", lines[rulers[0]])]
    columns = [lines[header][a:b].strip() for a, b in spans]
    assert columns == ["action", "guardian", "co-rep", "staff", "finance", "admin", "system"]
    roles = [G, C, S, F, AD, SY]
    documented: dict[Action, dict[Role, str]] = {}
    for line in lines[body_start:body_end]:
        cells = [line[a:b].strip() for a, b in spans[:-1]] + [line[spans[-1][0] :].strip()]
        grants = {
            role: (OWN if cell == "own" else ANY)
            for role, cell in zip(roles, cells[1:], strict=True)
            if cell
        }
        documented[Action(cells[0])] = grants
    assert documented == EXPECTED


def test_allowed_roles_lists_grants() -> None:
    grants = policy.allowed_roles(Action.MANAGE_DIRECT_DEBIT)
    assert {role: grant.value for role, grant in grants.items()} == {
        G: "own",
        F: "any",
        AD: "any",
    }
    assert Action.BOOK_MEALS in policy.HOUSEHOLD_SCOPED
    assert Action.RUN_BILLING not in policy.HOUSEHOLD_SCOPED


@given(
    roles=st.sets(st.sampled_from(Role)),
    households=st.sets(st.sampled_from(["h1", "h2", "h3"])),
    target=st.sampled_from(["h1", "h2", "h3"]),
    action=st.sampled_from(Action),
)
def test_allowed_iff_some_role_allows(
    roles: set[Role], households: set[str], target: str, action: Action
) -> None:
    actor = Actor(user_id="u", roles=roles, household_ids=households)
    expected = any(
        EXPECTED[action].get(role) == ANY
        or (EXPECTED[action].get(role) == OWN and target in households)
        for role in roles
    )
    assert is_allowed(actor, action, household_id=target) is expected
    # Never broader than the union of the single roles.
    singles = [
        is_allowed(
            Actor(user_id="u", roles={role}, household_ids=households),
            action,
            household_id=target,
        )
        for role in roles
    ]
    assert expected == any(singles)
