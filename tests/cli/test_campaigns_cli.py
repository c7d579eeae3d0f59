"""``canteen campaign``: open a family-quotient campaign and a re-enrollment on a copy of a
small demo deployment, follow them, remind, close; bad input is one French line."""

from __future__ import annotations

import json
from pathlib import Path

from ._demo_site import run

NOVEMBER = "2023-11-15T10:00:00+01:00"
DECEMBER = "2023-12-16T10:00:00+01:00"


def test_quotient_campaign_from_the_command_line(site: Path) -> None:
    config = ["--config", str(site)]
    opened = run(
        "campaign", "qf", "--valid-from", "2024-01-01", "--deadline", "15/12/2023",
        *config, "--json", now=NOVEMBER,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    data = json.loads(opened.stdout)
    campaign_id = data["id"]
    assert data["title"] == "Quotient familial au 01/01/2024"
    assert data["counts"] == {"awaiting": 4}  # the three demo households and CONCERTO

    listed = run("campaign", "list", *config, now=NOVEMBER)
    assert listed.exit_code == 0, listed.output
    assert "Quotient familial au 01/01/2024 — ouverte, date limite ven. 15/12/2023" in listed.stdout
    shown = run("campaign", "show", campaign_id, "--state", "awaiting", *config, now=NOVEMBER)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.count("en attente de réponse") == 5  # the summary and 4 households
    reminded = run("campaign", "remind", campaign_id, *config, now=NOVEMBER)
    assert reminded.exit_code == 0, reminded.output
    assert "4 foyer(s) relancé(s)" in reminded.stdout

    early = run("campaign", "close", campaign_id, *config, now=NOVEMBER)
    assert early.exit_code == 1
    assert early.stderr.startswith("Erreur : ")
    assert "jusqu'au 15/12/2023 inclus" in early.stderr
    closed = run("campaign", "close", campaign_id, *config, "--json", now=DECEMBER)
    assert closed.exit_code == 0, closed.output
    assert json.loads(closed.stdout)["counts"] == {"top_bracket": 4}
    again = run("campaign", "close", campaign_id, *config, "--json", now=DECEMBER)
    assert json.loads(again.stdout) == json.loads(closed.stdout)


def test_rollover_and_bad_input_from_the_command_line(site: Path) -> None:
    config = ["--config", str(site)]
    may = "2024-05-15T10:00:00+02:00"
    opened = run(
        "campaign", "rollover", "--school-year", "2024", "--deadline", "2024-06-15",
        *config, now=may,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    assert "Réinscriptions 2024-2025 — ouverte, date limite sam. 15/06/2024" in opened.stdout
    twice = run(  # canteen rollover open is canteen campaign rollover
        "rollover", "open", "--school-year", "2024", "--deadline", "2024-06-15",
        *config, now=may,
    )  # fmt: skip
    assert twice.exit_code == 1
    assert "déjà ouverte" in twice.stderr
    bad_date = run(
        "campaign", "qf", "--valid-from", "demain", "--deadline", "2024-06-01", *config, now=may
    )
    assert bad_date.exit_code == 2
    assert "--valid-from : date invalide" in bad_date.stderr
    unknown = run("campaign", "show", "nope", *config, now=may)
    assert unknown.exit_code == 1
    assert "campagne introuvable" in unknown.stderr


def test_close_year_from_the_command_line(site: Path) -> None:
    config = ["--config", str(site)]
    early = run("campaign", "close-year", "2023-2024", *config, now="2024-06-20T10:00:00+02:00")
    assert early.exit_code == 1
    assert early.stderr.startswith("Erreur : l'année scolaire 2023-2024 ne peut être clôturée")
    bad = run("campaign", "close-year", "l'an dernier", *config, now=DECEMBER)
    assert bad.exit_code == 2  # bad input, as the other commands
    assert "année scolaire invalide : « l'an dernier »" in bad.stderr
    assert "\n" not in bad.stderr.strip()
    august = "2024-08-20T10:00:00+02:00"
    closed = run("campaign", "close-year", "2023-2024", *config, "--json", now=august)
    assert closed.exit_code == 0, closed.output
    data = json.loads(closed.stdout)
    assert data["school_year"] == "2023-2024"
    assert data["open_invoices"] >= 0
    text = run("rollover", "close-year", "2023", *config, now=august)  # the same command
    assert text.exit_code == 1
    assert "Erreur : l'année scolaire 2023-2024 est déjà clôturée" in text.stderr
    frozen = run(
        "book", "--enrollment", "CONCERTO-alban-rs", "--day", "2024-06-03", *config, now=august
    )
    assert frozen.exit_code == 1, frozen.output
    assert "l'année scolaire 2023-2024 est clôturée" in frozen.stderr
