"""What commands take on their command line: file paths, ``--json``, ``--out``, enum choices, dates.

Each helper is an option decorator or a parser; a bad value stops the command with one French line
and exit status 2 (see :func:`~canteen_adapters.cli._common.fail`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from canteen_adapters.cli._common import fail

__all__ = ["FILE", "choice_option", "json_option", "out_option", "parse_day"]

F = TypeVar("F", bound=Callable[..., Any])

#: The type of a file option or argument: a path that is not a folder, as a :class:`Path`.
FILE = click.Path(dir_okay=False, path_type=Path)


def json_option(function: F) -> F:
    """Add ``--json`` (parameter ``as_json``): print one JSON object instead of text."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        default=False,
        help="Afficher un objet JSON (lisible par un programme) au lieu du texte.",
    )(function)


def out_option(help: str) -> Callable[[F], F]:
    """Add ``--out FILE`` (parameter ``out``, required): the file the command writes."""
    return click.option("--out", required=True, type=FILE, metavar="FICHIER", help=help)


def choice_option(
    name: str,
    values: Iterable[enum.StrEnum],
    default: enum.StrEnum | None = None,
    *,
    help: str,
) -> Callable[[F], F]:
    """An option ``name`` taking one of ``values`` (enum members, typed by their value), with
    ``default`` shown in ``--help`` when given."""
    choices = click.Choice([value.value for value in values])
    if default is None:
        return click.option(name, type=choices, help=help)
    return click.option(name, type=choices, default=default.value, show_default=True, help=help)


def parse_day(value: str, option: str) -> date:
    """A date given as ``2023-09-04`` or ``04/09/2023``; one-line error otherwise."""
    text = value.strip()
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        fail(
            f"{option} : date invalide « {value} » (attendu AAAA-MM-JJ ou JJ/MM/AAAA)", exit_code=2
        )
