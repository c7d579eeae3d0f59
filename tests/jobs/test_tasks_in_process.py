"""The month-end tasks run in this process (Celery's ``apply``: no message broker): a commune
that cannot be opened gets a French report instead of an exception, after retries when the
database does not answer; a commune with no billing batch goes straight to its last steps."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("celery", reason="the jobs tests need canteen[jobs]")

from canteen_adapters.jobs.report import CommuneReport
from canteen_adapters.jobs.tasks import MAX_RETRIES, bill_batch, plan_commune

from ._communes import BILLING_NOW, PERIOD, build_commune


def _plan(deployment: Path, period: str = "2023-09") -> CommuneReport:
    commune = {"code": "RONDE", "name": "Ronde", "deployment": str(deployment)}
    result = plan_commune.apply(args=[commune, period, {}])
    assert result.state == "SUCCESS"
    return CommuneReport.from_dict(result.result)


def test_a_missing_deployment_is_reported_in_french(tmp_path: Path) -> None:
    report = _plan(tmp_path / "nowhere" / "canteen.toml")
    assert not report.ok
    assert report.lines_fr()[0] == "Ronde (RONDE), 2023-09 : ÉCHEC"
    assert report.lines_fr()[1].startswith(
        "  - facturation : ÉCHEC, configuration invalide : fichier de déploiement illisible"
    )


def test_an_unreachable_database_is_retried_then_reported(tmp_path: Path) -> None:
    deployment = tmp_path / "canteen.toml"
    deployment.write_text(
        '[storage]\nurl = "postgresql://postgres@127.0.0.1:1/none"\n'
        '[issuer]\nname = "Régie de Ronde"\ncode = "RONDE"\n',
        encoding="utf-8",
    )
    commune = {"code": "RONDE", "name": "Ronde", "deployment": str(deployment)}
    result = bill_batch.apply(args=[commune, "2023-09", ["h1"], 0])
    assert result.result["error"].startswith("base de données indisponible : ")
    assert MAX_RETRIES == 3
    report = _plan(deployment)
    assert report.steps[0].detail.startswith("base de données indisponible : ")


def test_a_bad_period_is_refused_before_opening_anything(tmp_path: Path) -> None:
    report = _plan(tmp_path / "canteen.toml", period="2023-13")
    assert report.steps[0].detail == (
        "donnée invalide : period: mois invalide « 2023-13 » : écrivez 2023-09"
    )


@pytest.mark.parametrize(
    ("mode", "billing"),
    [
        ("postpaid", ["facturation : 0 facture émise (0,00 €), 0 foyer déjà facturé, "
                      "0 foyer sans consommation",
                      "envoi des factures : 0 facture envoyée par e-mail, 0 facture à imprimer"]),
        # Prepaid: the month-end invoices the baskets no validation invoiced (none here).
        ("prepaid", ["facturation : 0 facture émise (0,00 €), 0 foyer déjà facturé, "
                     "0 foyer sans consommation",
                     "envoi des factures : 0 facture envoyée par e-mail, 0 facture à imprimer"]),
    ],
)  # fmt: skip
def test_a_commune_without_batches_goes_straight_to_its_last_steps(
    tmp_path: Path,
    sqlite_template: Path,
    monkeypatch: pytest.MonkeyPatch,
    brokers: tuple[str, str],  # the last step reports its progress to Redis
    mode: str,
    billing: list[str],
) -> None:
    monkeypatch.setenv("CANTEEN_NOW", "2023-10-02T09:00:00+02:00")
    shutil.copyfile(sqlite_template, tmp_path / "canteen.db")
    deployment = tmp_path / "canteen.toml"
    deployment.write_text(
        '[storage]\nurl = "sqlite:///canteen.db"\n'
        '[issuer]\nname = "Régie de Ronde"\ncode = "RONDE"\n'
        f'[billing]\nmode = "{mode}"\n[calendar]\ndepartment = "75"\n',
        encoding="utf-8",
    )
    report = _plan(deployment)
    assert report.ok
    assert [step.line_fr() for step in report.steps] == [
        *billing,
        "prélèvement : aucun prélèvement configuré (pas de [payment.sepa])",
        "relances : 0 relance envoyée",
        "envoi des e-mails : 0 e-mail envoyé",
    ]


def test_a_prepaid_commune_invoices_at_month_end_what_no_validation_invoiced(
    tmp_path: Path,
    sqlite_template: Path,
    monkeypatch: pytest.MonkeyPatch,
    brokers: tuple[str, str],
) -> None:
    """Days booked by staff (here straight into storage) were never in a family's validated
    basket: on a prepaid deployment the month-end invoices them, once."""
    commune = build_commune(tmp_path, "PRE", "Prépayée", households=2, template=sqlite_template)
    text = commune.deployment.read_text(encoding="utf-8")
    commune.deployment.write_text(text + '\n[billing]\nmode = "prepaid"\n', encoding="utf-8")
    monkeypatch.setenv("CANTEEN_NOW", BILLING_NOW)
    monkeypatch.chdir(commune.folder)
    message = {"code": commune.code, "name": commune.name, "deployment": str(commune.deployment)}
    first = plan_commune.apply(args=[message, PERIOD, {}])
    assert first.state == "SUCCESS", first.result
    report = CommuneReport.from_dict(first.result)
    assert report.steps[0].line_fr().startswith("facturation : 2 factures émises ("), report
    again = CommuneReport.from_dict(plan_commune.apply(args=[message, PERIOD, {}]).result)
    assert again.steps[0].line_fr().startswith("facturation : 0 facture émise (0,00 €)"), again
