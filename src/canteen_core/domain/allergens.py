"""The 14 allergens whose presence EU regulation 1169/2011 (annex II) requires menus to declare.

:class:`Allergen` values are stable English codes; :attr:`Allergen.label` is the French name a
menu or a kitchen sheet prints. :func:`parse_allergens` reads a set of them from codes or French
names (``"arachides"``, ``"peanuts"``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from canteen_core.domain._labelled import LabelledEnum
from canteen_core.domain.errors import InvalidInputError

__all__ = ["Allergen", "parse_allergens"]


class Allergen(LabelledEnum):
    """One of the 14 allergens of regulation (EU) 1169/2011, annex II; ``label`` is its French
    name: ``"Arachides"``."""

    GLUTEN = "gluten", "Céréales contenant du gluten"
    CRUSTACEANS = "crustaceans", "Crustacés"
    EGGS = "eggs", "Œufs"
    FISH = "fish", "Poissons"
    PEANUTS = "peanuts", "Arachides"
    SOYBEANS = "soybeans", "Soja"
    MILK = "milk", "Lait"
    NUTS = "nuts", "Fruits à coque"
    CELERY = "celery", "Céleri"
    MUSTARD = "mustard", "Moutarde"
    SESAME = "sesame", "Graines de sésame"
    SULPHITES = "sulphites", "Anhydride sulfureux et sulfites"
    LUPIN = "lupin", "Lupin"
    MOLLUSCS = "molluscs", "Mollusques"


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "Oe"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip().lower()


_BY_NAME: dict[str, Allergen] = {
    **{_folded(allergen.value): allergen for allergen in Allergen},
    **{_folded(allergen.label): allergen for allergen in Allergen},
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
            raise InvalidInputError(f"allergène inconnu « {value} » (connus : {known})", path=path)
        result.add(found)
    return frozenset(result)
