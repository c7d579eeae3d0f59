"""Authorization checks for reservations, change requests and attendance (one place).

A central :mod:`canteen_core.policy` is being written; the application services will route to
it. Until then every domain operation of the reservation engine calls the two functions below and
nothing else, so swapping them is a one-file change.

Rules: a family actor (guardian, co-representative) acts only on households listed in
``Actor.household_ids``; staff, admin and system act on any household. Instructing change
requests and recording attendance need staff or admin (system too for attendance imports).
"""

from __future__ import annotations

from canteen_core.actors import Actor, Role
from canteen_core.errors import NotAuthorizedError

__all__ = ["acts_as_commune", "ensure_may_act_for", "ensure_staff"]

_COMMUNE = (Role.STAFF, Role.ADMIN, Role.SYSTEM)
_FAMILY = (Role.GUARDIAN, Role.CO_REPRESENTATIVE)


def _check_actor(actor: object) -> Actor:
    if not isinstance(actor, Actor):
        raise NotAuthorizedError(f"an acting Actor is required, got {type(actor).__name__}")
    return actor


def acts_as_commune(actor: Actor) -> bool:
    """Whether ``actor`` acts for the commune (staff, admin, system): no household limit, no
    family deadlines."""
    return _check_actor(actor).has(*_COMMUNE)


def ensure_may_act_for(actor: Actor, household_id: str) -> None:
    """Raise :class:`NotAuthorizedError` unless ``actor`` may act on ``household_id``'s children."""
    actor = _check_actor(actor)
    if actor.has(*_COMMUNE):
        return
    if actor.has(*_FAMILY) and household_id in actor.household_ids:
        return
    raise NotAuthorizedError(f"user {actor.user_id!r} may not act on household {household_id!r}")


def ensure_staff(actor: Actor, action: str, *, allow_system: bool = False) -> None:
    """Raise :class:`NotAuthorizedError` unless ``actor`` is staff or admin (system if allowed)."""
    actor = _check_actor(actor)
    roles = (Role.STAFF, Role.ADMIN, Role.SYSTEM) if allow_system else (Role.STAFF, Role.ADMIN)
    if not actor.has(*roles):
        raise NotAuthorizedError(f"user {actor.user_id!r} may not {action}: staff only")
