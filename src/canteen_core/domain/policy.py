"""Who may do what: the one place authorization is decided.

Every application service (use case) calls :func:`authorize` with the acting
:class:`~canteen_core.domain.actors.Actor`, the :class:`Action` it performs and, for actions on a
household's data, the household's id. Nothing else in the library decides permissions.

Rules
-----
* An actor may act when **any** of its roles allows the action.
* Family roles (guardian = payer, co-representative) act only on their own households
  (:attr:`Actor.household_ids`). For a household-scoped action a family actor must name the
  household (``household_id``); without it, or with another household's id, the action is denied.
  Commune roles are not limited to households.
* Admin may do everything. System (scheduled jobs, provider notifications, notifications
  rendering) does only what those jobs need.

Matrix (``own`` = only on the actor's own households, ``yes`` = any household, blank = denied)

========================== ======== ======== ===== ======= ===== ======
action                     guardian co-rep   staff finance admin system
========================== ======== ======== ===== ======= ===== ======
view_household             own      own      yes   yes     yes   yes
update_household           own                             yes
view_reservations          own      own      yes   yes     yes   yes
book_meals                 own      own                    yes
cancel_meals               own      own                    yes
apply_periodicity          own      own                    yes
view_change_requests       own      own      yes           yes
decide_change_request                        yes           yes
request_enrollment         own      own                    yes
decide_enrollment_request                    yes           yes
record_attendance                            yes           yes
view_headcount                               yes           yes   yes
view_invoices              own      own            yes     yes   yes
pay_online                 own      own                    yes
manage_direct_debit        own                     yes     yes
view_payments              own      own            yes     yes   yes
run_billing                                        yes     yes   yes
issue_credit_note                                  yes     yes
record_payment                                     yes     yes   yes
export_sepa                                        yes     yes   yes
send_reminders                                     yes     yes   yes
manage_family_quotient                             yes     yes
view_reports                                       yes     yes
manage_households                                          yes
manage_enrollments                                         yes
manage_tariffs                                             yes
manage_calendar                                            yes
invite_account                                             yes
manage_accounts                                            yes
send_outbox                                                yes   yes
view_outbox                                                yes
submit_documents           own      own                    yes
view_documents             own      own      yes   yes     yes
review_documents                             yes   yes     yes
view_audit                                                 yes
manage_personal_data                                       yes
apply_retention                                            yes   yes
publish_menus                                yes           yes
========================== ======== ======== ===== ======= ===== ======

Only the payer (guardian) changes the household's details and signs a direct-debit mandate: the
mandate debits the payer's bank account. The co-representative sees, books and pays.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.errors import InvalidInputError, NotAuthorizedError

__all__ = [
    "ACTION_LABELS",
    "HOUSEHOLD_SCOPED",
    "Action",
    "Grant",
    "allowed_roles",
    "authorize",
    "is_allowed",
]


class Action(enum.StrEnum):
    """Every use case the facade offers, as far as permissions are concerned."""

    VIEW_HOUSEHOLD = "view_household"
    UPDATE_HOUSEHOLD = "update_household"
    VIEW_RESERVATIONS = "view_reservations"
    BOOK_MEALS = "book_meals"
    CANCEL_MEALS = "cancel_meals"
    APPLY_PERIODICITY = "apply_periodicity"
    VIEW_CHANGE_REQUESTS = "view_change_requests"
    DECIDE_CHANGE_REQUEST = "decide_change_request"
    REQUEST_ENROLLMENT = "request_enrollment"
    DECIDE_ENROLLMENT_REQUEST = "decide_enrollment_request"
    RECORD_ATTENDANCE = "record_attendance"
    VIEW_HEADCOUNT = "view_headcount"
    VIEW_INVOICES = "view_invoices"
    PAY_ONLINE = "pay_online"
    MANAGE_DIRECT_DEBIT = "manage_direct_debit"
    VIEW_PAYMENTS = "view_payments"
    RUN_BILLING = "run_billing"
    ISSUE_CREDIT_NOTE = "issue_credit_note"
    RECORD_PAYMENT = "record_payment"
    EXPORT_SEPA = "export_sepa"
    SEND_REMINDERS = "send_reminders"
    MANAGE_FAMILY_QUOTIENT = "manage_family_quotient"
    VIEW_REPORTS = "view_reports"
    MANAGE_HOUSEHOLDS = "manage_households"
    MANAGE_ENROLLMENTS = "manage_enrollments"
    MANAGE_TARIFFS = "manage_tariffs"
    MANAGE_CALENDAR = "manage_calendar"
    INVITE_ACCOUNT = "invite_account"
    MANAGE_ACCOUNTS = "manage_accounts"
    SEND_OUTBOX = "send_outbox"
    VIEW_OUTBOX = "view_outbox"
    SUBMIT_DOCUMENTS = "submit_documents"
    VIEW_DOCUMENTS = "view_documents"
    REVIEW_DOCUMENTS = "review_documents"
    VIEW_AUDIT = "view_audit"
    MANAGE_PERSONAL_DATA = "manage_personal_data"
    APPLY_RETENTION = "apply_retention"
    PUBLISH_MENUS = "publish_menus"


#: Each action's French name (refusals, the audit trail's summaries).
ACTION_LABELS: Mapping[Action, str] = {
    Action.VIEW_HOUSEHOLD: "Consultation d'un foyer",
    Action.UPDATE_HOUSEHOLD: "Modification des coordonnées du foyer",
    Action.VIEW_RESERVATIONS: "Consultation des réservations",
    Action.BOOK_MEALS: "Réservation de repas",
    Action.CANCEL_MEALS: "Annulation de repas",
    Action.APPLY_PERIODICITY: "Application d'un planning de réservation",
    Action.VIEW_CHANGE_REQUESTS: "Consultation des demandes de modification",
    Action.DECIDE_CHANGE_REQUEST: "Décision sur une demande de modification",
    Action.REQUEST_ENROLLMENT: "Demande d'inscription",
    Action.DECIDE_ENROLLMENT_REQUEST: "Décision sur une demande d'inscription",
    Action.RECORD_ATTENDANCE: "Saisie de l'appel",
    Action.VIEW_HEADCOUNT: "Consultation des effectifs",
    Action.VIEW_INVOICES: "Consultation des factures",
    Action.PAY_ONLINE: "Paiement en ligne",
    Action.MANAGE_DIRECT_DEBIT: "Gestion du prélèvement automatique",
    Action.VIEW_PAYMENTS: "Consultation des paiements",
    Action.RUN_BILLING: "Facturation",
    Action.ISSUE_CREDIT_NOTE: "Émission d'un avoir",
    Action.RECORD_PAYMENT: "Enregistrement d'un paiement",
    Action.EXPORT_SEPA: "Export des prélèvements SEPA",
    Action.SEND_REMINDERS: "Envoi des relances",
    Action.MANAGE_FAMILY_QUOTIENT: "Modification du quotient familial",
    Action.VIEW_REPORTS: "Consultation des rapports",
    Action.MANAGE_HOUSEHOLDS: "Gestion des foyers",
    Action.MANAGE_ENROLLMENTS: "Gestion des inscriptions",
    Action.MANAGE_TARIFFS: "Gestion des tarifs",
    Action.MANAGE_CALENDAR: "Gestion du calendrier",
    Action.INVITE_ACCOUNT: "Invitation sur le portail",
    Action.MANAGE_ACCOUNTS: "Gestion des comptes du portail",
    Action.SEND_OUTBOX: "Envoi des courriels en attente",
    Action.VIEW_OUTBOX: "Consultation de la file des courriels",
    Action.SUBMIT_DOCUMENTS: "Dépôt de documents",
    Action.VIEW_DOCUMENTS: "Consultation des documents",
    Action.REVIEW_DOCUMENTS: "Examen de documents",
    Action.VIEW_AUDIT: "Consultation du journal d'audit",
    Action.MANAGE_PERSONAL_DATA: "Droits RGPD d'un foyer",
    Action.APPLY_RETENTION: "Application des durées de conservation",
    Action.PUBLISH_MENUS: "Publication des menus",
}

#: Each role's French name (refusals).
_ROLE_LABELS: Mapping[Role, str] = {
    Role.GUARDIAN: "responsable payeur",
    Role.CO_REPRESENTATIVE: "co-représentant",
    Role.STAFF: "agent",
    Role.FINANCE: "régie",
    Role.ADMIN: "administrateur",
    Role.SYSTEM: "système",
}


class Grant(enum.Enum):
    """How far a role's permission for an action reaches."""

    OWN_HOUSEHOLD = "own"  # only households listed in Actor.household_ids
    ANY = "any"


A = Action
_FAMILY_BOTH: tuple[Action, ...] = (
    A.VIEW_HOUSEHOLD,
    A.VIEW_RESERVATIONS,
    A.BOOK_MEALS,
    A.CANCEL_MEALS,
    A.APPLY_PERIODICITY,
    A.VIEW_CHANGE_REQUESTS,
    A.REQUEST_ENROLLMENT,
    A.VIEW_INVOICES,
    A.PAY_ONLINE,
    A.VIEW_PAYMENTS,
    A.SUBMIT_DOCUMENTS,
    A.VIEW_DOCUMENTS,
)

_RULES: Mapping[Role, Mapping[Action, Grant]] = {
    Role.GUARDIAN: {
        **dict.fromkeys(_FAMILY_BOTH, Grant.OWN_HOUSEHOLD),
        A.UPDATE_HOUSEHOLD: Grant.OWN_HOUSEHOLD,
        A.MANAGE_DIRECT_DEBIT: Grant.OWN_HOUSEHOLD,
    },
    Role.CO_REPRESENTATIVE: dict.fromkeys(_FAMILY_BOTH, Grant.OWN_HOUSEHOLD),
    Role.STAFF: dict.fromkeys(
        (
            A.VIEW_HOUSEHOLD,
            A.VIEW_RESERVATIONS,
            A.VIEW_CHANGE_REQUESTS,
            A.DECIDE_CHANGE_REQUEST,
            A.DECIDE_ENROLLMENT_REQUEST,
            A.RECORD_ATTENDANCE,
            A.VIEW_HEADCOUNT,
            A.VIEW_DOCUMENTS,
            A.REVIEW_DOCUMENTS,
            A.PUBLISH_MENUS,
        ),
        Grant.ANY,
    ),
    Role.FINANCE: dict.fromkeys(
        (
            A.VIEW_HOUSEHOLD,
            A.VIEW_RESERVATIONS,
            A.VIEW_INVOICES,
            A.MANAGE_DIRECT_DEBIT,
            A.VIEW_PAYMENTS,
            A.RUN_BILLING,
            A.ISSUE_CREDIT_NOTE,
            A.RECORD_PAYMENT,
            A.EXPORT_SEPA,
            A.SEND_REMINDERS,
            A.MANAGE_FAMILY_QUOTIENT,
            A.VIEW_REPORTS,
            A.VIEW_DOCUMENTS,
            A.REVIEW_DOCUMENTS,
        ),
        Grant.ANY,
    ),
    Role.ADMIN: dict.fromkeys(Action, Grant.ANY),
    Role.SYSTEM: dict.fromkeys(
        (
            A.VIEW_HOUSEHOLD,
            A.VIEW_RESERVATIONS,
            A.VIEW_HEADCOUNT,
            A.VIEW_INVOICES,
            A.VIEW_PAYMENTS,
            A.RUN_BILLING,
            A.RECORD_PAYMENT,
            A.EXPORT_SEPA,
            A.SEND_REMINDERS,
            A.SEND_OUTBOX,
            A.APPLY_RETENTION,
        ),
        Grant.ANY,
    ),
}
del A

#: Actions on one household's data: family roles need ``household_id`` to be theirs.
HOUSEHOLD_SCOPED: frozenset[Action] = frozenset(
    action
    for grants in _RULES.values()
    for action, grant in grants.items()
    if grant is Grant.OWN_HOUSEHOLD
)


def allowed_roles(action: Action) -> dict[Role, Grant]:
    """The roles that may perform ``action`` and how far (for documentation and UIs)."""
    action = _action(action)
    return {role: grants[action] for role, grants in _RULES.items() if action in grants}


def _action(action: object) -> Action:
    try:
        return Action(action)  # type: ignore[arg-type]  # validated right here
    except ValueError:
        valid = ", ".join(sorted(a.value for a in Action))
        raise InvalidInputError(
            f"unknown action {action!r}; valid actions: {valid}", path="action"
        ) from None


def _denial(actor: Actor, action: Action, household_id: str | None) -> str | None:
    """Why ``actor`` may not perform ``action`` (``None`` when allowed), in French."""
    family_grant = False
    for role in actor.roles:
        grant = _RULES.get(role, {}).get(action)
        if grant is Grant.ANY:
            return None
        if grant is Grant.OWN_HOUSEHOLD:
            family_grant = True
    what = f"l'action « {ACTION_LABELS[action]} »"
    if family_grant:
        if household_id is None:
            return f"{what} doit nommer le foyer concerné"
        if household_id in actor.household_ids:
            return None
        return f"{what} n'est pas permise sur le foyer {household_id}"
    roles = sorted(_ROLE_LABELS.get(role, role.value) for role in actor.roles)
    if not roles:
        return f"{what} n'est pas permise sans rôle"
    return f"{what} n'est pas permise {'au rôle' if len(roles) == 1 else 'aux rôles'} " + ", ".join(
        roles
    )


def is_allowed(actor: Actor, action: Action, *, household_id: str | None = None) -> bool:
    """Whether ``actor`` may perform ``action`` (on ``household_id`` when given).

    >>> is_allowed(Actor.guardian("u1", "h1"), Action.BOOK_MEALS, household_id="h1")
    True
    >>> is_allowed(Actor.guardian("u1", "h1"), Action.BOOK_MEALS, household_id="h2")
    False
    """
    if not isinstance(actor, Actor):
        raise InvalidInputError(f"expected an Actor, got {type(actor).__name__}", path="actor")
    return _denial(actor, _action(action), household_id) is None


def authorize(actor: Actor, action: Action, *, household_id: str | None = None) -> None:
    """Raise :class:`~canteen_core.domain.errors.NotAuthorizedError` unless ``actor`` may act.

    ``household_id`` names the household whose data the action reads or changes; it is required
    for family roles on household-scoped actions (:data:`HOUSEHOLD_SCOPED`) and ignored for
    commune roles.
    """
    if not isinstance(actor, Actor):
        raise InvalidInputError(f"expected an Actor, got {type(actor).__name__}", path="actor")
    reason = _denial(actor, _action(action), household_id)
    if reason is not None:
        raise NotAuthorizedError(f"Accès refusé à l'utilisateur {actor.user_id} : {reason}.")
