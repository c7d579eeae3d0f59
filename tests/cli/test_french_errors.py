"""What an operator typing a wrong value reads: one French line, without a Python repr ('x',
None, Money(...)) or an English message from the library, and the exit status of its kind
(a copy of the small demo site)."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import Result

from ._demo_site import run
from .test_operator import counts, one_line_error

#: Words of the library's former English messages ("must be a non-empty string, got ''").
_ENGLISH = re.compile(r"\b(must|got|expected|unknown|overlap|below|belongs|negative)\b")
_HEADER = "household_id,payer_first_name,payer_last_name,child_id,child_first_name,"
_HEADER += "child_last_name,birth_date"


def french_error(result: Result, code: int, text: str) -> None:
    """One French line holding ``text``, with exit status ``code``."""
    one_line_error(result, code, text)
    assert not _ENGLISH.search(result.stderr), result.stderr
    assert not re.search(r"'[^' ]*'|\bNone\b|Decimal\(|Money\(", result.stderr), result.stderr


def _edit(site: Path, old: str, new: str) -> None:
    text = site.read_text(encoding="utf-8")
    assert old in text
    site.write_text(text.replace(old, new), encoding="utf-8")


def test_an_empty_issuer_name_is_named_in_french(site: Path) -> None:
    _edit(site, 'name = "Régie de restauration scolaire de Ronde"', 'name = "  "')
    french_error(run("invoices", "--config", str(site)), 1, "issuer.name : ne doit pas être vide")


def test_an_unknown_zone_lists_the_zones_without_quotes(site: Path) -> None:
    _edit(site, 'zone = "C"', 'zone = "D"')
    french_error(run("invoices", "--config", str(site)), 1,
                 "calendar.zone : valeur inconnue « D » (valeurs possibles : A, B, C)")  # fmt: skip


def test_a_deployment_without_zone_says_what_to_set(site: Path) -> None:
    _edit(site, 'zone = "C"', "")
    result = run("enroll", "--config", str(site), "--household", "CONCERTO", "--child",
                 "concerto-alban", "--site", "neuf", "--site-name", "École neuve",
                 "--department", "77")  # fmt: skip
    french_error(result, 1, "le déploiement n'indique pas de zone de vacances scolaires")
    assert "zone ou department dans [calendar]" in result.stderr


def test_households_import_names_the_bad_line_in_french(site: Path, tmp_path: Path) -> None:
    before = counts(site.parent / "canteen.db")
    csv = tmp_path / "foyers.csv"
    row = "X1,Jean,DUPONT,X1-C1,Léa,DUPONT,2015-03-01"
    cases = [
        (f"{_HEADER}\nX1,,DUPONT,X1-C1,Léa,DUPONT,2015-03-01\n",
         "ligne 2 : colonne vide : payer_first_name"),
        (f"{_HEADER},diet\n{row},halal\n",
         "ligne 2 : valeur inconnue « halal » pour le régime (valeurs possibles : standard,"),
        (f"{_HEADER},qf\n{row},-5\n",
         "ligne 2 : le quotient familial ne doit pas être négatif (reçu -5)"),
        (f"{_HEADER}\n{row}\nX1,Jean,DUPONT,X1-C2,Tom,DUPONT,3015-03-01\n",
         "ligne 3 : la date doit tomber entre 1900 et 2200"),
    ]  # fmt: skip
    for text, message in cases:
        csv.write_text(text, encoding="utf-8")
        french_error(run("households", "import", "--config", str(site), str(csv)), 2, message)
    assert counts(site.parent / "canteen.db") == before


def test_a_child_of_another_household_is_refused_in_french(site: Path, tmp_path: Path) -> None:
    csv = tmp_path / "foyers.csv"
    csv.write_text(f"{_HEADER}\nNOUVEAU,Jean,DUPONT,concerto-alban,Alban,DUPONT,2015-03-01\n",
                   encoding="utf-8")  # fmt: skip
    french_error(run("households", "import", "--config", str(site), str(csv)), 1,
                 "l'enfant concerto-alban appartient déjà au foyer CONCERTO")  # fmt: skip
    listed = run("households", "list", "--config", str(site))
    assert "NOUVEAU" not in listed.output


def test_tariffs_set_refuses_a_bad_grid_in_french(site: Path, tmp_path: Path) -> None:
    grid = tmp_path / "grille.toml"
    head = 'id = "g1"\nservice = "rs"\nvalid_from = 2024-09-01\n'
    cases = [
        (f'{head}[prices.resident_child]\nprice = "-1"\n',
         "grille.toml : price : le montant ne doit pas être négatif (reçu -1,00 €)"),
        (f'{head}[prices.resident_child]\nthresholds = [450, 700]\nprices = ["1.00", "2.10"]\n',
         "thresholds : 2 prix demandent 1 seuil de QF (thresholds), pas 2"),
        (f'{head}[prices.adult]\neffort_rate = "2"\nmin = "5"\nmax = "1"\n',
         "le maximum (1,00 €) est inférieur au minimum (5,00 €)"),
        (f'{head}[prices.resident_child]\nprice = true\n',
         'un montant comme "3.35" est attendu : « true »'),
        ('id = ""\nvalid_from = 2024-09-01\n[prices.resident_child]\nprice = "1"\n',
         "grille.toml : id : ne doit pas être vide"),
        (f"{head}[prices.adult]\nprice = 2\n",
         "la grille g1 n'a pas de prix pour les catégories utilisées : resident_child"),
    ]  # fmt: skip
    for text, message in cases:
        grid.write_text(text, encoding="utf-8")
        french_error(run("tariffs", "set", "--config", str(site), str(grid)), 1, message)
    grid.write_text('valid_from = 2023-09-01\nservice = "rs"\n[prices.resident_child]\n'
                    'price = "1"\n', encoding="utf-8")  # fmt: skip
    overlap = run("tariffs", "set", "--config", str(site), str(grid))
    french_error(overlap, 2, "les grilles rs-2023-2024 et grille de la prestation rs")
    assert "se chevauchent dans le temps" in overlap.stderr


def test_command_line_values_are_quoted_the_french_way(site: Path) -> None:
    enroll = ("enroll", "--config", str(site), "--household", "CONCERTO", "--child",
              "concerto-alban")  # fmt: skip
    french_error(run(*enroll, "--site", "neuf"), 2, "site inconnu « neuf » : donnez --site-name")
    french_error(run(*enroll, "--site", "ronde", "--deadline", "thu 25:00"), 2,
                 "--deadline : heure invalide « 25:00 »")  # fmt: skip
    french_error(run("headcount", "--config", str(site), "--site", "nope", "--date",
                     "2023-10-09"), 1, "site inconnu « nope »")  # fmt: skip
    french_error(run("headcount", "--config", str(site), "--site", "ronde", "--date",
                     "2023-13-07"), 2, "--date : date invalide « 2023-13-07 »")  # fmt: skip
    french_error(run("invoices", "--config", str(site), "--as", "deux mots"), 2,
                 "--as : nom d'opérateur invalide « deux mots »")  # fmt: skip


def test_deployment_sections_read_by_commands_are_refused_in_french(site: Path) -> None:
    _edit(site, "[portal]", "[campaigns]\nleaving_age = 30\n[portal]")
    french_error(run("invoices", "--config", str(site)), 1,
                 "campaigns.leaving_age : un âge de 4 à 20 ans est attendu")  # fmt: skip
    _edit(site, "leaving_age = 30", 'missing_quotient = "drop"')
    french_error(run("invoices", "--config", str(site)), 1,
                 "valeur inconnue « drop » (valeurs possibles : top_bracket, keep)")  # fmt: skip
    _edit(site, 'missing_quotient = "drop"', "")
    _edit(site, 'url = "https://famille.ronde.example"', 'url = "famille.ronde.example"')
    french_error(run("outbox", "send", "--config", str(site)), 1,
                 "(portal_url) doit commencer par http:// ou https://")  # fmt: skip


def test_a_backwards_weekday_range_is_refused_in_french(site: Path) -> None:
    result = run("book", "--config", str(site), "--enrollment", "CONCERTO-alban-rs", "--from",
                 "2023-10-10", "--to", "2023-10-20", "--weekdays", "fri-mon")  # fmt: skip
    french_error(result, 2, "--weekdays : la plage de jours « fri-mon » est à l'envers")


def test_simulate_names_the_bad_population_line_in_french(tmp_path: Path) -> None:
    grid = tmp_path / "grille.toml"
    grid.write_text('valid_from = 2024-09-01\n[prices.resident_child]\nprice = "3"\n',
                    encoding="utf-8")  # fmt: skip
    population = tmp_path / "foyers.csv"
    head = "household_id;qf;children;meals_per_month\n"
    cases = [
        ("household_id;qf;children\nA;1;1\n",
         "colonnes manquantes dans le fichier CSV : meals_per_month"),
        (f"{head}A;1;deux;4\n", "ligne 2 : children : « deux » n'est pas un nombre entier"),
        (f"{head}A;-5;1;4\n", "ligne 2 : le QF ne doit pas être négatif (reçu -5)"),
        (f"{head}A;1;1;4\nA;2;1;4\n", "le foyer A figure deux fois dans la population"),
    ]  # fmt: skip
    for text, message in cases:
        population.write_text(text, encoding="utf-8")
        result = run("simulate", "--grid", str(grid), "--population", str(population))
        french_error(result, 2, message)
