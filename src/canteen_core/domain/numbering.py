"""Document numbering: invoice and credit-note numbers are unique and gapless per issuer
(régie), year and prefix (``2023-000123``, ``AV-2023-000001``).

:class:`NumberSequence` is a pure allocator: given the last number used it returns the next
ones and the new state; storage keeps it and makes it concurrency-safe. Re-exported by
:mod:`canteen_core.domain.invoicing`.
"""

from __future__ import annotations

from datetime import date

import attrs

from canteen_core.domain._validators import non_empty_str, non_negative_int
from canteen_core.domain.errors import InvalidInputError

__all__ = ["NumberSequence", "check_sequence", "non_negative_int", "parse_number"]


def _year(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1900 < value < 10000:
        raise InvalidInputError(f"not a year: {value!r}", path=attribute.name)


@attrs.frozen(kw_only=True)
class NumberSequence:
    """The numbering state of one issuer, year and kind: the last number used.

    >>> seq = NumberSequence(issuer_id="regie", year=2023, last_used=122)
    >>> numbers, seq = seq.allocate(2)
    >>> numbers, seq.last_used
    (('2023-000123', '2023-000124'), 124)
    """

    issuer_id: str = attrs.field(validator=non_empty_str)
    year: int = attrs.field(validator=_year)
    last_used: int = attrs.field(default=0, validator=non_negative_int)
    prefix: str = ""

    def format(self, number: int) -> str:
        """The printed number: ``{prefix}{year}-{number:06d}``."""
        return f"{self.prefix}{self.year}-{number:06d}"

    def allocate(self, count: int = 1) -> tuple[tuple[str, ...], NumberSequence]:
        """The next ``count`` numbers and the advanced sequence (nothing is skipped)."""
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidInputError(f"count must be a non-negative integer, got {count!r}")
        numbers = tuple(self.format(self.last_used + i) for i in range(1, count + 1))
        return numbers, attrs.evolve(self, last_used=self.last_used + count)

    @classmethod
    def first(cls, issuer_id: str, year: int, *, prefix: str = "") -> NumberSequence:
        """The sequence of a year nothing was numbered in yet."""
        return cls(issuer_id=issuer_id, year=year, last_used=0, prefix=prefix)


def parse_number(text: str, *, prefix: str = "") -> tuple[int, int]:
    """``"2023-000123"`` -> ``(2023, 123)``; :class:`InvalidInputError` if malformed."""
    body = text[len(prefix) :] if prefix and text.startswith(prefix) else text
    year, sep, number = body.partition("-")
    if (
        not sep
        or (prefix and not text.startswith(prefix))
        or not (year.isdigit() and len(year) == 4)
        or not (number.isdigit() and len(number) >= 6)
    ):
        raise InvalidInputError(f"malformed document number {text!r}", path="number")
    return int(year), int(number)


def check_sequence(sequence: NumberSequence, issuer_id: str, day: date, prefix: str) -> None:
    """Refuse ``sequence`` unless it is the one of ``issuer_id``, ``prefix`` and the year of
    ``day`` (:class:`InvalidInputError`)."""
    if not isinstance(sequence, NumberSequence):
        raise InvalidInputError("expected a NumberSequence", path="sequence")
    if sequence.issuer_id != issuer_id:
        raise InvalidInputError(
            f"sequence of issuer {sequence.issuer_id!r} used for issuer {issuer_id!r}",
            path="sequence",
        )
    if sequence.prefix != prefix:
        raise InvalidInputError(
            f"sequence prefix {sequence.prefix!r}, expected {prefix!r}", path="sequence"
        )
    if sequence.year != day.year:
        # Never roll over silently: storage must load the row of the document's year, or the
        # numbers of that year could be reused.
        raise InvalidInputError(
            f"a document dated {day.isoformat()} needs the {day.year} sequence, "
            f"not {sequence.year} (NumberSequence.first(...) if the year has none yet)",
            path="sequence",
        )
