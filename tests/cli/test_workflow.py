"""A fresh deployment run by the operator CLI only: init, households import, tariffs,
enroll, book, bill, invoices; plus the bad inputs of the import and tariff commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from canteen_adapters.cli import main
from canteen_adapters.cli.demo import ADMIN
from canteen_core.services import Canteen

FOYERS = """\
household_id;payer_civility;payer_first_name;payer_last_name;payer_email;qf;resident;child_id;child_first_name;child_last_name;birth_date;diet;pai
F1;Madame;Claire;Martin;claire@example.org;620;oui;F1-C1;Léo;Martin;2015-04-02;standard;non
F1;Madame;Claire;Martin;claire@example.org;620;oui;F1-C2;Jade;Martin;2017-09-12;vegetarian;non
F2;Monsieur;Karim;Diallo;;;non;F2-C1;Nour;Diallo;2016-01-20;no_pork;oui
"""
GRID = """\
id = "rs-2023"
valid_from = 2023-09-01
valid_until = 2024-08-31
[prices.resident_child]
thresholds = [500, 1000]
prices = ["1.00", "2.50", "4.00"]
"""


def run(*args: str, now: str = "2023-08-25T10:00:00+02:00") -> Result:
    runner = CliRunner(env={"CANTEEN_NOW": now, "CANTEEN_CONFIG": None})
    return runner.invoke(main, list(args), prog_name="canteen")


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "canteen.toml"
    ok(run("init", "--config", str(path), "--issuer-name", "Régie de Ronde", "--issuer-code",
           "RONDE", "--zone", "C"))  # fmt: skip
    (tmp_path / "foyers.csv").write_text(FOYERS, encoding="utf-8")
    (tmp_path / "grille.toml").write_text(GRID, encoding="utf-8")
    return path


def test_a_month_from_an_empty_deployment(config: Path) -> None:
    c = str(config)
    folder = config.parent
    imported = json.loads(ok(run("households", "import", "--config", c,
                                 str(folder / "foyers.csv"), "--json")))  # fmt: skip
    assert imported == {"imported": 2, "children": 3, "already_present": 0, "differing": []}
    again = ok(run("households", "import", "--config", c, str(folder / "foyers.csv")))
    assert "0 foyer importé (0 enfant), 2 déjà présents" in again
    assert "Attention" not in again
    assert "Grille rs-2023 enregistrée" in ok(
        run("tariffs", "set", "--config", c, str(folder / "grille.toml"))
    )
    grids: list[dict[str, Any]] = json.loads(ok(run("tariffs", "list", "--config", c, "--json")))
    assert [g["id"] for g in grids] == ["rs-2023"]
    ok(run("enroll", "--config", c, "--household", "F1", "--child", "F1-C1", "--site", "ronde",
           "--site-name", "École élémentaire Ronde", "--department", "77", "--service-name",
           "Restauration scolaire", "--school-year", "2023", "--id", "leo"))  # fmt: skip
    ok(run("enroll", "--config", c, "--household", "F1", "--child", "F1-C2", "--site", "ronde",
           "--school-year", "2023", "--id", "jade"))  # fmt: skip
    booked = json.loads(ok(run("book", "--config", c, "--enrollment", "leo", "--from",
                               "2023-09-01", "--to", "2024-07-05", "--weekdays", "mon,tue,thu,fri",
                               "--json")))  # fmt: skip
    assert booked["booked"][:2] == ["2023-09-04", "2023-09-05"]
    ok(run("book", "--config", c, "--enrollment", "jade", "--day", "2023-09-07", "--day",
           "2023-09-08"))  # fmt: skip
    count = json.loads(ok(run("headcount", "--config", c, "--site", "ronde", "--date",
                              "2023-09-07", "--json")))  # fmt: skip
    assert count["days"][0]["meals"] == {"standard": 1, "no_pork": 0, "vegetarian": 1}
    billed = json.loads(ok(run("bill", "--config", c, "--period", "2023-09", "--json",
                               now="2023-10-02T08:00:00+02:00")))  # fmt: skip
    assert [(i["household_id"], i["total"]) for i in billed["issued"]] == [("F1", "45.00")]
    page = ok(run("invoices", "--config", c, "--household", "F1",
                  now="2023-10-03T08:00:00+02:00"))  # fmt: skip
    assert "Vous avez 1 facture non réglée" in page
    assert "45,00 €" in page
    # The grid billed September: other prices for it are refused unless confirmed.
    (folder / "grille-corrigee.toml").write_text(GRID.replace('"2.50"', '"2.60"'), encoding="utf-8")
    changed = run("tariffs", "set", "--config", c, str(folder / "grille-corrigee.toml"),
                  now="2023-10-03T08:00:00+02:00")  # fmt: skip
    assert changed.exit_code == 1
    assert "a servi à facturer (facture 2023-000001 du 02/10/2023)" in changed.stderr
    assert changed.stderr.rstrip().endswith("(--reprice-billed)")
    # A closure found out after billing (a strike on the 7th): it cannot be undone, so the
    # operator is told what the next run will credit and confirms; that run credits the days
    # billed and no longer due, and says so with what it billed.
    strike = ("sites", "close", "--config", c, "--site", "ronde", "--from", "2023-09-07",
              "--reason", "Grève")  # fmt: skip
    unconfirmed = run(*strike, now="2023-10-03T08:00:00+02:00")
    assert unconfirmed.exit_code == 1
    assert unconfirmed.stderr == (
        "Erreur : fermeture non enregistrée : 2 repas déjà facturés (1 famille, facture de "
        "septembre 2023) seront crédités à la prochaine facturation ; confirmez pour fermer "
        "quand même (--credit-billed)\n"
    )
    listed = json.loads(ok(run("sites", "list", "--config", c, "--json")))
    assert listed["sites"][0]["closures"] == []
    closed = json.loads(ok(run(*strike, "--credit-billed", "--json",
                               now="2023-10-03T08:00:00+02:00")))  # fmt: skip
    assert closed["cancelled"] == {"jade": ["2023-09-07"], "leo": ["2023-09-07"]}
    assert closed["billed"] == {
        "count": 2,
        "households": ["F1"],
        "invoices": ["2023-000001"],
        "months": ["2023-09"],
        "summary": "2 repas déjà facturés (1 famille, facture de septembre 2023) seront "
        "crédités à la prochaine facturation",
    }
    october = ok(run("bill", "--config", c, "--period", "2023-10",
                     now="2023-11-02T08:00:00+01:00"))  # fmt: skip
    assert "Régularisation : 1 avoir émis (5,00 €) sur des factures précédentes" in october
    # A refused change while a list is being read: one French line, no driver traceback.
    # (in a process of its own, as the stream of grids is collected when the command exits)
    (folder / "soir.toml").write_text(GRID.replace('"rs-2023"', '"soir-2023"\nservice = "soir"'))
    ok(run("tariffs", "set", "--config", c, str(folder / "soir.toml")))
    now = {**os.environ, "CANTEEN_NOW": "2023-11-02T08:00:00+01:00"}
    unpriced = subprocess.run(
        [sys.executable, "-c", "from canteen_adapters.cli import main; main()", "enrollments",
         "edit", "--config", c, "leo", "--category", "adult"],
        capture_output=True, text=True, env=now, check=False,
    )  # fmt: skip
    assert unpriced.returncode == 2
    assert unpriced.stderr.startswith("Erreur : la grille tarifaire rs-2023")
    assert unpriced.stderr.count("\n") == 1, unpriced.stderr
    again = json.loads(ok(run("bill", "--config", c, "--period", "2023-10", "--json",
                              now="2023-11-02T08:00:00+01:00")))  # fmt: skip
    assert (again["credit_notes"], again["credited"]) == ([], "0.00")


def test_household_import_says_what_it_left_unchanged(config: Path) -> None:
    """An updated file is not an update: an existing household's new child or new family
    quotient is left out, and the operator is told which household and what, not just that it
    was "déjà présent"."""
    c = str(config)
    ok(run("households", "import", "--config", c, str(config.parent / "foyers.csv")))
    updated = config.parent / "foyers-octobre.csv"
    updated.write_text(
        FOYERS.replace(";620;", ";450;")
        + "F2;Monsieur;Karim;Diallo;;;non;F2-C2;Sami;Diallo;2019-05-04;standard;non\n",
        encoding="utf-8",
    )
    result = run(
        "households", "import", "--config", c, str(updated), now="2023-10-02T08:00:00+02:00"
    )
    text = ok(result)
    assert "0 foyer importé (0 enfant), 2 déjà présents" in text
    assert "2 foyers déjà présents diffèrent du fichier ; ils sont laissés tels quels" in text
    assert "F1 : QF 450 au 02/10/2023 (enregistré : 620)" in text
    assert "F2 : enfant F2-C2 (Sami DIALLO) absent du foyer enregistré" in text
    shown = json.loads(ok(run("households", "import", "--config", c, str(updated), "--json")))
    assert [item["household_id"] for item in shown["differing"]] == ["F1", "F2"]
    listing = json.loads(
        ok(run("households", "list", "--config", c, "--household", "F2", "--json"))
    )
    assert [child["id"] for child in listing["households"][0]["children"]] == ["F2-C1"]


def test_household_import_bad_input_imports_nothing(config: Path) -> None:
    c = str(config)
    bad = config.parent / "bad.csv"
    bad.write_text(FOYERS.replace("2017-09-12", "2017-13-12"), encoding="utf-8")
    result = run("households", "import", "--config", c, str(bad))
    assert result.exit_code == 2
    assert result.stderr.startswith("Erreur : ligne 3 : « 2017-13-12 » n'est pas une date")
    assert result.stderr.count("\n") == 1
    bad.write_text("household_id;child_id\nF1;C1\n", encoding="utf-8")
    missing = run("households", "import", "--config", c, str(bad))
    assert missing.exit_code == 2
    assert "colonnes manquantes dans le fichier CSV" in missing.stderr
    absent = run("households", "import", "--config", c, str(config.parent / "none.csv"))
    assert absent.exit_code == 2
    assert "introuvable" in absent.stderr
    listing = json.loads(ok(run("invoices", "--config", c, "--json")))
    assert listing["invoices"] == []
    assert "F1" not in ok(run("households", "import", "--config", c, "--help"))


def test_tariffs_bad_input_changes_nothing(config: Path) -> None:
    c = str(config)
    folder = config.parent
    ok(run("tariffs", "set", "--config", c, str(folder / "grille.toml")))
    overlapping = folder / "autre.toml"
    overlapping.write_text(GRID.replace('"rs-2023"', '"rs-bis"'), encoding="utf-8")
    result = run("tariffs", "set", "--config", c, str(overlapping))
    assert result.exit_code in (1, 2)
    assert result.stderr.count("\n") == 1
    broken = folder / "broken.toml"
    broken.write_text("valid_from = 2023-09-01\n", encoding="utf-8")
    refused = run("tariffs", "set", "--config", c, str(broken))
    assert refused.exit_code != 0
    assert "resident_child" in refused.stderr
    grids = json.loads(ok(run("tariffs", "list", "--config", c, "--json")))
    assert [g["id"] for g in grids] == ["rs-2023"]


def test_the_family_quotients_imported_apply_from_today_in_paris(config: Path) -> None:
    # 5 October 2023, 22:30 UTC is already 6 October in Paris: the day the QF applies from.
    folder = config.parent
    ok(run("households", "import", "--config", str(config), str(folder / "foyers.csv"),
           now="2023-10-05T22:30:00+00:00"))  # fmt: skip
    with Canteen.open(config) as canteen:
        (quotient,) = canteen.families.get(ADMIN, "F1").quotients
    assert str(quotient.valid_from) == "2023-10-06"


def test_a_prepaid_deployment_bills_the_baskets_of_a_month(tmp_path: Path) -> None:
    """``[billing] mode = "prepaid"``: ``canteen bill`` invoices each household's basket of the
    month, in advance, once; a day cancelled in time is credited by the next run."""
    path = tmp_path / "canteen.toml"
    c = str(path)
    ok(run("init", "--config", c, "--issuer-name", "Régie de Ronde", "--issuer-code", "RONDE",
           "--zone", "C", "--billing", "prepaid"))  # fmt: skip
    (tmp_path / "foyers.csv").write_text(FOYERS, encoding="utf-8")
    (tmp_path / "grille.toml").write_text(GRID, encoding="utf-8")
    ok(run("households", "import", "--config", c, str(tmp_path / "foyers.csv")))
    ok(run("tariffs", "set", "--config", c, str(tmp_path / "grille.toml")))
    ok(run("enroll", "--config", c, "--household", "F1", "--child", "F1-C1", "--site", "ronde",
           "--site-name", "École élémentaire Ronde", "--department", "77", "--service-name",
           "Restauration scolaire", "--school-year", "2023", "--id", "leo"))  # fmt: skip
    ok(run("book", "--config", c, "--enrollment", "leo", "--day", "2023-09-04", "--day",
           "2023-09-05", "--day", "2023-09-07"))  # fmt: skip
    # 25 August: September has not started, its basket is invoiced (3 x 2.50).
    billed = json.loads(ok(run("bill", "--config", c, "--period", "2023-09", "--json")))
    assert [(i["household_id"], i["number"], i["total"]) for i in billed["issued"]] == [
        ("F1", "2023-000001", "7.50")
    ]
    assert (billed["already_billed"], billed["without_charges"]) == (0, 1)
    again = ok(run("bill", "--config", c, "--period", "2023-09"))
    assert again.startswith("Septembre 2023 : 0 facture émise (0,00 €), 1 foyer déjà facturé")
    ok(run("book", "--config", c, "--enrollment", "leo", "--day", "2023-09-07", "--cancel"))
    credited = ok(run("bill", "--config", c, "--period", "2023-09"))
    assert "Annulations dans les délais : 1 avoir émis (2,50 €)" in credited
