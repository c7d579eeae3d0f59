"""Metropolitan French departments, their académie and school-holiday zone.

Zones group académies (arrêté of 7 December 2022, article 2, unchanged by the arrêté of 22 October
2025): the zone decides the winter and spring holidays. The académie de Corse (2A, 2B) belongs to
no zone: its recteur sets its own calendar (code de l'éducation, article D521-6), so it is listed
here but has no zone. Overseas académies (971-976) have their own calendars and are not covered.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from canteen_core.domain.calendar import Zone

__all__ = ["ACADEMIES", "CORSICA", "DEPARTMENT_ACADEMY", "DEPARTMENT_NAMES", "DEPARTMENT_ZONES"]

#: Every metropolitan department, code -> name.
DEPARTMENT_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "01": "Ain",
        "02": "Aisne",
        "03": "Allier",
        "04": "Alpes-de-Haute-Provence",
        "05": "Hautes-Alpes",
        "06": "Alpes-Maritimes",
        "07": "Ardèche",
        "08": "Ardennes",
        "09": "Ariège",
        "10": "Aube",
        "11": "Aude",
        "12": "Aveyron",
        "13": "Bouches-du-Rhône",
        "14": "Calvados",
        "15": "Cantal",
        "16": "Charente",
        "17": "Charente-Maritime",
        "18": "Cher",
        "19": "Corrèze",
        "2A": "Corse-du-Sud",
        "2B": "Haute-Corse",
        "21": "Côte-d'Or",
        "22": "Côtes-d'Armor",
        "23": "Creuse",
        "24": "Dordogne",
        "25": "Doubs",
        "26": "Drôme",
        "27": "Eure",
        "28": "Eure-et-Loir",
        "29": "Finistère",
        "30": "Gard",
        "31": "Haute-Garonne",
        "32": "Gers",
        "33": "Gironde",
        "34": "Hérault",
        "35": "Ille-et-Vilaine",
        "36": "Indre",
        "37": "Indre-et-Loire",
        "38": "Isère",
        "39": "Jura",
        "40": "Landes",
        "41": "Loir-et-Cher",
        "42": "Loire",
        "43": "Haute-Loire",
        "44": "Loire-Atlantique",
        "45": "Loiret",
        "46": "Lot",
        "47": "Lot-et-Garonne",
        "48": "Lozère",
        "49": "Maine-et-Loire",
        "50": "Manche",
        "51": "Marne",
        "52": "Haute-Marne",
        "53": "Mayenne",
        "54": "Meurthe-et-Moselle",
        "55": "Meuse",
        "56": "Morbihan",
        "57": "Moselle",
        "58": "Nièvre",
        "59": "Nord",
        "60": "Oise",
        "61": "Orne",
        "62": "Pas-de-Calais",
        "63": "Puy-de-Dôme",
        "64": "Pyrénées-Atlantiques",
        "65": "Hautes-Pyrénées",
        "66": "Pyrénées-Orientales",
        "67": "Bas-Rhin",
        "68": "Haut-Rhin",
        "69": "Rhône",
        "70": "Haute-Saône",
        "71": "Saône-et-Loire",
        "72": "Sarthe",
        "73": "Savoie",
        "74": "Haute-Savoie",
        "75": "Paris",
        "76": "Seine-Maritime",
        "77": "Seine-et-Marne",
        "78": "Yvelines",
        "79": "Deux-Sèvres",
        "80": "Somme",
        "81": "Tarn",
        "82": "Tarn-et-Garonne",
        "83": "Var",
        "84": "Vaucluse",
        "85": "Vendée",
        "86": "Vienne",
        "87": "Haute-Vienne",
        "88": "Vosges",
        "89": "Yonne",
        "90": "Territoire de Belfort",
        "91": "Essonne",
        "92": "Hauts-de-Seine",
        "93": "Seine-Saint-Denis",
        "94": "Val-de-Marne",
        "95": "Val-d'Oise",
    }
)

#: Académie -> (zone, departments). Corse has no zone (``None``).
ACADEMIES: Final[Mapping[str, tuple[Zone | None, tuple[str, ...]]]] = MappingProxyType(
    {
        # Zone A
        "Besançon": (Zone.A, ("25", "39", "70", "90")),
        "Bordeaux": (Zone.A, ("24", "33", "40", "47", "64")),
        "Clermont-Ferrand": (Zone.A, ("03", "15", "43", "63")),
        "Dijon": (Zone.A, ("21", "58", "71", "89")),
        "Grenoble": (Zone.A, ("07", "26", "38", "73", "74")),
        "Limoges": (Zone.A, ("19", "23", "87")),
        "Lyon": (Zone.A, ("01", "42", "69")),
        "Poitiers": (Zone.A, ("16", "17", "79", "86")),
        # Zone B
        "Aix-Marseille": (Zone.B, ("04", "05", "13", "84")),
        "Amiens": (Zone.B, ("02", "60", "80")),
        "Lille": (Zone.B, ("59", "62")),
        "Nancy-Metz": (Zone.B, ("54", "55", "57", "88")),
        "Nantes": (Zone.B, ("44", "49", "53", "72", "85")),
        "Nice": (Zone.B, ("06", "83")),
        "Normandie": (Zone.B, ("14", "27", "50", "61", "76")),
        "Orléans-Tours": (Zone.B, ("18", "28", "36", "37", "41", "45")),
        "Reims": (Zone.B, ("08", "10", "51", "52")),
        "Rennes": (Zone.B, ("22", "29", "35", "56")),
        "Strasbourg": (Zone.B, ("67", "68")),
        # Zone C
        "Créteil": (Zone.C, ("77", "93", "94")),
        "Montpellier": (Zone.C, ("11", "30", "34", "48", "66")),
        "Paris": (Zone.C, ("75",)),
        "Toulouse": (Zone.C, ("09", "12", "31", "32", "46", "65", "81", "82")),
        "Versailles": (Zone.C, ("78", "91", "92", "95")),
        # No zone: the recteur of Corse fixes the island's calendar.
        "Corse": (None, ("2A", "2B")),
    }
)

#: Department -> académie.
DEPARTMENT_ACADEMY: Final[Mapping[str, str]] = MappingProxyType(
    {
        department: academy
        for academy, (_, departments) in ACADEMIES.items()
        for department in departments
    }
)

#: Department -> zone, for every metropolitan department except Corsica.
DEPARTMENT_ZONES: Final[Mapping[str, Zone]] = MappingProxyType(
    {
        department: zone
        for zone, departments in ACADEMIES.values()
        if zone is not None
        for department in departments
    }
)

#: The Corsican departments, which follow their own académie calendar.
CORSICA: Final[frozenset[str]] = frozenset({"2A", "2B"})
