"""Month-end on real brokers and worker processes, with workers SIGKILLed mid-run.

Three small SQLite communes and a broken one: a worker is killed after committing a billing
batch (before acknowledging it), a second one after writing a direct-debit file (before its
transaction commits), a third worker (``canteen worker``) finishes the run. Every household is
billed exactly once with gapless numbers, each mandate debited once in one file, each e-mail
sent once; the broken commune's report says why in French and does not stop the others; a
second run changes nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.clock import FixedClock
from canteen_core.services import Canteen

from ._communes import PERIOD, BuiltCommune, build_commune, registry_text
from .conftest import Spawn, canteen_command, wait_for

ADMIN = Actor.staff("admin", Role.ADMIN)
AFTER = FixedClock(datetime(2023, 10, 2, 12, 0, tzinfo=UTC))
PAUSING_WORKER = [sys.executable, "-m", "tests.jobs._pausing_worker"]
ROOT = Path(__file__).resolve().parents[2]


def _kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _check_commune(commune: BuiltCommune) -> None:
    """Each household billed once, numbers gapless, mandates debited once, mails sent once."""
    with Canteen.open(commune.deployment, clock=AFTER) as c:
        pages = c.billing.invoices_pages(ADMIN, commune.households)
        numbers = sorted(row.number for page in pages.values() for row in page.rows)
        assert [len(pages[h].rows) for h in commune.households] == [1] * len(commune.households)
        expected = [f"2023-{n:06d}" for n in range(1, len(commune.households) + 1)]
        assert numbers == expected
        # A debited invoice is paid from its collection date: until then it is scheduled.
        scheduled = [h for h in commune.households if pages[h].rows[0].status == "debit_scheduled"]
        assert scheduled == list(commune.households[: commune.mandates])
        records = c.accounts.outbox(ADMIN)
    # One invoice e-mail per household, one debit pre-notification per mandate.
    assert len(records) == len(commune.households) + commune.mandates
    assert {record.status.value for record in records} == {"sent"}
    assert len(list((commune.folder / "mail").glob("*.eml"))) == len(records)
    # No household chose paperless invoices: every invoice is in the commune's print batch.
    batch = commune.folder / "courrier" / f"courrier-{PERIOD}.pdf"
    assert batch.read_bytes().startswith(b"%PDF-")
    assert not list(batch.parent.glob("*.partial"))
    files = list((commune.folder / "sepa").glob("pain008-*.xml")) if commune.mandates else []
    assert len(files) == (1 if commune.mandates else 0)
    for file in files:
        assert file.read_text(encoding="utf-8").count("<DrctDbtTxInf>") == commune.mandates


@pytest.mark.slow
def test_month_end_survives_killed_workers(
    tmp_path: Path, job_env: dict[str, str], spawn: Spawn, sqlite_template: Path
) -> None:
    env = {**job_env, "PYTHONPATH": str(ROOT)}
    first, second = tmp_path / "paused-batch", tmp_path / "paused-sepa"
    # Two workers share the run; each stops (once, whichever gets there) after committing
    # RONDE's second billing batch before acknowledging it, and after writing CARRE's debit
    # file before the debit's transaction commits. Each is SIGKILLed there.
    pauses = f"batch:RONDE:1={first};sepa:CARRE={second}"
    # The workers start while the communes are built (they wait for the run).
    workers = [
        spawn(PAUSING_WORKER, {**env, "CANTEEN_TEST_PAUSES": pauses}, f"worker-{n}.log")
        for n in (1, 2)
    ]
    communes = [
        build_commune(
            tmp_path, "RONDE", "Ronde", households=5, mandates=2, template=sqlite_template
        ),
        build_commune(
            tmp_path, "CARRE", "Carré", households=4, mandates=2, template=sqlite_template
        ),
        build_commune(tmp_path, "LUNE", "Lune", households=3, template=sqlite_template),
    ]
    registry = tmp_path / "platform.toml"
    registry.write_text(
        registry_text(communes, broken=tmp_path / "missing" / "canteen.toml"), encoding="utf-8"
    )
    month_end = [
        "month-end",
        f"--period={PERIOD}",
        f"--registry={registry}",
        "--batch=2",
        "--timeout=90",
    ]
    run = spawn(canteen_command(*month_end), env, "month-end.log")
    for marker in (first, second):
        wait_for(marker, timeout=40, processes=workers)
        paused = int(marker.read_text(encoding="utf-8") or 0)
        _kill(next(worker for worker in workers if worker.pid == paused))
    # The production worker finishes what the killed ones left (their messages come back).
    spawn(canteen_command("worker", "--concurrency=1"), env, "worker-3.log")
    assert run.wait(timeout=90) == 1  # BROKEN failed, the others did not
    output = (tmp_path / "month-end.log").read_text(encoding="utf-8")
    assert "Ronde (RONDE), 2023-09 : terminé" in output
    assert "facturation : 5 factures émises (240,00 €)" in output
    assert "Carré (CARRE), 2023-09 : terminé" in output
    # The file the killed worker wrote was never recorded: set aside, collected again.
    assert "fichier d'une tentative interrompue mis de côté" in output
    assert len(list((communes[1].folder / "sepa").glob("*.interrompu"))) == 1
    assert "Lune (LUNE), 2023-09 : terminé" in output
    assert "BROKEN (BROKEN), 2023-09 : ÉCHEC" in output
    assert (
        "facturation : ÉCHEC, configuration invalide : fichier de déploiement illisible" in output
    )
    assert "Erreur : fin de mois 2023-09 en échec pour : BROKEN" in output
    for commune in communes:
        _check_commune(commune)

    # Running the month-end again bills, debits and sends nothing more.
    again = subprocess.run(
        canteen_command(*month_end, "--communes=RONDE,CARRE,LUNE", "--batch=100", "--json"),
        env=env,
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert again.returncode == 0, again.stderr.decode()
    reports = json.loads(again.stdout)["communes"]
    assert [(r["commune"], r["ok"], r["invoices"], r["debits"], r["mails"]) for r in reports] == [
        ("RONDE", True, 0, 0, 0),
        ("CARRE", True, 0, 0, 0),
        ("LUNE", True, 0, 0, 0),
    ]
    assert [r["already_billed"] for r in reports] == [5, 4, 3]
    for commune in communes:
        _check_commune(commune)
