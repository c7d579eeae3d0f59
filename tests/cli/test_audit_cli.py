"""``canteen audit`` and ``canteen audit verify`` on a copy of the demo's SQLite deployment."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner
from pypdf import PdfReader

from canteen_adapters.cli import main

from ._demo_site import run


def test_the_demo_trail_says_who_enrolled_the_concerto_child(site: Path) -> None:
    result = run("audit", "--config", str(site), "--household", "CONCERTO", "--json")
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)["entries"]
    enrolled = [e for e in entries if e["action"] == "manage_enrollments"]
    assert enrolled
    assert enrolled[0]["actor_id"] == "demo:admin"
    (change,) = [c for c in enrolled[0]["changes"] if c["after"]["child_id"] == "concerto-alban"]
    assert change["before"] is None
    assert all("CONCERTO" in e["household_ids"] for e in entries)
    text = run("audit", "--config", str(site), "--household", "CONCERTO")
    assert text.exit_code == 0, text.output
    assert "demo:admin manage_enrollments [" in text.stdout
    assert "None" not in text.stdout


def test_the_demo_trail_says_who_changed_the_concerto_qf_with_before_and_after(
    site: Path,
) -> None:
    result = run("audit", "--config", str(site), "--household", "CONCERTO", "--json")
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)["entries"]
    (changed,) = [e for e in entries if e["action"] == "manage_family_quotient"]
    assert changed["actor_id"] == "demo:regie"
    (change,) = changed["changes"]
    assert change["entity"] == "household:CONCERTO"
    assert [(q["value"], q["valid_until"]) for q in change["before"]] == [("850", None)]
    assert [(q["value"], q["valid_from"], q["valid_until"]) for q in change["after"]] == [
        ("850", "2023-01-01", "2023-10-31"),
        ("620", "2023-11-01", None),
    ]
    text = run("audit", "--config", str(site), "--household", "CONCERTO", "--actor", "demo:regie")
    assert text.exit_code == 0, text.output
    assert (
        "demo:regie manage_family_quotient [CONCERTO] : QF du foyer CONCERTO : 620" in text.stdout
    )
    assert '"value": "850"}] -> [{' in text.stdout  # before -> after, on one line


def test_a_household_trail_shows_only_its_part_of_bulk_entries(site: Path) -> None:
    # The demo's import, enrollment and billing each cover every household: CONCERTO's
    # trail shows its own changes and one French line for the rest, never another's data.
    text = run("audit", "--config", str(site), "--household", "CONCERTO")
    assert text.exit_code == 0, text.output
    assert "H00000" not in text.stdout
    assert "[CONCERTO et 3 autres foyers] : Import de 4 foyer(s)" in text.stdout
    assert "household:CONCERTO quotients : — -> " in text.stdout
    assert "modifications d'autres foyers (non affichées)" in text.stdout
    # The billing run says who issued CONCERTO's invoice (a French summary, its invoice).
    (billed,) = [line for line in text.stdout.splitlines() if " run_billing " in line]
    assert billed.startswith("n° ")
    assert " demo:regie run_billing [CONCERTO et " in billed
    assert ": Facturation du 01/09/2023 au 30/09/2023 : " in billed
    assert "    invoice:" in text.stdout
    # PayZen's notification of CONCERTO's payment: in French, on the household's trail.
    assert "system record_payment [CONCERTO] : Notification de paiement payzen : " in text.stdout
    result = run("audit", "--config", str(site), "--household", "CONCERTO", "--json")
    entries = json.loads(result.stdout)["entries"]
    assert "H00000" not in json.dumps([{k: v for k, v in e.items() if "hash" not in k}
                                       for e in entries])  # fmt: skip
    (imported,) = [e for e in entries if e["action"] == "manage_households"]
    assert imported["household_ids"] == ["CONCERTO"]
    assert imported["other_households"] == 3
    assert imported["other_changes"] == 3
    assert [c["entity"] for c in imported["changes"]] == ["household:CONCERTO"]
    # The whole trail still shows everything.
    whole = run("audit", "--config", str(site))
    assert "household:H000001 quotients" in whole.stdout


def test_verify_passes_then_names_the_row_edited_with_raw_sql(site: Path) -> None:
    ok = run("audit", "verify", "--config", str(site))
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.stdout
    with sqlite3.connect(site.parent / "canteen.db") as connection:
        connection.execute(
            "UPDATE audit_log SET details = replace(details, 'Enregistrement', 'Effacement') "
            "WHERE sequence = 2"
        )
    broken = run("audit", "verify", "--config", str(site))
    assert broken.exit_code == 1
    assert broken.stderr.startswith("Erreur : ")
    assert broken.stderr.count("\n") == 1
    assert "altéré à l'entrée n° 2" in broken.stderr
    as_json = run("audit", "verify", "--config", str(site), "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["broken_sequence"] == 2


def test_an_unknown_action_is_one_french_line(site: Path) -> None:
    result = run("audit", "--config", str(site), "--action", "nimporte")
    assert result.exit_code == 2
    assert "action inconnue" in result.stderr
    assert result.stderr.count("\n") == 1


def test_household_export_says_what_it_wrote_in_json(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "concerto.json"
    result = run("household", "export", "--config", str(site), "--household", "CONCERTO",
                 "--out", str(out), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    said = json.loads(result.stdout)
    assert said["file"] == str(out)
    assert said["summary"] == str(out.with_suffix(".pdf"))
    assert said["records"] > 0


def test_household_export_writes_json_and_a_french_pdf(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "concerto.json"
    result = run("household", "export", "--config", str(site), "--household", "CONCERTO",
                 "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    exported = json.loads(out.read_text(encoding="utf-8"))
    data = exported["data"]
    assert data["household"][0]["id"] == "CONCERTO"
    assert len(data["invoices"]) == 1
    assert len(data["payments"]) == 1
    assert len(data["accounts"]) == 1
    assert "password_hash" not in json.dumps(data["accounts"])
    assert len(data["payment_requests"]) == 1
    assert len(data["payment_notifications"]) == 2  # PayZen's, for the payment started
    # Every row of the database that names the household is in the export.
    db = site.parent / "canteen.db"
    for table, column, section in (
        ("households", "id", "household"),
        ("enrollments", "household_id", "enrollments"),
        ("invoices", "household_id", "invoices"),
        ("payments", "household_id", "payments"),
        ("payment_requests", "household_id", "payment_requests"),
        ("audit_households", "household_id", "audit"),
    ):
        with sqlite3.connect(db) as connection:
            (count,) = connection.execute(
                f"SELECT count(*) FROM {table} WHERE {column} = 'CONCERTO'"
            ).fetchone()
        if table == "audit_households":
            count -= 1  # the export's own entry, written after it gathered the data
        assert len(data[section]) == count > 0, table
    assert data["audit"]
    assert "H00000" not in json.dumps(data["audit"])  # no other household's share of bulk entries
    assert {c["key"] for c in exported["categories"]} >= {"health", "accounting", "audit"}
    text = "".join(page.extract_text() for page in PdfReader(out.with_suffix(".pdf")).pages)
    assert "VOS DONNÉES PERSONNELLES" in text
    assert "Durée de conservation" in text


def test_household_erase_refuses_an_unpaid_household_then_erases_a_paid_up_one(
    site: Path,
) -> None:
    db = site.parent / "canteen.db"
    before = _counts(db)
    refused = run("household", "erase", "--config", str(site), "--household", "H000003")
    assert refused.exit_code == 1
    assert refused.stderr.startswith("Erreur : effacement refusé")
    assert refused.stderr.count("\n") == 1
    assert _counts(db) == before  # nothing changed (not even an audit entry)
    erased = run("household", "erase", "--config", str(site), "--household", "CONCERTO", "--json")
    assert erased.exit_code == 0, erased.output
    report = json.loads(erased.stdout)
    assert report["removed"]["inscriptions"] == 1
    kept = {item["what"]: item["count"] for item in report["kept"]}
    assert kept["factures"] == 1
    assert kept["paiements"] == 1
    with sqlite3.connect(db) as connection:
        assert connection.execute(
            "SELECT count(*) FROM households WHERE id='CONCERTO'"
        ).fetchone() == (0,)
        assert connection.execute(
            "SELECT count(*) FROM enrollments WHERE household_id='CONCERTO'"
        ).fetchone() == (0,)
        assert connection.execute(
            "SELECT count(*) FROM invoices WHERE household_id='CONCERTO'"
        ).fetchone() == (1,)
        assert connection.execute(
            "SELECT count(*) FROM accounts WHERE body LIKE '%CONCERTO%'"
        ).fetchone() == (0,)
    # Nothing else of it: its accounting documents (and the payment provider's proofs of
    # them) and the audit trail only.
    found = set(_tables_mentioning(db, "concerto"))
    assert found == {"invoices", "payments", "notifications_audit", "audit_log", "audit_households"}
    assert kept["notifications du prestataire de paiement"] == 2
    assert run("audit", "verify", "--config", str(site)).exit_code == 0


def test_refusals_are_one_french_line_and_change_nothing(site: Path, tmp_path: Path) -> None:
    db = site.parent / "canteen.db"
    before = _counts(db)
    for args in (
        ("household", "erase", "--household", "PERSONNE"),
        ("household", "export", "--household", "PERSONNE", "--out", str(tmp_path / "x.json")),
        ("audit", "--action", "voler"),
        ("audit", "--since", "2023-13-01"),
    ):
        refused = run(*args[:2], "--config", str(site), *args[2:])
        assert refused.exit_code in {1, 2}, refused.output
        assert refused.stderr.startswith("Erreur : "), refused.stderr
        assert refused.stderr.count("\n") == 1
        assert "Traceback" not in refused.output
    assert _counts(db) == before
    assert not (tmp_path / "x.json").exists()


def _tables_mentioning(db: Path, text: str) -> dict[str, int]:
    found = {}
    with sqlite3.connect(db) as connection:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            columns = [r[1] for r in connection.execute(f'PRAGMA table_info("{table}")')]
            joined = " || '|' || ".join(f"coalesce(cast(\"{c}\" as text), '')" for c in columns)
            (count,) = connection.execute(
                f'SELECT count(*) FROM "{table}" WHERE lower({joined}) LIKE ?',
                (f"%{text.lower()}%",),
            ).fetchone()
            if count:
                found[table] = count
    return found


def _counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as connection:
        names = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        return {n: connection.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in names}


def test_retention_run_is_a_dry_run_until_apply(site: Path) -> None:
    db = site.parent / "canteen.db"
    runner = CliRunner(env={"CANTEEN_NOW": "2025-09-01T10:00:00+02:00", "CANTEEN_CONFIG": None})
    before = _counts(db)
    dry = runner.invoke(main, ["retention", "run", "--config", str(site), "--json"])
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.stdout)
    assert report["applied"] is False
    assert {item["key"]: item["count"] > 0 for item in report["items"]}["audit"]
    assert _counts(db) == before
    applied = runner.invoke(main, ["retention", "run", "--config", str(site), "--apply"])
    assert applied.exit_code == 0, applied.output
    assert "supprimé(s)" in applied.stdout
    assert _counts(db)["audit_log"] < before["audit_log"]
    assert run("audit", "verify", "--config", str(site)).exit_code == 0
