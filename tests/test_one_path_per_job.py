"""One path per job (#21): billing prices periods only, an invoice is numbered once, and the
per-day path lives in the tests as the oracle (``tests/_billing_oracle.py``)."""

from __future__ import annotations

import ast
import inspect

import pytest

from canteen_core.domain import charging, invoicing, ledger
from canteen_core.services.billing import runs
from canteen_core.services.payments import direct_debit


@pytest.mark.parametrize(
    ("module", "name"),
    [
        (invoicing, "run_postpaid"),  # the per-day run: the oracle in the tests now
        (invoicing, "lines_from_charged_days"),  # used by nothing
        (charging, "compute_charges"),  # the per-day charges: the oracle in the tests
        (ledger, "Ledger"),  # the services rebuild one household's account at a time
        (runs, "_renumbered"),  # the second numbering of post-paid invoices
        (direct_debit, "_debit_item_factory"),  # the probing of the adapter's module
    ],
)
def test_the_second_path_is_gone(module: object, name: str) -> None:
    assert not hasattr(module, name)


def test_the_billing_service_never_numbers_an_invoice_itself() -> None:
    tree = ast.parse(inspect.getsource(runs))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    ]
    assert calls
    assert not [call for call in calls if call.func.attr == "allocate"]  # type: ignore[attr-defined]
    renumbering = [
        call
        for call in calls
        if call.func.attr == "evolve"  # type: ignore[attr-defined]
        and any(keyword.arg in {"number", "id"} for keyword in call.keywords)
    ]
    assert renumbering == []  # numbers come from the domain run only
