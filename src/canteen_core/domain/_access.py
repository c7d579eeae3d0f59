"""Authorization checks of the reservation engine, delegated to :mod:`canteen_core.domain.policy`.

The application services authorize every use case with :func:`canteen_core.domain.policy.authorize`;
the domain operations check again (defence in depth) through these helpers, so the policy module
stays the one place that decides who may do what.
"""

from __future__ import annotations

from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.errors import NotAuthorizedError
from canteen_core.domain.policy import Action, authorize

__all__ = ["acts_as_commune", "ensure_allowed", "ensure_may_act_for"]

_COMMUNE = (Role.STAFF, Role.FINANCE, Role.ADMIN, Role.SYSTEM)


def _check_actor(actor: object) -> Actor:
    if not isinstance(actor, Actor):
        raise NotAuthorizedError(
            f"Accès refusé : un utilisateur (Actor) est attendu, pas {type(actor).__name__}."
        )
    return actor


def acts_as_commune(actor: Actor) -> bool:
    """Whether ``actor`` acts for the commune: no household limit and no family deadlines."""
    return _check_actor(actor).has(*_COMMUNE)


def ensure_may_act_for(actor: Actor, household_id: str, action: Action = Action.BOOK_MEALS) -> None:
    """Raise :class:`NotAuthorizedError` unless ``actor`` may do ``action`` on ``household_id``.

    The default, booking, has the same grants as cancelling and applying a periodicity.
    """
    authorize(_check_actor(actor), action, household_id=household_id)


def ensure_allowed(actor: Actor, action: Action) -> None:
    """Raise :class:`NotAuthorizedError` unless the policy allows ``action`` to ``actor``."""
    authorize(_check_actor(actor), action)
