"""``canteen audit`` and ``canteen audit verify`` on a copy of the demo's SQLite deployment."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from canteen_adapters.cli import main

NOW = "2023-10-06T09:00:00+02:00"


def run(*args: str) -> Result:
    runner = CliRunner(env={"CANTEEN_NOW": NOW, "CANTEEN_CONFIG": None})
    return runner.invoke(main, list(args), prog_name="canteen")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ronde-audit")
    result = CliRunner().invoke(
        main, ["demo", "--db", str(folder / "canteen.db"), "--households", "3"]
    )
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def site(template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "ronde"
    shutil.copytree(template, target)
    return target / "canteen.toml"


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
