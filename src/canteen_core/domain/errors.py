"""The library's error hierarchy.

Every error canteen raises on purpose derives from :class:`CanteenError`, so a portal can catch
one class. Subclasses say what kind of failure it was, which maps naturally to HTTP statuses
(invalid input 422, rule violation 409/422, not found 404, not authorized 403, conflict 409).
"""

from __future__ import annotations

from decimal import Decimal

__all__ = [
    "AlreadyDecidedError",
    "CanteenError",
    "ConfigurationError",
    "ConflictError",
    "CreditHeldError",
    "DuplicateRequestError",
    "InvalidInputError",
    "NotAuthorizedError",
    "NotFoundError",
    "RuleViolationError",
    "StorageError",
]


class CanteenError(Exception):
    """Base class of every error raised by canteen."""


class InvalidInputError(CanteenError, ValueError):
    """Input is malformed or out of range (a float amount, an unknown zone, a bad date).

    ``path`` names the offending field when known (``"households[3].children[0].birth_date"``).
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        self.message = message  # without the path, to re-raise under a longer path
        super().__init__(f"{path}: {message}" if path else message)


class RuleViolationError(CanteenError):
    """Input is well formed but a domain rule forbids the operation (a deadline has passed)."""


class CreditHeldError(RuleViolationError):
    """Refused because household ``household_id`` still holds ``credit`` (money of the family's,
    a Decimal in euros) that must be paid back first (an erasure would orphan it). The message
    says so in French; ``credit`` lets a driving adapter name its own way to refund it."""

    def __init__(self, message: str, *, household_id: str, credit: Decimal) -> None:
        self.household_id = household_id
        self.credit = credit
        super().__init__(message)


class NotFoundError(CanteenError, LookupError):
    """A referenced object (child, invoice, adapter...) does not exist."""


class NotAuthorizedError(CanteenError, PermissionError):
    """The acting user may not perform the operation."""


class ConflictError(CanteenError):
    """The operation collides with a concurrent change or with existing data."""


class AlreadyDecidedError(ConflictError):
    """A request (a late change, an enrollment request) was already decided or withdrawn, so
    it cannot be decided or withdrawn again; nothing changed. The message says how and when it
    was decided, in French (``Cette demande a déjà été traitée (acceptée le ...)``)."""


class DuplicateRequestError(ConflictError):
    """The same request is already pending (one enrollment request per child, service and
    school year); nothing was stored. The message names it, in French."""


class ConfigurationError(InvalidInputError):
    """A deployment file, a plugin or an adapter setting is wrong."""


class StorageError(CanteenError):
    """The storage backend failed (connection lost, database unavailable); nothing was committed."""
