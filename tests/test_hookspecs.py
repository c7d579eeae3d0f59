"""Every hook is documented: in its docstring (parameters, return, firstresult, example) and
with a section of the plugin guide, docs/plugins.md. Adding a hook without both fails here."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from canteen_core.config import hookspecs
from canteen_core.config.plugins import EVENT_HOOKS, AdapterKind, CanteenPluginManager

GUIDE = Path(__file__).parents[1] / "docs" / "plugins.md"


def _hooks() -> dict[str, object]:
    return {
        name: function
        for name, function in vars(hookspecs).items()
        if callable(function) and hasattr(function, "canteen_spec")
    }


HOOKS = _hooks()


def test_hooks_are_found() -> None:
    assert len(HOOKS) == 14  # 5 provider, 1 document, 7 event hooks, 1 for every event
    assert {"canteen_storage_backends", "canteen_invoice_issued"} <= set(HOOKS)


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_every_hook_is_prefixed_and_fully_documented(name: str) -> None:
    function = HOOKS[name]
    assert name.startswith("canteen_")
    doc = inspect.getdoc(function) or ""
    assert doc, f"{name} has no docstring"
    for parameter in inspect.signature(function).parameters:  # type: ignore[arg-type]
        assert f":param {parameter}:" in doc, f"{name}: parameter {parameter!r} undocumented"
    assert ":returns:" in doc, f"{name}: return value undocumented"
    assert re.search(r"^Firstresult: (yes|no)\b", doc, re.MULTILINE), f"{name}: firstresult?"
    assert "Example::" in doc, f"{name}: no example"
    assert "@hookimpl" in doc.partition("Example::")[2], f"{name}: the example shows no hookimpl"


def _guide_sections() -> set[str]:
    return set(re.findall(r"^### `(canteen_\w+)`", GUIDE.read_text(encoding="utf-8"), re.MULTILINE))


def test_every_hook_has_a_section_in_the_plugin_guide() -> None:
    missing = set(HOOKS) - _guide_sections()
    assert not missing, f"docs/plugins.md lacks a section for {sorted(missing)}"


def test_the_guide_documents_no_hook_that_does_not_exist() -> None:
    stale = _guide_sections() - set(HOOKS)
    assert not stale, f"docs/plugins.md documents unknown hooks {sorted(stale)}"


def test_the_markers_belong_to_the_canteen_project() -> None:
    assert hookspecs.PROJECT_NAME == "canteen"
    assert hookspecs.hookimpl.project_name == hookspecs.hookspec.project_name == "canteen"


def test_every_event_and_adapter_kind_has_its_hook() -> None:
    for hook_name in EVENT_HOOKS.values():
        assert hook_name in HOOKS
    for kind in AdapterKind:
        assert kind.hook_name in HOOKS
    specs = CanteenPluginManager().hook
    for name in HOOKS:
        assert getattr(specs, name).spec is not None
        assert not getattr(specs, name).spec.opts.get("firstresult")
