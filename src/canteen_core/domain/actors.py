"""Who is acting: every use case takes an :class:`Actor` and checks it against the policy."""

from __future__ import annotations

import enum
from collections.abc import Iterable

import attrs

from canteen_core.domain._validators import non_empty_str

__all__ = ["Actor", "Role"]


class Role(enum.StrEnum):
    """What an account may do (see :mod:`canteen_core.domain.policy`)."""

    GUARDIAN = "guardian"  # payer of a household (représentant légal)
    CO_REPRESENTATIVE = "co_representative"
    STAFF = "staff"  # instructs change requests, records attendance
    FINANCE = "finance"  # billing and payments
    ADMIN = "admin"
    SYSTEM = "system"  # scheduled jobs, provider notifications, the demo


def _roles(items: Iterable[Role | str]) -> frozenset[Role]:
    return frozenset(Role(item) for item in items)


def _ids(items: Iterable[str]) -> frozenset[str]:
    return frozenset(items)


@attrs.frozen(kw_only=True)
class Actor:
    """The user on whose behalf an operation runs.

    ``household_ids`` lists the households a guardian or co-representative belongs to (a
    separated parent may belong to several); it is empty for staff roles.
    """

    user_id: str = attrs.field(validator=non_empty_str)
    roles: frozenset[Role] = attrs.field(converter=_roles)
    household_ids: frozenset[str] = attrs.field(default=frozenset(), converter=_ids)

    @classmethod
    def guardian(cls, user_id: str, *household_ids: str) -> Actor:
        """A family member acting on the given households."""
        return cls(user_id=user_id, roles={Role.GUARDIAN}, household_ids=household_ids)

    @classmethod
    def staff(cls, user_id: str, *roles: Role) -> Actor:
        """A commune employee with ``roles`` (default: staff)."""
        return cls(user_id=user_id, roles=roles or {Role.STAFF})

    @classmethod
    def system(cls) -> Actor:
        """The library itself (scheduled runs, provider notifications)."""
        return cls(user_id="system", roles={Role.SYSTEM})

    def has(self, *roles: Role) -> bool:
        """Whether the actor holds any of ``roles``."""
        return not self.roles.isdisjoint(roles)

    @property
    def is_family(self) -> bool:
        """A guardian or co-representative (as opposed to commune staff)."""
        return self.has(Role.GUARDIAN, Role.CO_REPRESENTATIVE) and not self.has(
            Role.STAFF, Role.FINANCE, Role.ADMIN, Role.SYSTEM
        )
