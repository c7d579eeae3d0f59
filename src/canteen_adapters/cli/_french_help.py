"""click's help in French: the formatter, the context and :func:`use_french_help`.

click translates its own words (``Usage:``, ``Options``, ``Show this message and exit.``)
through the process-wide gettext domain only; the staff's CLI speaks French, so the help
formatter rewrites them, and the option metavars and extras (``[default: x]``) with them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import click

__all__ = ["FrenchContext", "FrenchHelpFormatter", "use_french_help"]


#: click's own help strings (its gettext message ids), in French. click translates through the
#: process-wide gettext domain only, so the help formatter below rewrites them instead.
_CLICK_HELP_FR = {
    "Show this message and exit.": "Afficher ce message et quitter.",
    "Show the version and exit.": "Afficher la version et quitter.",
}
#: The headings of click's help sections, in French.
_HEADINGS_FR = {
    "Options": "Options",
    "Commands": "Commandes",
    "Positional arguments": "Arguments",
    "Arguments": "Arguments",
}
#: What click appends to an option's help (``[default: x; required]``), in French.
_EXTRAS_FR = (
    (re.compile(r"^default: (.*)$", re.DOTALL), "par\u00a0défaut : {0}"),
    (re.compile(r"^env var: (.*)$", re.DOTALL), "variable d'environnement : {0}"),
    (re.compile(r"^required$"), "obligatoire"),
    (re.compile(r"^(\S*x\S*)$"), "{0}"),  # a range: 1<=x<=256
)
_EXTRAS = re.compile(r"^(?P<help>.*?)(?:\s{2})?\[(?P<extras>[^\[\]]*)\]$", re.DOTALL)
#: Metavars for click's types, in French (click shows ``TEXT``, ``INTEGER``...).
_METAVARS_FR: tuple[tuple[type[click.ParamType[Any]], str], ...] = (
    (click.types.StringParamType, "TEXTE"),
    (click.types.IntParamType, "ENTIER"),
    (click.types.FloatParamType, "NOMBRE"),
    (click.types.DateTime, "DATE"),
    (click.File, "FICHIER"),
)
#: The usage line's placeholder for a group's command (optional when the group runs alone).
_SUBCOMMAND_METAVARS_FR = {
    "COMMAND [ARGS]...": "COMMANDE [ARGUMENTS]...",
    "[COMMAND] [ARGS]...": "[COMMANDE] [ARGUMENTS]...",
}


def _extras_fr(extras: str) -> str | None:
    items = []
    for item in extras.split("; "):
        for pattern, french in _EXTRAS_FR:
            match = pattern.match(item)
            if match is not None:
                items.append(french.format(*match.groups()))
                break
        else:
            return None  # not click's extras: brackets in the help text itself
    return " ; ".join(items)


def _definition_fr(text: str) -> str:
    """An option's or command's help line with click's own words in French."""
    match = _EXTRAS.match(text)
    if match is not None and (extras := _extras_fr(match["extras"])) is not None:
        help_text = _CLICK_HELP_FR.get(match["help"], match["help"])
        return f"{help_text}  [{extras}]" if help_text else f"[{extras}]"
    return _CLICK_HELP_FR.get(text, text)


_BEFORE_SPACE = re.compile(r" (?=[:;?!»])")


def _french_spaces(text: str) -> str:
    """French typography: a no-break space before ``:``, ``;``, ``?``, ``!``, ``»`` and after
    ``«``, so that wrapping never starts a line with ``: canteen.toml]``."""
    return _BEFORE_SPACE.sub("\u00a0", text).replace("« ", "«\u00a0")


class FrenchHelpFormatter(click.HelpFormatter):
    """click's help formatter speaking French: ``Utilisation :``, ``Commandes :``,
    ``Afficher ce message et quitter.``, ``[par défaut : canteen.toml ; obligatoire]``, with
    no-break spaces where French typography puts them."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        """``Utilisation : canteen bill [OPTIONS]``."""
        super().write_usage(prog, args, "Utilisation\u00a0: " if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        """``Options :`` (French typography: a space before the colon)."""
        self.write(f"{'':>{self.current_indent}}{_HEADINGS_FR.get(heading, heading)}\u00a0:\n")

    def write_text(self, text: str) -> None:
        """A paragraph of help, with French no-break spaces."""
        super().write_text(_french_spaces(text))

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        """The options and commands, with click's own words in French."""
        french = [(term, _french_spaces(_definition_fr(text))) for term, text in rows]
        super().write_dl(french, col_max=col_max, col_spacing=col_spacing)


class FrenchContext(click.Context):
    """A context whose help is written by :class:`FrenchHelpFormatter`."""

    formatter_class = FrenchHelpFormatter


def _french_metavar(param: click.Parameter) -> str | None:
    if isinstance(param.type, click.Path):
        if not param.type.dir_okay:
            return "FICHIER"
        return "DOSSIER" if not param.type.file_okay else "CHEMIN"
    for kind, metavar in _METAVARS_FR:
        if isinstance(param.type, kind):
            return metavar
    return None


def use_french_help(command: click.Command) -> None:
    """Make ``command`` and its subcommands show their help in French: French context and
    formatter, ``COMMANDE [ARGUMENTS]...``, options typed ``TEXTE``, ``ENTIER``... (click's
    words are English and it translates only through the process-wide gettext domain)."""
    command.context_class = FrenchContext
    for param in command.params:
        value_option = isinstance(param, click.Option) and not (param.is_flag or param.count)
        file_argument = (  # a file argument only: ids (PAPER_ID) keep their name
            isinstance(param, click.Argument)
            and param.required
            and param.nargs == 1
            and isinstance(param.type, click.Path | click.File)
        )
        if param.metavar is None and (value_option or file_argument):
            param.metavar = _french_metavar(param)
    if isinstance(command, click.Group):
        if command.subcommand_metavar in _SUBCOMMAND_METAVARS_FR:
            command.subcommand_metavar = _SUBCOMMAND_METAVARS_FR[command.subcommand_metavar]
        for subcommand in command.commands.values():
            use_french_help(subcommand)
