"""The package's public surface: every exported name resolves and is documented."""

from __future__ import annotations

import inspect

import pytest

import canteen_core


@pytest.mark.parametrize("name", canteen_core.__all__)
def test_every_exported_name_resolves_and_has_a_docstring(name: str) -> None:
    value = getattr(canteen_core, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert inspect.getdoc(value), f"canteen_core.{name} has no docstring"


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Cantine'"):
        _ = canteen_core.Cantine  # type: ignore[attr-defined]


def test_hookimpl_is_the_project_marker() -> None:
    assert canteen_core.hookimpl.project_name == "canteen"
