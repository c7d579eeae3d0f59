"""``canteen sepa returns FILE``: the bank's return file reopens the returned debits' invoices,
once; a bad file is one French line and changes nothing (a copy of the small demo site)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from services._bank_files import pain002

from ._demo_site import run
from .test_operator import balance, data, one_line_error, with_mandate


@pytest.fixture(scope="module")
def demo_households() -> int:
    """Five households, as the operator tests."""
    return 5


def test_sepa_returns_reopens_the_returned_debit_once(site: Path, tmp_path: Path) -> None:
    with_mandate(site)
    before = balance(site, "H000002")
    out = tmp_path / "prelevements.xml"
    exported = data(run("sepa", "export", "--config", str(site), "--collection-date",
                        "2023-10-25", "--out", str(out), "--json"))  # fmt: skip
    (debit,) = exported["debits"]
    assert balance(site, "H000002") == 0
    document = etree.fromstring(out.read_bytes())
    (end_to_end,) = document.xpath("//*[local-name()='EndToEndId']/text()")
    returns = tmp_path / "retours.xml"
    returns.write_bytes(pain002("PSR-1", [(end_to_end, "MD01", Decimal(debit["amount"]))]))

    bad = tmp_path / "retours.pdf"
    bad.write_bytes(b"%PDF-1.4 not a return file")
    one_line_error(run("sepa", "returns", "--config", str(site), str(bad)), 2,
                   "n'est pas un XML valide (ligne 1)")  # fmt: skip
    assert balance(site, "H000002") == 0

    loaded = run("sepa", "returns", "--config", str(site), str(returns))
    assert loaded.exit_code == 0, loaded.output
    assert "1 prélèvement rejeté" in loaded.stdout
    assert f"{end_to_end} :" in loaded.stdout
    assert "motif MD01 (pas de mandat)" in loaded.stdout
    assert balance(site, "H000002") == before

    again = data(run("sepa", "returns", "--config", str(site), str(returns), "--json"))
    assert again["already_loaded"] is True
    assert again["returns"] == []
    assert "déjà chargé : rien n'a été modifié" in again["message"]
    assert balance(site, "H000002") == before
