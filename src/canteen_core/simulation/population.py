"""The households a simulation prices (:class:`Population`), built from records or CSV text."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

import attrs

from canteen_core.config.serialization.csv_table import missing_columns, read_csv_table
from canteen_core.domain._validators import first_repeated, non_negative_int
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.money import format_number_fr, to_decimal
from canteen_core.simulation.extras import notebook_module

_ZERO = Decimal(0)


def _optional_qf(value: object) -> Decimal | None:
    if value is None:
        return None
    result = to_decimal(value, path="quotient")
    if result < 0:
        raise InvalidInputError(
            f"le QF ne doit pas être négatif (reçu {format_number_fr(result)})", path="quotient"
        )
    return result


def _meals(value: object) -> Decimal:
    result = to_decimal(value, path="meals_per_month")
    if result < 0:
        raise InvalidInputError(
            "le nombre de repas par mois ne doit pas être négatif "
            f"(reçu {format_number_fr(result)})",
            path="meals_per_month",
        )
    return result


@attrs.frozen(kw_only=True)
class PopulationHousehold:
    """One household of a simulated population (``quotient=None``: no QF on file)."""

    id: str
    quotient: Decimal | None = attrs.field(converter=_optional_qf)
    children: int = attrs.field(validator=non_negative_int)
    meals_per_month: Decimal = attrs.field(converter=_meals)
    resident: bool = True


_TRUE = {"1", "true", "vrai", "oui", "yes", "o", "y"}

_FALSE = {"0", "false", "faux", "non", "no", "n"}

_COLUMNS = ("household_id", "qf", "children", "meals_per_month")


@attrs.frozen(kw_only=True, eq=False)
class Population:
    """Households stored column by column (no per-household objects while simulating)."""

    ids: tuple[str, ...]
    quotients: tuple[Decimal | None, ...]
    children: tuple[int, ...]
    meals_per_month: tuple[Decimal, ...]
    resident: tuple[bool, ...]
    # Computed once per population, reused by every grid: the distinct QF values, the distinct
    # (children, meals) pairs, and per household a "profile" code (QF index x 2 + resident) and
    # a (children, meals) code. Simulations then work on small ints, not on Decimals.
    _qf_values: tuple[Decimal | None, ...] = attrs.field(init=False, repr=False)
    _profiles: tuple[int, ...] = attrs.field(init=False, repr=False)
    _usage_values: tuple[tuple[int, Decimal], ...] = attrs.field(init=False, repr=False)
    _usage_codes: tuple[int, ...] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        sizes = {
            len(self.ids),
            len(self.quotients),
            len(self.children),
            len(self.meals_per_month),
            len(self.resident),
        }
        if len(sizes) != 1:
            raise InvalidInputError("les colonnes de la population n'ont pas la même longueur")
        if len(set(self.ids)) != len(self.ids):
            raise InvalidInputError(
                f"le foyer {first_repeated(self.ids)} figure deux fois dans la population",
                path="ids",
            )
        qf_index: dict[Decimal | None, int] = {}
        usage_index: dict[tuple[int, Decimal], int] = {}
        profiles = [
            qf_index.setdefault(q, len(qf_index)) * 2 + (1 if r else 0)
            for q, r in zip(self.quotients, self.resident, strict=True)
        ]
        usages = [
            usage_index.setdefault(pair, len(usage_index))
            for pair in zip(self.children, self.meals_per_month, strict=True)
        ]
        object.__setattr__(self, "_qf_values", tuple(qf_index))
        object.__setattr__(self, "_profiles", tuple(profiles))
        object.__setattr__(self, "_usage_values", tuple(usage_index))
        object.__setattr__(self, "_usage_codes", tuple(usages))

    @classmethod
    def from_records(cls, records: Iterable[PopulationHousehold]) -> Population:
        """Build from :class:`PopulationHousehold` records."""
        items = list(records)
        for index, item in enumerate(items):
            if not isinstance(item, PopulationHousehold):
                raise InvalidInputError("expected PopulationHousehold", path=f"records[{index}]")
        return cls(
            ids=tuple(i.id for i in items),
            quotients=tuple(i.quotient for i in items),
            children=tuple(i.children for i in items),
            meals_per_month=tuple(i.meals_per_month for i in items),
            resident=tuple(i.resident for i in items),
        )

    @classmethod
    def from_csv_text(cls, text: str) -> Population:
        """Parse CSV text with a header row.

        Columns: ``household_id``, ``qf`` (empty: no QF on file), ``children``,
        ``meals_per_month`` and optionally ``resident`` (1/0, true/false, oui/non; default yes).
        The separator is ``,`` or ``;`` (French spreadsheets); with ``;`` decimals may use a
        comma (``812,50``). Errors name the line and column.
        """
        if not isinstance(text, str):
            raise InvalidInputError("expected CSV text", path="text")
        reader = read_csv_table(text)
        missing = missing_columns(reader, _COLUMNS)
        if missing:
            raise InvalidInputError(
                f"colonnes manquantes dans le fichier CSV : {', '.join(missing)}", path="header"
            )
        records: list[PopulationHousehold] = []
        for line, row in enumerate(reader, start=2):
            records.append(_parse_row(row, line))
        return cls.from_records(records)

    @classmethod
    def synthetic(cls, size: int, *, seed: int = 0) -> Population:
        """A reproducible made-up population (for notebooks, demos and benchmarks).

        QFs spread from 0 to about 3,000 EUR (5 % without QF), 1 to 4 children, 8 to 16 meals
        per child per month, 90 % residents.
        """
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidInputError("size must be a non-negative integer", path="size")
        rng = random.Random(seed)
        quotients: list[Decimal | None] = []
        for _ in range(size):
            if rng.random() < 0.05:
                quotients.append(None)
            else:
                quotients.append(Decimal(int(rng.triangular(0, 3200, 900))))
        return cls(
            ids=tuple(f"H{i:06d}" for i in range(size)),
            quotients=tuple(quotients),
            children=tuple(rng.choice((1, 1, 2, 2, 2, 3, 3, 4)) for _ in range(size)),
            meals_per_month=tuple(Decimal(rng.randint(8, 16)) for _ in range(size)),
            resident=tuple(rng.random() < 0.9 for _ in range(size)),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def __iter__(self) -> Iterator[PopulationHousehold]:
        for hid, qf, kids, meals, res in zip(
            self.ids, self.quotients, self.children, self.meals_per_month, self.resident,
            strict=True,
        ):  # fmt: skip
            yield PopulationHousehold(
                id=hid, quotient=qf, children=kids, meals_per_month=meals, resident=res
            )


def _parse_row(row: dict[str, Any], line: int) -> PopulationHousehold:
    def cell(name: str) -> str:
        value = row.get(name)
        return "" if value is None else str(value).strip()

    try:
        hid = cell("household_id")
        if not hid:
            raise InvalidInputError("household_id est vide", path="household_id")
        qf_text = cell("qf")
        children_text = cell("children")
        if not children_text.isdigit():
            raise InvalidInputError(
                f"children : « {children_text} » n'est pas un nombre entier d'enfants",
                path="children",
            )
        resident_text = cell("resident").lower()
        if resident_text in _TRUE or resident_text == "":
            resident = True
        elif resident_text in _FALSE:
            resident = False
        else:
            raise InvalidInputError(
                f"resident : « {resident_text} » au lieu de oui ou non", path="resident"
            )
        return PopulationHousehold(
            id=hid,
            quotient=qf_text or None,
            children=int(children_text),
            meals_per_month=cell("meals_per_month"),
            resident=resident,
        )
    except InvalidInputError as error:
        raise InvalidInputError(
            f"ligne {line} : {error.message}",
            path=f"line {line}" + (f".{error.path}" if error.path else ""),
        ) from None


def _require_pandas() -> Any:
    return notebook_module("pandas", "to_dataframe()")
