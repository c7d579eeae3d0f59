"""Operator commands: one happy path and one bad input each (exit code, one-line message,
nothing changed), on a copy of a small demo deployment."""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from pypdf import PdfReader

from canteen_adapters.cli.headcount import DIET_LABELS_FR
from canteen_adapters.web.pages.render import DIETS_FR, diet_fr
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.families import Diet
from canteen_core.services import Canteen

from ._demo_site import run

ADMIN = Actor(user_id="test:admin", roles={Role.ADMIN})


@pytest.fixture(scope="module")
def demo_households() -> int:
    """Five households: enough for the listing and import tests."""
    return 5


def one_line_error(result: Result, code: int, text: str) -> None:
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("Erreur : "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert text in result.stderr


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as connection:
        names = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {n: connection.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}


def data(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- init and db upgrade --------------------------------------------------------------------------


def test_init_writes_a_deployment_and_a_migrated_database(tmp_path: Path) -> None:
    config = tmp_path / "canteen.toml"
    result = run("init", "--config", str(config), "--issuer-name", "Régie", "--issuer-code", "R1",
                 "--zone", "C")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Déploiement créé" in result.stdout
    assert (tmp_path / "canteen.db").is_file()
    upgrade = data(run("db", "upgrade", "--config", str(config), "--json"))
    assert upgrade["changed"] is False
    assert upgrade["after"] == upgrade["before"] is not None


def test_init_refuses_bad_input_and_never_overwrites(tmp_path: Path) -> None:
    config = tmp_path / "canteen.toml"
    both = run("init", "--config", str(config), "--issuer-name", "Régie", "--issuer-code", "R1",
               "--zone", "C", "--department", "77")  # fmt: skip
    one_line_error(both, 2, "--zone")
    bad_code = run("init", "--config", str(config), "--issuer-name", "Régie", "--issuer-code",
                   "R 1", "--zone", "C")  # fmt: skip
    assert bad_code.exit_code != 0
    assert bad_code.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
    config.write_text("# mine\n", encoding="utf-8")
    again = run("init", "--config", str(config), "--issuer-name", "Régie", "--issuer-code", "R1",
                "--zone", "C")  # fmt: skip
    one_line_error(again, 1, "existe déjà")
    assert config.read_text(encoding="utf-8") == "# mine\n"


def test_db_upgrade_migrates_a_new_database(tmp_path: Path) -> None:
    config = tmp_path / "canteen.toml"
    config.write_text(
        '[storage]\nurl = "sqlite:///new.db"\nmigrate = false\n[issuer]\nname = "R"\ncode = "R"\n',
        encoding="utf-8",
    )
    result = data(run("db", "upgrade", "--config", str(config), "--json"))
    assert result["before"] is None
    assert result["changed"] is True
    assert "canteen_schema_version" in counts(tmp_path / "new.db")


def test_db_upgrade_bad_input(tmp_path: Path) -> None:
    one_line_error(run("db", "upgrade", "--config", str(tmp_path / "none.toml")), 1, "introuvable")
    config = tmp_path / "canteen.toml"
    config.write_text(
        '[storage]\nurl = "sqlite:///x.db"\n[issuer]\nname = "R"\ncode = "R"\n', encoding="utf-8"
    )
    one_line_error(run("db", "upgrade", "--config", str(config), "--revision", "zz"), 2, "zz")
    assert (
        not (tmp_path / "x.db").exists()
        or counts(tmp_path / "x.db").get("canteen_schema_version", 0) == 0
    )


def test_default_config_is_the_file_in_the_current_folder(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    one_line_error(run("invoices", "--household", "CONCERTO"), 1, "canteen.toml")
    monkeypatch.chdir(site.parent)
    found = data(run("invoices", "--household", "CONCERTO", "--json"))
    assert [i["total"] for i in found["invoices"]] == ["13.40"]


# -- enroll, book, headcount ----------------------------------------------------------------------


def enrollments(config: Path, household: str) -> int:
    with Canteen.open(config) as canteen:
        return len(canteen.enrollments.of_household(ADMIN, household))


def test_enroll_a_child(site: Path) -> None:
    result = data(run("enroll", "--config", str(site), "--household", "CONCERTO", "--child",
                      "concerto-arielle", "--site", "ronde", "--school-year", "2023",
                      "--id", "arielle-rs", "--json"))  # fmt: skip
    assert result["id"] == "arielle-rs"
    assert (result["start"], result["end"]) == ("2023-09-04", "2024-07-05")
    assert enrollments(site, "CONCERTO") == 2


def test_enroll_bad_input_changes_nothing(site: Path) -> None:
    unknown_child = run("enroll", "--config", str(site), "--household", "CONCERTO", "--child",
                        "nobody", "--site", "ronde")  # fmt: skip
    assert unknown_child.exit_code in (1, 2)
    assert unknown_child.stderr.count("\n") == 1
    unknown_site = run("enroll", "--config", str(site), "--household", "CONCERTO", "--child",
                       "concerto-arielle", "--site", "elsewhere")  # fmt: skip
    one_line_error(unknown_site, 2, "--site-name")
    bad_deadline = run("enroll", "--config", str(site), "--household", "CONCERTO", "--child",
                       "concerto-arielle", "--site", "ronde", "--deadline", "soon")  # fmt: skip
    one_line_error(bad_deadline, 2, "--deadline")
    assert enrollments(site, "CONCERTO") == 1


def test_enroll_twice_or_in_an_unpriced_category_is_refused(site: Path) -> None:
    # Issue 14, items 1 and 2: refused by the enrollment service, whatever calls it.
    twice = run("enroll", "--config", str(site), "--household", "CONCERTO", "--child",
                "concerto-alban", "--site", "ronde", "--school-year", "2023")  # fmt: skip
    one_line_error(twice, 1, "l'enfant concerto-alban est déjà inscrit")
    for category, text in (("adult", "pas de prix pour la catégorie « adult »"),
                           ("vip", "catégorie tarifaire inconnue « vip »")):  # fmt: skip
        one_line_error(run("enroll", "--config", str(site), "--household", "CONCERTO",
                           "--child", "concerto-arielle", "--site", "ronde", "--school-year",
                           "2023", "--category", category), 2, text)  # fmt: skip
    assert enrollments(site, "CONCERTO") == 1


def test_enrollments_list_edit_and_end(site: Path) -> None:
    listed = data(run("enrollments", "list", "--config", str(site), "--household", "CONCERTO",
                      "--json"))  # fmt: skip
    assert [e["id"] for e in listed["enrollments"]] == ["CONCERTO-alban-rs"]
    text = run("enrollments", "list", "--config", str(site), "--site", "ronde")
    assert text.exit_code == 0
    assert "CONCERTO-alban-rs  CONCERTO / concerto-alban" in text.stdout
    edited = data(run("enrollments", "edit", "CONCERTO-alban-rs", "--config", str(site),
                      "--late", "pending", "--deadline", "48h", "--json"))  # fmt: skip
    assert edited["late_change"] == "pending"
    one_line_error(run("enrollments", "edit", "CONCERTO-alban-rs", "--config", str(site),
                       "--category", "adult"), 2, "pas de prix")  # fmt: skip
    ended = data(run("enrollments", "end", "CONCERTO-alban-rs", "--config", str(site), "--on",
                     "22/12/2023", "--json"))  # fmt: skip
    assert ended["end"] == "2023-12-22"
    assert ended["tariff_category"] == "resident"
    assert ended["billed"]["count"] == 0
    # Ended within September, already invoiced: the meals after are credited next run.
    early = run("enrollments", "end", "CONCERTO-alban-rs", "--config", str(site), "--on",
                "2023-09-12")  # fmt: skip
    assert early.exit_code == 0, early.output
    first, line = early.stdout.splitlines()
    assert first.startswith("Inscription modifiée : CONCERTO-alban-rs")
    assert line == (  # Alban's Mondays 18 and 25 September
        "2 repas déjà facturés (1 famille, facture de septembre 2023) seront crédités à la "
        "prochaine facturation"
    )


def test_staff_list_households_children_and_sites(site: Path) -> None:
    listed = data(run("households", "list", "--config", str(site), "--json"))
    assert listed["count"] == 6
    concerto = next(h for h in listed["households"] if h["id"] == "CONCERTO")
    assert [c["id"] for c in concerto["children"]][:2] == ["concerto-alban", "concerto-arielle"]
    text = run("households", "list", "--config", str(site), "--search", "concerto")
    assert text.exit_code == 0
    assert "concerto-alban (Alban CONCERTO)" in text.stdout
    one_line_error(run("households", "list", "--config", str(site), "--household", "NOPE"),
                   1, "foyer introuvable : NOPE")  # fmt: skip
    sites = data(run("sites", "list", "--config", str(site), "--json"))
    assert [s["id"] for s in sites["sites"]] == ["ronde"]
    assert [s["id"] for s in sites["services"]] == ["alsh", "mercredi", "rs", "soir"]
    text = run("sites", "list", "--config", str(site))
    assert "rs  Restauration Scolaire (lundi, mardi, jeudi et vendredi)" in text.stdout


def test_staff_close_a_site_for_present_and_future_enrollments(site: Path) -> None:
    db = site.parent / "canteen.db"
    before = counts(db)
    for args, code, text in (
        (("--site", "nope", "--from", "2023-10-12", "--reason", "Grève"), 1,
         "site inconnu « nope »"),
        (("--site", "ronde", "--from", "2023-10-13", "--to", "2023-10-12", "--reason", "Grève"),
         2, "la période « Grève » finit le 12/10/2023, avant de commencer (le 13/10/2023)"),
    ):  # fmt: skip
        one_line_error(run("sites", "close", "--config", str(site), *args), code, text)
    assert counts(db) == before
    closed = run("sites", "close", "--config", str(site), "--site", "ronde",
                 "--from", "2023-10-12", "--to", "2023-10-13", "--reason", "Grève")  # fmt: skip
    assert closed.exit_code == 0, closed.output
    assert closed.stdout.startswith("ronde fermé du jeu. 12/10/2023 au ven. 13/10/2023 (Grève)")
    assert counts(db)["outbox"] > before["outbox"]  # the families concerned are told
    listed = data(run("sites", "list", "--config", str(site), "--json"))
    (ronde,) = listed["sites"]
    assert ronde["version"] == 2
    assert ronde["closures"] == [
        {"name": "Grève", "first_day": "2023-10-12", "last_day": "2023-10-13"}
    ]
    text = run("sites", "list", "--config", str(site)).stdout
    assert "fermé du jeu. 12/10/2023 au ven. 13/10/2023 : Grève" in text


def test_a_closure_over_billed_days_is_confirmed_and_says_what_is_credited(site: Path) -> None:
    """September is billed in the demo: closing a day of it cancels meals already invoiced,
    which the next run credits. Unconfirmed, nothing is stored and the line says how many."""
    db = site.parent / "canteen.db"
    before = counts(db)
    strike = ("sites", "close", "--config", str(site), "--site", "ronde", "--from",
              "2023-09-12", "--reason", "Grève")  # fmt: skip
    refused = run(*strike)
    one_line_error(refused, 1, "repas déjà facturés (5 familles, ")
    assert "factures de septembre 2023) seront crédités à la prochaine facturation" in (
        refused.stderr
    )
    assert refused.stderr.rstrip().endswith("(--credit-billed)")
    assert counts(db) == before
    closed = run(*strike, "--credit-billed")
    assert closed.exit_code == 0, closed.output
    first, line = closed.stdout.splitlines()
    assert first.startswith("ronde fermé le mar. 12/09/2023 (Grève)")  # one day: not "du .. au"
    assert "fermé le mar. 12/09/2023 : Grève" in run("sites", "list", "--config", str(site)).stdout
    assert (
        line == refused.stderr.removeprefix("Erreur : fermeture non enregistrée : ").split(" ; ")[0]
    )


def test_errors_are_one_french_line_without_python_internals(site: Path) -> None:
    for args, code, text in (
        (("pay", "--household", "H000002"), 2, "option obligatoire manquante : --amount"),
        (("pay", "--household", "H000002", "--amount", "5", "--bogus"), 2,
         "option inconnue : --bogus"),
        (("pay", "--household", "H000002", "--amount", "5", "--method", "card"), 2,
         "valeur invalide « card » pour --method"),
        (("book", "--enrollment", "nope", "--day", "2023-11-07"), 1,
         "inscription introuvable : nope"),
    ):  # fmt: skip
        result = run(*args[:1], "--config", str(site), *args[1:])
        one_line_error(result, code, text)
        for internal in ("<class", "Traceback", "Error:", "TariffCategory.", "(see '"):
            assert internal not in result.stderr, result.stderr


def test_an_unexpected_failure_is_one_line_not_a_traceback(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(Canteen, "open", broken)
    result = run("households", "list", "--config", str(site))
    one_line_error(result, 1, "erreur interne inattendue (KeyError)")
    assert "boom" not in result.stderr


ALBAN = "CONCERTO-alban-rs"


def booked(config: Path) -> list[str]:
    with Canteen.open(config) as canteen:
        return [d.isoformat() for d in canteen.reservations.booked_days(ADMIN, ALBAN)]


def test_book_days_a_range_and_a_periodicity(site: Path) -> None:
    cancelled = data(run("book", "--config", str(site), "--enrollment", ALBAN, "--from",
                         "2023-11-06", "--to", "2023-11-30", "--cancel", "--json"))  # fmt: skip
    assert cancelled["cancelled"] == ["2023-11-06", "2023-11-13", "2023-11-20", "2023-11-27"]
    added = data(run("book", "--config", str(site), "--enrollment", ALBAN, "--day", "2023-11-07",
                     "--day", "08/11/2023", "--json"))  # fmt: skip
    assert added["booked"] == ["2023-11-07"]
    assert [s["reason"] for s in added["skipped"]] == ["closed"]
    pattern = run("book", "--config", str(site), "--enrollment", ALBAN, "--from", "2023-12-01",
                  "--to", "2023-12-22", "--weekdays", "mon,thu")  # fmt: skip
    assert pattern.exit_code == 0, pattern.output
    assert "jours réservés" in pattern.stdout
    days = booked(site)
    assert "2023-11-06" not in days
    assert {"2023-11-07", "2023-12-04", "2023-12-07"} <= set(days)


def test_book_bad_input_changes_nothing(site: Path) -> None:
    before = booked(site)
    one_line_error(run("book", "--config", str(site), "--enrollment", ALBAN, "--day",
                       "2023-02-30"), 2, "date invalide")  # fmt: skip
    one_line_error(run("book", "--config", str(site), "--enrollment", ALBAN, "--from",
                       "2023-12-10", "--to", "2023-12-01"), 2, "--to")  # fmt: skip
    missing = run("book", "--config", str(site), "--enrollment", "nope", "--day", "2023-12-04")
    assert missing.exit_code == 1
    assert missing.stderr.count("\n") == 1
    assert booked(site) == before


def test_headcount_of_a_site(site: Path) -> None:
    result = data(run("headcount", "--config", str(site), "--site", "ronde", "--date",
                      "2023-09-04", "--to", "2023-09-06", "--json"))  # fmt: skip
    days = result["days"]
    assert [d["date"] for d in days] == ["2023-09-04", "2023-09-05", "2023-09-06"]
    assert days[0]["total"] > 0
    # Wednesday: the canteen is closed; the meals are the Wednesday service's.
    assert days[2]["total"] > 0
    lunch = data(run("headcount", "--config", str(site), "--site", "ronde", "--date",
                     "2023-09-06", "--service", "rs", "--json"))  # fmt: skip
    assert lunch["days"][0]["total"] == 0
    assert days[0]["total"] == days[0]["total_meals"] + days[0]["pai_baskets"]
    text = run("headcount", "--config", str(site), "--site", "ronde", "--date", "2023-09-04")
    assert "repas (standard" in text.stdout


def test_each_diet_has_one_french_name_for_the_cli_and_the_pages() -> None:
    """The kitchen's words live on :class:`Diet`: ``canteen headcount`` and the pages read
    them there, so the two cannot drift apart."""
    assert {diet.value: diet.label for diet in Diet} == {
        "standard": "standard",
        "no_pork": "sans porc",
        "vegetarian": "végétarien",
    }
    assert dict(DIET_LABELS_FR) == {diet: diet.label for diet in Diet}
    assert dict(DIETS_FR) == {diet.value: diet.label for diet in Diet}
    assert diet_fr(Diet.NO_PORK) == diet_fr("no_pork") == "sans porc"
    assert diet_fr("halal") == "halal"  # a value the enum does not know: shown as it is


def test_headcount_bad_input(site: Path) -> None:
    one_line_error(run("headcount", "--config", str(site), "--site", "nope", "--date",
                       "2023-09-04"), 1, "site inconnu")  # fmt: skip
    one_line_error(run("headcount", "--config", str(site), "--site", "ronde", "--date",
                       "demain"), 2, "--date")  # fmt: skip


# -- bill, invoices, pay --------------------------------------------------------------------------


def test_bill_a_month_then_again(site: Path) -> None:
    first = data(run("bill", "--config", str(site), "--period", "2023-10", "--json",
                     now="2023-11-02T08:00:00+01:00"))  # fmt: skip
    assert len(first["issued"]) == 6
    total = sum(Decimal(i["total"]) for i in first["issued"])
    assert Decimal(first["total"]) == total
    again = run("bill", "--config", str(site), "--period", "2023-10",
                now="2023-11-02T09:00:00+01:00")  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "0 facture émise (0,00 €), 6 foyers déjà facturés" in again.stdout
    assert again.stderr == ""  # no progress bar off a terminal


def test_bill_refuses_a_month_not_over_unless_asked(site: Path) -> None:
    db = site.parent / "canteen.db"
    before = counts(db)
    refused = run("bill", "--config", str(site), "--period", "2023-11",
                  now="2023-11-15T08:00:00+01:00")  # fmt: skip
    assert refused.exit_code != 0
    assert "Traceback" not in refused.output
    assert len(refused.output.strip().splitlines()) == 1, refused.output
    assert counts(db) == before
    asked = data(run("bill", "--config", str(site), "--period", "2023-11", "--allow-unfinished",
                     "--json", now="2023-11-15T08:00:00+01:00"))  # fmt: skip
    assert asked["issued"]
    assert asked["skipped"] == []


def test_bill_bad_period_changes_nothing(site: Path) -> None:
    db = site.parent / "canteen.db"
    before = counts(db)
    one_line_error(
        run("bill", "--config", str(site), "--period", "2023-13"), 2, "mois invalide « 2023-13 »"
    )
    assert counts(db) == before


def test_invoices_of_a_household_and_of_the_commune(site: Path, tmp_path: Path) -> None:
    page = run("invoices", "--config", str(site), "--household", "CONCERTO")
    assert page.exit_code == 0, page.output
    assert "Payeur : Madame CONCERTO Maman" in page.stdout
    assert "Vous n'avez aucune facture non réglée" in page.stdout
    assert "SEPTEMBRE 2023  02/10/2023  01/11/2023" in page.stdout
    everything = data(run("invoices", "--config", str(site), "--json"))
    assert len(everything["invoices"]) == 6
    unpaid = data(run("invoices", "--config", str(site), "--unpaid", "--json"))
    assert all(Decimal(i["balance_due"]) > 0 for i in unpaid["invoices"])
    assert unpaid["unpaid"] == len(unpaid["invoices"]) == 4
    pdfs = tmp_path / "pdf"
    pdfs.mkdir()
    run("invoices", "--config", str(site), "--household", "CONCERTO", "--pdf", str(pdfs))
    [pdf] = list(pdfs.iterdir())
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "2023-000001" in text
    assert "13,40" in text


def test_invoices_of_a_household_say_the_credit_to_refund(site: Path) -> None:
    """Money paid beyond the invoices is the family's: the régie sees it beside the invoices
    (and what refunds it), not only in the portal's statement."""
    assert "Avoir disponible" not in run("invoices", "--config", str(site),
                                         "--household", "CONCERTO").stdout  # fmt: skip
    paid = run("pay", "--config", str(site), "--household", "CONCERTO", "--amount", "20")
    assert paid.exit_code == 0, paid.output
    page = run("invoices", "--config", str(site), "--household", "CONCERTO")
    assert page.exit_code == 0, page.output
    assert page.stdout.splitlines()[-1] == (
        "Avoir disponible du foyer : 20,00 € (canteen refund pour le rembourser)"
    )
    listed = data(run("invoices", "--config", str(site), "--household", "CONCERTO", "--json"))
    assert listed["available_credit"] == "20.00"


def test_invoices_bad_input(site: Path, tmp_path: Path) -> None:
    one_line_error(run("invoices", "--config", str(site), "--household", "NOPE"), 1, "NOPE")
    one_line_error(run("invoices", "--config", str(site), "--pdf", str(tmp_path / "no")), 2,
                   "--pdf")  # fmt: skip


def balance(config: Path, household: str) -> Decimal:
    with Canteen.open(config) as canteen:
        return canteen.billing.statement(ADMIN, household).balance_due.amount


def test_pay_at_the_counter(site: Path) -> None:
    before = balance(site, "H000002")
    result = data(run("pay", "--config", str(site), "--household", "H000002", "--amount",
                      "10,50", "--method", "cheque", "--reference", "01234", "--json"))  # fmt: skip
    assert result["amount"] == "10.50"
    assert result["method"] == "cheque"
    assert balance(site, "H000002") == before - Decimal("10.50")


def test_pay_bad_input_changes_nothing(site: Path) -> None:
    before = balance(site, "H000002")
    one_line_error(run("pay", "--config", str(site), "--household", "H000002", "--amount",
                       "dix"), 2, "amount")  # fmt: skip
    negative = run("pay", "--config", str(site), "--household", "H000002", "--amount", "-5")
    assert negative.exit_code in (1, 2)
    assert negative.stderr.count("\n") == 1
    one_line_error(run("pay", "--config", str(site), "--household", "H000002", "--amount", "5",
                       "--invoice", "1999-000001"), 1, "1999-000001")  # fmt: skip
    one_line_error(run("pay", "--config", str(site), "--household", "H000002", "--amount", "5",
                       "--method", "card"), 2, "card")  # fmt: skip
    assert balance(site, "H000002") == before


def test_a_cheque_receipt_states_the_day_it_was_received(site: Path) -> None:
    # Issue 14, item 6: recorded on 6 October for a cheque received on 2 October.
    data(run("pay", "--config", str(site), "--household", "H000002", "--amount", "5",
             "--method", "cheque", "--reference", "0042", "--date", "2023-10-02",
             "--json"))  # fmt: skip
    data(run("outbox", "send", "--config", str(site), "--json"))
    receipts = []
    for mail in (site.parent / "mail").glob("payment-received.*.eml"):
        message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
        body = message.get_body(("plain",))  # type: ignore[attr-defined]
        receipts.append(body.get_content())
    mentions = [text for text in receipts if "5,00 €" in text and "chèque" in text]
    assert mentions, receipts[:1]
    assert all("2 octobre 2023" in text for text in mentions)
    assert not any("6 octobre 2023" in text for text in mentions)


def test_pay_reads_french_amounts_and_refuses_exponents_and_huge_amounts(site: Path) -> None:
    before = balance(site, "H000002")
    one_line_error(run("pay", "--config", str(site), "--household", "H000002", "--amount",
                       "1e9"), 2, "n'est pas un nombre")  # fmt: skip
    one_line_error(run("pay", "--config", str(site), "--household", "H000002", "--amount",
                       "10\u202f000,01"), 1,
                   "dépasse le plafond de 10 000,00 € ; vérifiez le montant, ou confirmez-le "
                   "explicitement (--above-ceiling)")  # fmt: skip
    assert balance(site, "H000002") == before
    result = data(run("pay", "--config", str(site), "--household", "H000002", "--amount",
                      "1\u00a0000,00", "--json"))  # fmt: skip
    assert result["amount"] == "1000.00"
    site.write_text(site.read_text(encoding="utf-8") + '\n[money]\nmax_payment = "20000"\n')
    result = data(run("pay", "--config", str(site), "--household", "H000002", "--amount",
                      "15 000", "--json"))  # fmt: skip
    assert result["amount"] == "15000.00"
    result = data(run("pay", "--config", str(site), "--household", "H000002", "--amount",
                      "25000", "--above-ceiling", "--json"))  # fmt: skip
    assert result["amount"] == "25000.00"


# -- sepa, simulate, outbox -----------------------------------------------------------------------

SEPA = """
[payment.sepa]
creditor_name = "Régie de restauration scolaire de Ronde"
creditor_iban = "FR7630004000031234567890143"
creditor_id = "FR72ZZZ123456"
"""


def with_mandate(config: Path) -> None:
    config.write_text(config.read_text(encoding="utf-8") + SEPA, encoding="utf-8")
    clock = FixedClock(datetime(2023, 10, 6, 7, tzinfo=UTC))
    with Canteen.open(config, clock=clock) as canteen:
        canteen.payments.sign_mandate(ADMIN, "H000002", iban="FR7630006000011234567890189")


def test_sepa_export_writes_a_pain008_file(site: Path, tmp_path: Path) -> None:
    with_mandate(site)
    out = tmp_path / "prelevements.xml"
    result = data(run("sepa", "export", "--config", str(site), "--collection-date",
                      "2023-10-25", "--out", str(out), "--json"))  # fmt: skip
    assert result["count"] == 1
    assert result["debits"][0]["household_id"] == "H000002"
    assert b"pain.008.001.02" in out.read_bytes()
    assert balance(site, "H000002") == 0


def test_sepa_export_bad_input_writes_nothing(site: Path, tmp_path: Path) -> None:
    with_mandate(site)
    before = balance(site, "H000002")
    out = tmp_path / "prelevements.xml"
    too_soon = run("sepa", "export", "--config", str(site), "--collection-date", "2023-10-08",
                   "--out", str(out))  # fmt: skip
    assert too_soon.exit_code in (1, 2)
    assert too_soon.stderr.count("\n") == 1
    assert not out.exists()
    out.write_text("keep", encoding="utf-8")
    one_line_error(run("sepa", "export", "--config", str(site), "--collection-date",
                       "2023-10-25", "--out", str(out)), 2, "existe déjà")  # fmt: skip
    assert out.read_text(encoding="utf-8") == "keep"
    assert balance(site, "H000002") == before


GRID = """\
valid_from = 2024-09-01
[prices.resident_child]
thresholds = [450, 1000]
prices = ["1.00", "2.50", "4.00"]
[prices.non_resident_child]
price = 5.60
"""
EFFORT = """\
id = "projet"
valid_from = 2024-09-01
[prices.resident_child]
effort_rate = "0.35"
min = "1.00"
max = "5.00"
[[sibling_discounts]]
from_rank = 3
percent = 20
[unbooked_surcharge]
add = "1.00"
"""
POPULATION = "household_id;qf;children;meals_per_month\nH1;300;2;14\nH2;812,50;1;16\nH3;;3;12\n"


def test_simulate_and_compare_two_grids(tmp_path: Path) -> None:
    (tmp_path / "actuelle.toml").write_text(GRID, encoding="utf-8")
    (tmp_path / "projet.toml").write_text(EFFORT, encoding="utf-8")
    (tmp_path / "foyers.csv").write_text(POPULATION, encoding="utf-8")
    plot = tmp_path / "recettes.png"
    result = data(run("simulate", "--grid", str(tmp_path / "actuelle.toml"), "--population",
                      str(tmp_path / "foyers.csv"), "--compare", str(tmp_path / "projet.toml"),
                      "--plot", str(plot), "--json"))  # fmt: skip
    assert [r["grid"] for r in result["results"]] == ["actuelle", "projet"]
    base = result["results"][0]
    assert base["aid_eligible"] is True
    assert Decimal(base["revenue"]) == sum(Decimal(b["revenue"]) for b in base["bands"])
    assert plot.read_bytes().startswith(b"\x89PNG")
    text = run("simulate", "--grid", str(tmp_path / "actuelle.toml"), "--population",
               str(tmp_path / "foyers.csv"))  # fmt: skip
    assert "Grille actuelle (10 mois) : recettes familles" in text.stdout


def test_simulate_bad_grid(tmp_path: Path) -> None:
    (tmp_path / "g.toml").write_text("[prices.resident_child]\nprice = 3\n", encoding="utf-8")
    (tmp_path / "foyers.csv").write_text(POPULATION, encoding="utf-8")
    result = run("simulate", "--grid", str(tmp_path / "g.toml"), "--population",
                 str(tmp_path / "foyers.csv"), "--plot", str(tmp_path / "p.png"))  # fmt: skip
    assert result.exit_code != 0
    assert "valid_from" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "p.png").exists()


def test_outbox_send_writes_the_queued_emails(site: Path) -> None:
    result = data(run("outbox", "send", "--config", str(site), "--json"))
    mails = sorted((site.parent / "mail").glob("*.eml"))
    assert result["sent"] == len(mails) > 0  # the demo's invoices and payment receipts
    assert result["pending"] == 0
    assert any(m.name.startswith("invoice-issued.") for m in mails)
    again = data(run("outbox", "send", "--config", str(site), "--json"))
    assert again["sent"] == 0


def test_outbox_send_bad_input(tmp_path: Path) -> None:
    one_line_error(run("outbox", "send", "--config", str(tmp_path / "x.toml")), 1, "introuvable")


def test_operator_name_must_be_one_word(site: Path) -> None:
    one_line_error(run("invoices", "--config", str(site), "--as", "two words"), 2, "--as")
