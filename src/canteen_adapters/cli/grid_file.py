"""Tariff grids in TOML files (``canteen simulate --grid GRID.toml``).

The format, one grid per file::

    id = "rs-2024"                  # optional, default: the file name without .toml
    service = "rs"                  # optional, default "rs"
    valid_from = 2024-09-01         # required (a TOML date)
    valid_until = 2025-08-31        # optional

    # One table per category priced: resident_child (required), non_resident_child, adult,
    # pai_basket, occasional_meal. Each is one of three kinds:

    [prices.resident_child]         # QF brackets: n prices, n - 1 thresholds where they change
    thresholds = [450, 700, 1000, 1500]
    prices = ["1.00", "2.10", "3.35", "4.05", "4.70"]
    no_qf_price = "4.70"            # optional: price without a QF on file (default: the highest)

    [prices.non_resident_child]     # flat price
    price = "5.60"

    [prices.adult]                  # effort rate: percent of the QF, clamped
    effort_rate = "0.36"            # 0.36 % of the QF: QF 1000 -> 3.60 EUR
    min = "1.00"
    max = "4.50"

    [[sibling_discounts]]           # optional: -20 % from the third child on
    from_rank = 3
    percent = 20

    [unbooked_surcharge]            # optional: a meal taken without booking
    add = "1.00"                    # or: percent = 50, or: price = "6.00"

Amounts are decimal strings or TOML numbers (a number is read through its shortest decimal
text, so ``3.35`` is exactly 3.35). A price in euros (``price``, ``prices``, ``no_qf_price``,
``min``, ``max``, a surcharge's ``add`` or ``price``) has at most two decimals, as
:class:`TariffGrid` requires from every caller; a percentage (``effort_rate``, ``percent``) may
have more. Every mistake is a
:class:`~canteen_core.domain.errors.ConfigurationError` naming the file and the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from canteen_adapters.cli._common import os_error_fr
from canteen_core.config.toml import parse_toml
from canteen_core.domain.errors import ConfigurationError, InvalidInputError
from canteen_core.domain.money import check_cents, parse_decimal
from canteen_core.domain.tariffs import (
    BracketPricing,
    EffortRatePricing,
    FlatPricing,
    Pricing,
    SiblingDiscount,
    Surcharge,
    TariffCategory,
    TariffGrid,
)

__all__ = ["GRID_FORMAT_HELP", "load_grid", "parse_grid"]

#: The format as ``--help`` shows it (``\b``: click keeps the lines as they are).
GRID_FORMAT_HELP = """GRID.toml (une grille tarifaire ; montants écrits "3.35" ou 3.35, au plus
deux décimales ; un taux d'effort ou un pourcentage peut en avoir plus) :

\b
    id = "projet-2024"              # facultatif, par défaut : le nom du fichier
    service = "rs"                  # facultatif
    valid_from = 2024-09-01         # obligatoire
    valid_until = 2025-08-31        # facultatif
    [prices.resident_child]         # obligatoire ; tranches de QF :
    thresholds = [450, 700, 1000]   #   les QF où le prix change
    prices = ["1.00", "2.10", "3.35", "4.05"]
    no_qf_price = "4.05"            #   facultatif (par défaut : le plus élevé)
    [prices.non_resident_child]     # facultatif ; un tarif unique :
    price = "5.60"
    [prices.adult]                  # facultatif ; un taux d'effort (% du QF) :
    effort_rate = "0.36"
    min = "1.00"
    max = "4.50"
    [[sibling_discounts]]           # facultatif : -20 % à partir du 3e enfant
    from_rank = 3
    percent = 20
    [unbooked_surcharge]            # facultatif : add, percent ou price
    add = "1.00"

Catégories : resident_child, non_resident_child, adult, pai_basket, occasional_meal.
"""

_TOP = {"id", "service", "valid_from", "valid_until", "prices", "sibling_discounts"}
_TOP |= {"unbooked_surcharge", "late_booking_surcharge"}


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, path: str, message: str) -> ConfigurationError:
        # One line naming the file and the key, as the deployment file's errors do.
        return ConfigurationError(f"{self.source} : {path} : {message}", path=path)

    def amount(self, value: object, path: str, *, cents: bool = False) -> Decimal:
        """``value`` as a Decimal; ``cents``: money, at most two decimals (a price)."""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            shown = str(value).lower() if isinstance(value, bool) else value  # TOML's spelling
            raise self.error(path, f'un montant comme "3.35" est attendu : « {shown} »')
        if isinstance(value, float):
            value = repr(value)  # TOML 3.35 is read as a float: its shortest repr is the text
        try:
            number = parse_decimal(str(value), path=path)
            return check_cents(number, path=path) if cents else number
        except InvalidInputError as error:
            raise self.error(path, error.message) from None

    def table(self, value: object, path: str, keys: set[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(path, "une table est attendue")
        unknown = sorted(set(value) - keys)
        if unknown:
            raise self.error(
                path, f"clés inconnues {', '.join(unknown)} (possibles : {', '.join(sorted(keys))})"
            )
        return value

    def pricing(self, value: object, path: str) -> Pricing:
        keys = {"price", "thresholds", "prices", "no_qf_price", "effort_rate", "min", "max"}
        data = self.table(value, path, keys)
        if "price" in data:
            return FlatPricing.of(self.amount(data["price"], f"{path}.price", cents=True))
        if "thresholds" in data or "prices" in data:
            thresholds = data.get("thresholds", [])
            prices = data.get("prices")
            if not isinstance(thresholds, list) or not isinstance(prices, list):
                raise self.error(path, "thresholds et prices doivent être des listes")
            return BracketPricing.from_thresholds(
                [self.amount(p, f"{path}.prices", cents=True) for p in prices],
                [self.amount(t, f"{path}.thresholds") for t in thresholds],
                no_quotient_price=(
                    None
                    if "no_qf_price" not in data
                    else self.amount(data["no_qf_price"], f"{path}.no_qf_price", cents=True)
                ),
            )
        if "effort_rate" in data:
            for key in ("min", "max"):
                if key not in data:
                    raise self.error(f"{path}.{key}", "un taux d'effort demande min et max")
            return EffortRatePricing.of(
                rate_percent=self.amount(data["effort_rate"], f"{path}.effort_rate"),
                minimum=self.amount(data["min"], f"{path}.min", cents=True),
                maximum=self.amount(data["max"], f"{path}.max", cents=True),
            )
        raise self.error(path, "indiquez price, thresholds + prices, ou effort_rate + min + max")

    def surcharge(self, value: object, path: str) -> Surcharge:
        data = self.table(value, path, {"add", "percent", "price"})
        if len(data) != 1:
            raise self.error(path, "indiquez un seul de add, percent, price")
        key, raw = next(iter(data.items()))
        amount = self.amount(raw, f"{path}.{key}", cents=key != "percent")
        if key == "add":
            return Surcharge.add_amount(amount)
        if key == "percent":
            return Surcharge.percent(amount)
        return Surcharge.fixed_price(amount)

    def day(self, value: object, path: str) -> date:
        if not isinstance(value, date) or hasattr(value, "hour"):
            raise self.error(path, f"une date TOML comme 2024-09-01 est attendue : « {value} »")
        return value


def parse_grid(text: str, *, default_id: str = "grid", source: str = "GRID.toml") -> TariffGrid:
    """Build a :class:`TariffGrid` from TOML text in the format of the module docstring."""
    reader = _Reader(source)
    parsed = parse_toml(text, source=source)
    try:
        data = reader.table(parsed, "grid", _TOP)
        if "valid_from" not in data:
            raise reader.error("valid_from", "manquant (par exemple valid_from = 2024-09-01)")
        raw_prices = reader.table(data.get("prices", {}), "prices", set(TariffCategory))
        prices = {
            TariffCategory(name): reader.pricing(value, f"prices.{name}")
            for name, value in raw_prices.items()
        }
        discounts_raw = data.get("sibling_discounts", [])
        if not isinstance(discounts_raw, list):
            raise reader.error(
                "sibling_discounts", "des tables [[sibling_discounts]] sont attendues"
            )
        discounts = []
        for index, item in enumerate(discounts_raw):
            path = f"sibling_discounts[{index}]"
            entry = reader.table(item, path, {"from_rank", "percent"})
            rank = entry.get("from_rank")
            if isinstance(rank, bool) or not isinstance(rank, int):
                raise reader.error(f"{path}.from_rank", "un nombre entier (2 ou plus) est attendu")
            discounts.append(
                SiblingDiscount(
                    from_rank=rank, percent=reader.amount(entry.get("percent"), f"{path}.percent")
                )
            )
        unbooked = data.get("unbooked_surcharge")
        late = data.get("late_booking_surcharge")
        grid_id = data.get("id", default_id)
        service = data.get("service", "rs")
        if not isinstance(grid_id, str) or not isinstance(service, str):
            raise reader.error("id", "id et service doivent être du texte")
        valid_until = data.get("valid_until")
        return TariffGrid(
            id=grid_id,
            service_id=service,
            valid_from=reader.day(data["valid_from"], "valid_from"),
            valid_until=None if valid_until is None else reader.day(valid_until, "valid_until"),
            prices=prices,
            sibling_discounts=tuple(discounts),
            unbooked_surcharge=(
                None if unbooked is None else reader.surcharge(unbooked, "unbooked_surcharge")
            ),
            late_booking_surcharge=(
                None if late is None else reader.surcharge(late, "late_booking_surcharge")
            ),
        )
    except ConfigurationError:
        raise
    except InvalidInputError as error:
        where = error.path or "grid"
        field = f"{error.path} : " if error.path else ""
        raise ConfigurationError(f"{source} : {field}{error.message}", path=where) from None


def load_grid(path: str | Path) -> TariffGrid:
    """Read a GRID.toml file (see the module docstring)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(f"fichier de grille illisible : {os_error_fr(error)}") from None
    return parse_grid(text, default_id=file.stem, source=str(file))
