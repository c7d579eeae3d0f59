"""The import rules of ``src/`` (design handbook, section 4), checked by walking it with ``ast``.

Every ``import`` statement counts: at module level, under ``if TYPE_CHECKING:``, inside
functions. An import of ``a.b.c`` is an edge to the module ``a.b.c`` (or to the package ``a.b``
when ``c`` is a name defined in it, not a submodule); parent packages are not counted, as
import-linter does, so ``canteen_core/__init__.py`` re-exporting the facade is not a cycle.

The rules:

* no import cycle between modules of ``src/`` (the cycle is reported);
* ``canteen_core`` never imports ``canteen_adapters`` (built-ins are plugins like any other);
* ``canteen_core.domain`` imports only the domain, the standard library and third parties;
* ``canteen_core.ports`` imports neither the services nor the configuration;
* ``canteen_core.config`` does not import the services.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
TOP_PACKAGES = ("canteen_core", "canteen_adapters")

#: Cycles that remain, each written as its sorted modules. This list may only shrink (#21): a
#: test fails when an entry no longer is a cycle, so removing the cycle removes the entry.
KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset()

#: Imports that break a layer rule and remain; may only shrink (#21), like KNOWN_CYCLES.
KNOWN_VIOLATIONS: frozenset[str] = frozenset()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for top in TOP_PACKAGES
        for path in sorted((SRC / top).rglob("*.py"))
    }


def _is_package(module: str) -> bool:
    return _modules()[module].name == "__init__.py"


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The absolute module a ``from ... import`` names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not _is_package(module):
        base.pop()
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imported(module: str) -> Iterator[str]:
    """Every module ``module`` imports, wherever the statement is (ours and others')."""
    tree = ast.parse(_modules()[module].read_text(encoding="utf-8"))
    known = _modules()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            target = _absolute(module, node)
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                yield submodule if submodule in known else target


@cache
def _graph() -> dict[str, frozenset[str]]:
    """Module -> the modules of ``src/`` it imports."""
    known = _modules()
    return {
        module: frozenset(
            target for target in _imported(module) if target in known and target != module
        )
        for module in known
    }


def _cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each as a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph)))
    try:
        for node in sorted(graph):
            if node not in index:
                visit(node)
    finally:
        sys.setrecursionlimit(limit)
    return [_one_cycle(graph, component) for component in components]


def _one_cycle(graph: dict[str, frozenset[str]], component: list[str]) -> list[str]:
    """A readable cycle through the component's first module (a -> b -> ... -> a)."""
    members = set(component)
    start = component[0]
    paths: dict[str, list[str]] = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & members):
            if target == start:
                return [*paths[node], start]
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    return component  # pragma: no cover - a component always has a cycle through each member


def _layer_violations(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{module} imports {target}"
        for module, targets in sorted(_graph().items())
        if module == layer or module.startswith(f"{layer}.")
        for target in sorted(targets)
        if any(target == bad or target.startswith(f"{bad}.") for bad in forbidden)
    ]


def test_the_walk_sees_every_kind_of_import() -> None:
    graph = _graph()
    assert len(graph) > 100
    # A TYPE_CHECKING import (the hook specs) and one inside a function (a pytest fixture).
    assert "canteen_core.domain.events" in graph["canteen_core.config.hookspecs"]
    assert "canteen_core.config.plugins" in graph["canteen_core.testing"]


def test_no_import_cycle_in_src() -> None:
    found = {frozenset(cycle): cycle for cycle in _cycles(_graph())}
    new = [" -> ".join(cycle) for members, cycle in found.items() if members not in KNOWN_CYCLES]
    assert not new, "import cycles in src/:\n" + "\n".join(new)
    gone = [sorted(members) for members in KNOWN_CYCLES if members not in found]
    assert not gone, f"remove these from KNOWN_CYCLES, they are fixed: {gone}"


def test_the_cycle_finder_reports_a_cycle() -> None:
    graph = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset()}
    assert _cycles(graph) == [["a", "b", "c", "a"]]


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("canteen_core", ("canteen_adapters",)),
        (
            "canteen_core.domain",
            (
                "canteen_adapters",
                "canteen_core.services",
                "canteen_core.config",
                "canteen_core.ports",
                "canteen_core.simulation",
                "canteen_core.synthetic",
                "canteen_core.testing",
            ),
        ),
        (
            "canteen_core.ports",
            ("canteen_adapters", "canteen_core.services", "canteen_core.config"),
        ),
        ("canteen_core.config", ("canteen_adapters", "canteen_core.services")),
    ],
)
def test_layers_import_only_downwards(layer: str, forbidden: tuple[str, ...]) -> None:
    assert set(_layer_violations(layer, forbidden)) - KNOWN_VIOLATIONS == set()


def test_known_violations_are_still_there() -> None:
    found = set(_layer_violations("canteen_core", ("canteen_adapters",)))
    assert KNOWN_VIOLATIONS - found == set(), "fixed: remove them from KNOWN_VIOLATIONS"


def test_the_domain_imports_nothing_of_canteen_outside_the_domain() -> None:
    outside = [
        f"{module} imports {target}"
        for module, targets in sorted(_graph().items())
        if module.startswith("canteen_core.domain")
        for target in sorted(targets)
        if not target.startswith("canteen_core.domain")
    ]
    assert outside == []
