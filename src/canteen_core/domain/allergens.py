"""The 14 allergens whose presence EU regulation 1169/2011 (annex II) requires menus to declare.

:class:`Allergen` values are stable English codes; :attr:`Allergen.label` is the French name a
menu or a kitchen sheet prints. :func:`parse_allergens` reads a set of them from codes or French
names (``"arachides"``, ``"peanuts"``).
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable

from canteen_core.domain.errors import InvalidInputError

__all__ = ["Allergen", "parse_allergens"]


class Allergen(enum.StrEnum):
    """One of the 14 allergens of regulation (EU) 1169/2011, annex II."""

    GLUTEN = "gluten"
    CRUSTACEANS = "crustaceans"
    EGGS = "eggs"
    FISH = "fish"
    PEANUTS = "peanuts"
    SOYBEANS = "soybeans"
    MILK = "milk"
    NUTS = "nuts"
    CELERY = "celery"
    MUSTARD = "mustard"
    SESAME = "sesame"
    SULPHITES = "sulphites"
    LUPIN = "lupin"
    MOLLUSCS = "molluscs"

    @property
    def label(self) -> str:
        """The French name: ``"Arachides"``."""
        return _LABELS[self]


_LABELS: dict[Allergen, str] = {
    Allergen.GLUTEN: "Céréales contenant du gluten",
    Allergen.CRUSTACEANS: "Crustacés",
    Allergen.EGGS: "Œufs",
    Allergen.FISH: "Poissons",
    Allergen.PEANUTS: "Arachides",
    Allergen.SOYBEANS: "Soja",
    Allergen.MILK: "Lait",
    Allergen.NUTS: "Fruits à coque",
    Allergen.CELERY: "Céleri",
    Allergen.MUSTARD: "Moutarde",
    Allergen.SESAME: "Graines de sésame",
    Allergen.SULPHITES: "Anhydride sulfureux et sulfites",
    Allergen.LUPIN: "Lupin",
    Allergen.MOLLUSCS: "Mollusques",
}


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "Oe"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip().lower()


_BY_NAME: dict[str, Allergen] = {
    **{_folded(allergen.value): allergen for allergen in Allergen},
    **{_folded(label): allergen for allergen, label in _LABELS.items()},
    "gluten": Allergen.GLUTEN,
    "sesame": Allergen.SESAME,
    "sulfites": Allergen.SULPHITES,
    "fruits a coque": Allergen.NUTS,
    "oeufs": Allergen.EGGS,
}


def parse_allergens(
    values: Iterable[Allergen | str], *, path: str = "allergens"
) -> frozenset[Allergen]:
    """The allergens named by ``values`` (codes or French names, any case or accents)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidInputError("attendu : une liste d'allergènes", path=path)
    result: set[Allergen] = set()
    for value in values:
        if isinstance(value, Allergen):
            result.add(value)
            continue
        found = _BY_NAME.get(_folded(value)) if isinstance(value, str) else None
        if found is None:
            known = ", ".join(allergen.value for allergen in Allergen)
            raise InvalidInputError(f"allergène inconnu {value!r} (connus : {known})", path=path)
        result.add(found)
    return frozenset(result)
