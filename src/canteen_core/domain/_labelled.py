"""String enums whose members carry their French label (private: not public API).

A member is declared with its stored value and its label side by side,
``STARTER = "starter", "Entrée"``, instead of an enum plus a separate ``{member: label}``
table that must be kept in step with it. The value alone is what is stored and serialized:
``Course("starter")`` and ``Course.STARTER.value == "starter"`` work as for any ``StrEnum``.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Self

__all__ = ["LabelledEnum"]


class LabelledEnum(enum.StrEnum):
    """A ``StrEnum`` whose members are ``value, label`` pairs; ``member.label`` is the label."""

    _value_: str
    #: The French label families and staff read.
    label: str

    if TYPE_CHECKING:
        # Once the class is built, looking a member up takes its value alone
        # (``Course("starter")``): that is what callers see. The two-argument form below
        # only declares the members.
        def __new__(cls, value: object) -> Self: ...

    else:

        def __new__(cls, value: str, label: str) -> Self:
            member = str.__new__(cls, value)
            member._value_ = value
            member.label = label
            return member

    @property
    def label_fr(self) -> str:
        """The :attr:`label` (the name templates, statements and receipts use)."""
        return self.label
