"""What the CLI tests that work on a copy of a small demo deployment share: the instant they
run at and how they call ``canteen`` (the fixtures are in ``conftest.py``)."""

from __future__ import annotations

from click.testing import CliRunner, Result

from canteen_adapters.cli import main

#: The demo's "today": the CLI reads it from CANTEEN_NOW.
NOW = "2023-10-06T09:00:00+02:00"


def run(*args: str, now: str = NOW) -> Result:
    """``canteen ARGS`` in-process at ``now``, ignoring any CANTEEN_CONFIG of the caller."""
    runner = CliRunner(env={"CANTEEN_NOW": now, "CANTEEN_CONFIG": None})
    return runner.invoke(main, list(args), prog_name="canteen")
