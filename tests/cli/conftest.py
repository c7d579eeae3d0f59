"""Fixtures of the CLI tests: a small demo deployment built once per module, copied fresh for
each test (``site`` is its canteen.toml)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from canteen_adapters.cli import main


@pytest.fixture(scope="module")
def demo_households() -> int:
    """How many households the module's demo has (a module may override it)."""
    return 3


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, demo_households: int) -> Path:
    folder = tmp_path_factory.mktemp("ronde")
    result = CliRunner().invoke(
        main, ["demo", "--db", str(folder / "canteen.db"), "--households", str(demo_households)]
    )
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def site(template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the demo deployment; returns its canteen.toml."""
    target = tmp_path / "ronde"
    shutil.copytree(template, target)
    return target / "canteen.toml"
