"""The platform registry, the commune reports and the month-end command's argument checks
(no broker needed: everything here is refused or computed before a message is sent)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("celery", reason="the jobs tests need canteen[jobs]")

from canteen_adapters.cli import main
from canteen_adapters.jobs.registry import Commune, Registry, load_registry, parse_registry
from canteen_adapters.jobs.report import CommuneReport, StepReport, describe_error_fr
from canteen_adapters.jobs.tasks import _merge_batches
from canteen_core.domain.errors import ConfigurationError, NotFoundError, StorageError

REGISTRY = """
[[commune]]
code = "RONDE"
name = "Ronde"
deployment = "ronde/canteen.toml"

[[commune]]
code = "CARRE"
deployment = "/srv/carre/canteen.toml"
"""


def test_registry_resolves_relative_deployments_against_its_folder(tmp_path: Path) -> None:
    file = tmp_path / "platform.toml"
    file.write_text(REGISTRY, encoding="utf-8")
    registry = load_registry(file)
    assert registry.communes == (
        Commune(code="RONDE", name="Ronde", deployment=tmp_path / "ronde" / "canteen.toml"),
        Commune(code="CARRE", name="CARRE", deployment=Path("/srv/carre/canteen.toml")),
    )
    assert [c.code for c in registry.select(["CARRE"])] == ["CARRE"]
    assert registry.select(None) == registry.communes
    assert Commune.from_message(registry.communes[0].to_message()) == registry.communes[0]


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("", "commune"),
        ("[[commune]]\ncode = 'A B'\ndeployment = 'x.toml'\n", "commune[0].code"),
        ("[[commune]]\ncode = 'A'\n", "commune[0].deployment"),
        ("[[commune]]\ncode = 'A'\ndeployment = 'x'\ncolour = 1\n", "commune[0].colour"),
        ("[[commune]]\ncode='A'\ndeployment='x'\n[[commune]]\ncode='A'\ndeployment='y'\n",
         "commune[1].code"),
        ("other = 1\n", "other"),
    ],
)  # fmt: skip
def test_registry_errors_name_the_key(text: str, path: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_registry(text)
    assert caught.value.path == path
    assert caught.value.message.startswith(f"platform.toml : {path} : ")


def test_registry_refuses_an_unknown_commune_in_french() -> None:
    registry = Registry.single("/srv/ronde/canteen.toml", code="RONDE")
    with pytest.raises(NotFoundError, match="commune inconnue dans le registre : LUNE"):
        registry.select(["RONDE", "LUNE"])


def test_unreadable_registry_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="registre des communes illisible"):
        load_registry(tmp_path / "none.toml")


def test_report_round_trips_and_speaks_french() -> None:
    report = (
        CommuneReport(commune="RONDE", name="Ronde", period="2023-09")
        .with_step(StepReport(step="billing", ok=True, detail="2 factures émises"), invoices=2)
        .failed("direct_debit", StorageError("connection lost"))
    )
    assert not report.ok
    assert CommuneReport.from_dict(report.to_dict()) == report
    assert report.lines_fr() == [
        "Ronde (RONDE), 2023-09 : ÉCHEC",
        "  - facturation : 2 factures émises",
        "  - prélèvement : ÉCHEC, base de données indisponible : connection lost",
    ]
    assert describe_error_fr(RuntimeError("boom\nagain")) == "erreur inattendue : boom again"


def test_a_batch_delivered_twice_counts_its_invoices_once() -> None:
    first = {"index": 1, "issued": [["h1", "2023-000001", "3.00"]], "already": [], "empty": []}
    again = {"index": 1, "issued": [], "already": ["h1"], "empty": []}
    failed = {"index": 2, "error": "base de données indisponible : x"}
    issued, already, empty, errors = _merge_batches([first, again, failed])
    assert issued == {"h1": ("2023-000001", "3.00")}
    assert already == set()
    assert empty == set()
    assert errors == ["lot 3 : base de données indisponible : x"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--period", "2023-13"], 2, "--period : mois invalide « 2023-13 » (attendu AAAA-MM)"),
        (["--period", "2023-09", "--communes", "LUNE"], 1, "commune inconnue dans le registre"),
        (["--period", "2023-09", "--collection-date", "demain"], 2, "--collection-date : date"),
    ],
)
def test_month_end_refuses_bad_arguments_before_queueing(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    registry = tmp_path / "platform.toml"
    registry.write_text(REGISTRY, encoding="utf-8")
    result = CliRunner().invoke(main, ["month-end", "--registry", str(registry), *args])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_registry_toml_names_the_line_in_french() -> None:
    with pytest.raises(ConfigurationError, match=r"platform.toml : TOML invalide, ligne 1"):
        parse_registry("[[commune]\n")
