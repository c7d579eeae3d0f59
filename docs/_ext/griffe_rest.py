"""A Griffe extension rendering canteen's reST-flavoured docstrings as Markdown.

The docstrings follow Sphinx conventions (``:param x:`` fields, ``:class:`~a.B``` roles,
``>>>`` doctest blocks, ``::`` literal blocks, simple ``====`` tables) so that doctest and
Sphinx-aware tools read them. mkdocstrings' Sphinx parser handles the fields; this extension
turns the rest into Markdown before rendering, without touching the source:

* doctest blocks become fenced ``pycon`` code (otherwise ``[x][:3]`` reads as a link);
* ``:role:`~pkg.mod.Name``` becomes inline code ``Name`` (``pkg.mod.Name`` without ``~``);
* a paragraph ending in ``::`` ends in ``:`` (the indented block after it is code already);
* simple reST tables (``====  ====`` rules) become Markdown tables;
* an attribute without a docstring takes its Sphinx ``#:`` comment (the lines right above it),
  so documented constants (``DEFAULT_PLUGINS``, ``BRIDGE_CORRECTIONS``...) are rendered.

Loaded by ``mkdocs.yml`` (``extensions: [docs/_ext/griffe_rest.py:RestToMarkdown]``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj|const|ref):`(~?)([^`]+)`")
_RULE = re.compile(r"^(\s*)(=+)(\s+=+)+\s*$")


def _role(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    target = target.strip()
    if "<" in target and target.endswith(">"):  # :ref:`text <target>`
        target = target.split("<", 1)[0].strip()
    if tilde:
        target = target.rsplit(".", 1)[-1]
    return f"`{target}`"


def _doctests(lines: list[str]) -> list[str]:
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.lstrip()
        if not stripped.startswith(">>>"):
            out.append(line)
            index += 1
            continue
        indent = line[: len(line) - len(stripped)]
        out.append(f"{indent}```pycon")
        while index < len(lines) and lines[index].strip():
            out.append(lines[index])
            index += 1
        out.append(f"{indent}```")
    return out


def _columns(rule: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"=+", rule)]


def _cells(line: str, spans: list[tuple[int, int]]) -> list[str]:
    cells = []
    for number, (start, _end) in enumerate(spans):
        stop = spans[number + 1][0] if number + 1 < len(spans) else len(line)
        cells.append(line[start:stop].strip())
    return cells


def _tables(lines: list[str]) -> list[str]:
    out: list[str] = []
    index = 0
    while index < len(lines):
        match = _RULE.match(lines[index])
        # A simple table: rule, header row(s), rule, body rows, rule.
        if match is None:
            out.append(lines[index])
            index += 1
            continue
        rules = [i for i in range(index + 1, len(lines)) if _RULE.match(lines[i])]
        if len(rules) < 2:
            out.append(lines[index])
            index += 1
            continue
        spans = _columns(lines[index])
        indent = match.group(1)
        header_end, table_end = rules[0], rules[1]
        header = [_cells(line, spans) for line in lines[index + 1 : header_end]]
        body = [_cells(line, spans) for line in lines[header_end + 1 : table_end] if line.strip()]
        head = header[0] if header else [""] * len(spans)
        out.append(indent + "| " + " | ".join(head) + " |")
        out.append(indent + "|" + "---|" * len(spans))
        out.extend(indent + "| " + " | ".join(cell or " " for cell in row) + " |" for row in body)
        index = table_end + 1
    return out


def rest_to_markdown(text: str) -> str:
    """The Markdown rendering of one docstring (see the module documentation)."""
    text = _ROLE.sub(_role, text)
    lines = _tables(_doctests(text.splitlines()))
    lines = [line[:-1] if line.endswith("::") and line.strip() != "::" else line for line in lines]
    return "\n".join(lines)


def _comment_doc(obj: griffe.Object) -> str | None:
    """The ``#:`` comment lines right above an attribute's definition, if any."""
    if obj.lineno is None or obj.filepath is None or isinstance(obj.filepath, list):
        return None
    try:
        lines = obj.lines_collection[obj.filepath]
    except KeyError:
        return None
    found: list[str] = []
    index = obj.lineno - 2  # the line above the definition (lineno is 1-based)
    while index >= 0 and lines[index].strip().startswith("#:"):
        found.insert(0, lines[index].strip()[2:].strip())
        index -= 1
    return "\n".join(found) or None


class RestToMarkdown(griffe.Extension):
    """Rewrite every docstring once its object is loaded."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Convert ``obj``'s docstring in place (the source files are not touched)."""
        if obj.docstring is None and obj.is_attribute:
            text = _comment_doc(obj)
            if text is not None:
                obj.docstring = griffe.Docstring(text, parent=obj)
        if obj.docstring is not None:
            obj.docstring.value = rest_to_markdown(obj.docstring.value)
