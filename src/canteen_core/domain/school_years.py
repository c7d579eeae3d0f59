"""Closing a school year: once its last month is billed, staff close the year and its days
are frozen.

A closed year (:class:`YearClosing`) refuses every change on its days, from families and staff
alike: no booking or cancellation, no roll call, no late change decided
(:func:`check_year_open`). Its invoices stay payable and each household's balance is carried
into the next year as it stands: the household account spans the years, so nothing is moved;
the closing records what was carried (how many invoices were still open, the amount due and
the credit held) for the régie's hand-over. A year closes only after its last day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

import attrs

from canteen_core.domain._validators import aware_datetime, check_year, non_empty_str
from canteen_core.domain.calendar_words import school_year_label
from canteen_core.domain.errors import ConflictError, InvalidInputError, RuleViolationError
from canteen_core.domain.money import Money

__all__ = ["YearClosing", "check_year_open", "close_year"]


def _school_year(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    check_year(value, attribute.name)


def _count(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError("nombre positif ou nul attendu", path=attribute.name)


def _money(_: object, attribute: attrs.Attribute[Money], value: object) -> None:
    if not isinstance(value, Money) or value.is_negative:
        raise InvalidInputError("montant positif ou nul attendu", path=attribute.name)


@attrs.frozen(kw_only=True)
class YearClosing:
    """School year ``school_year`` (its first calendar year: 2023 for 2023-2024) closed at
    ``closed_at`` by ``closed_by``, with what its households carried into the next year."""

    school_year: int = attrs.field(validator=_school_year)
    closed_at: datetime = attrs.field(validator=aware_datetime)
    closed_by: str = attrs.field(validator=non_empty_str)
    open_invoices: int = attrs.field(validator=_count)
    amount_due: Money = attrs.field(validator=_money)
    credit_held: Money = attrs.field(validator=_money)

    @property
    def id(self) -> str:
        """``"2023-2024"``: one closing per school year."""
        return school_year_label(self.school_year)

    def summary_fr(self) -> str:
        """``Année scolaire 2023-2024 clôturée : 12 factures non réglées (340,20 €) et
        55,00 € d'avoir reportés.``"""
        plural = "s" if self.open_invoices > 1 else ""
        return (
            f"Année scolaire {self.id} clôturée : {self.open_invoices} facture{plural} "
            f"non réglée{plural} ({self.amount_due.format_fr()}) et "
            f"{self.credit_held.format_fr()} d'avoir reportés sur l'année suivante."
        )


def close_year(
    school_year: int,
    last_day: date,
    *,
    today: date,
    closed: Mapping[int, YearClosing],
    balances: Iterable[tuple[int, Money, Money]],
    by: str,
    at: datetime,
) -> YearClosing:
    """The closing of ``school_year`` (whose last class day is ``last_day``) on ``today``;
    ``balances`` gives, per household, (open invoices, amount due, credit held).

    Refused before the day after ``last_day`` (families still book its days) and for a year
    already closed (:class:`ConflictError`)."""
    label = school_year_label(school_year)
    if school_year in closed:
        raise ConflictError(f"l'année scolaire {label} est déjà clôturée")
    if today <= last_day:
        raise RuleViolationError(
            f"l'année scolaire {label} ne peut être clôturée qu'après son dernier jour "
            f"({last_day.strftime('%d/%m/%Y')})"
        )
    rows = list(balances)
    return YearClosing(
        school_year=school_year,
        closed_at=at,
        closed_by=by,
        open_invoices=sum(count for count, _, _ in rows),
        amount_due=Money.sum(due for _, due, _ in rows),
        credit_held=Money.sum(credit for _, _, credit in rows),
    )


def check_year_open(closed: Iterable[int], school_year: int) -> None:
    """:class:`RuleViolationError` naming the year when ``school_year`` is closed."""
    if school_year in set(closed):
        raise RuleViolationError(
            f"l'année scolaire {school_year_label(school_year)} est clôturée : "
            "ses jours ne se modifient plus"
        )
