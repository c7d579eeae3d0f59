"""The package's public surface, by audience: every exported name resolves and is documented.

``canteen_core`` exports what a portal developer needs, in groups (facade, errors, values in,
values out); rule authors use ``canteen_core.domain``, plugin authors ``canteen_core.ports``,
``canteen_core.config.hookspecs`` and ``canteen_core.testing``, analysts
``canteen_core.simulation``.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import canteen_core

INIT = Path(canteen_core.__file__)
GROUPS = ("facade", "errors", "values in", "values out", "for plugin authors")


def _groups() -> dict[str, list[str]]:
    """The names of ``__all__`` under each ``# -- group: ...`` comment of the source."""
    groups: dict[str, list[str]] = {}
    current = None
    lines = INIT.read_text(encoding="utf-8").splitlines()
    start = lines.index("__all__ = [  # noqa: RUF022")
    for line in lines[start + 1 :]:
        text = line.strip()
        if text == "]":
            break
        if text.startswith("# -- "):
            current = text.removeprefix("# -- ").split(":")[0]
            groups[current] = []
        elif text.startswith('"'):
            assert current is not None, f"{text} is in no group"
            groups[current].append(ast.literal_eval(text.rstrip(",")))
    return groups


@pytest.mark.parametrize("name", canteen_core.__all__)
def test_every_exported_name_resolves_and_has_a_docstring(name: str) -> None:
    value = getattr(canteen_core, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert inspect.getdoc(value), f"canteen_core.{name} has no docstring"


def test_the_exports_are_grouped_by_what_a_portal_does_with_them() -> None:
    groups = _groups()
    assert tuple(groups) == GROUPS
    names = [name for group in groups.values() for name in group]
    assert names == canteen_core.__all__
    assert len(set(names)) == len(names)
    docstring = canteen_core.__doc__ or ""
    for group in GROUPS[:-1]:
        assert f"* **{group}**" in docstring, f"the docstring does not explain {group!r}"
    assert "Canteen" in groups["facade"]
    assert all(name.endswith("Error") for name in groups["errors"])


@pytest.mark.parametrize(
    ("module", "names"),
    [
        # rule authors
        ("canteen_core.domain.deadlines", ["CutOffPolicy", "WeeklyDeadline"]),
        ("canteen_core.domain.charging", ["ChargingPolicy", "DayFacts"]),
        # plugin authors
        ("canteen_core.ports.storage", ["Storage", "UnitOfWork"]),
        ("canteen_core.ports.mail", ["Mailer", "DeduplicatingMailer"]),
        ("canteen_core.ports.calendar", ["HolidaySource"]),
        ("canteen_core.ports.backends", ["StorageBackend", "MailerBackend"]),
        ("canteen_core.config.hookspecs", ["hookimpl"]),
        ("canteen_core.domain.events", ["Event", "InvoiceIssued"]),
        ("canteen_core.testing", ["EventRecorder", "FakeMailer"]),
        # analysts
        ("canteen_core.simulation", ["simulate", "compare"]),
    ],
)
def test_other_audiences_have_their_own_modules(module: str, names: list[str]) -> None:
    loaded = importlib.import_module(module)
    assert loaded.__doc__
    for name in names:
        assert name in loaded.__all__
        assert getattr(loaded, name) is not None


def test_importing_the_package_imports_no_tool_nor_adapter() -> None:
    code = (
        "import sys, canteen_core\n"
        "loaded = [m for m in sys.modules if m.startswith(('canteen_adapters', "
        "'canteen_core.simulation', 'canteen_core.synthetic', 'canteen_core.services', "
        "'canteen_core.testing'))]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Cantine'"):
        _ = canteen_core.Cantine  # type: ignore[attr-defined]


def test_hookimpl_is_the_project_marker() -> None:
    assert canteen_core.hookimpl.project_name == "canteen"
