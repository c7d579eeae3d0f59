"""How a ``canteen`` command fails: one French line on stderr, never a traceback.

A command raises :class:`~canteen_core.domain.errors.CanteenError` (or calls :func:`fail`)
and :class:`CanteenGroup` prints one French line ``Erreur : <message>`` on stderr and exits
non-zero, without a traceback: 1 for a refused operation or a configuration the command cannot
run with (a missing ``[payment.sepa]`` table...), 2 for bad arguments (click's usage errors are
shortened to one French line too, with a pointer to ``--help``). A file the system
refuses (a folder that does not exist, no permission) is one line too; any other failure is a
bug, reported in one line (``CANTEEN_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Callable
from typing import IO, Any, NoReturn

import click
from click.exceptions import NoArgsIsHelpError

from canteen_adapters.cli._french_help import FrenchContext, use_french_help
from canteen_core.domain.errors import (
    CanteenError,
    ConfigurationError,
    InvalidInputError,
    NotFoundError,
)

__all__ = [
    "ArgumentError",
    "CanteenGroup",
    "CommandError",
    "error_fr",
    "fail",
    "os_error_fr",
]


class CommandError(click.ClickException):
    """A one-line error: printed as ``Erreur : <message>`` on stderr, exit status 1."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))  # one line, whatever the message holds

    def show(self, file: IO[Any] | None = None) -> None:
        """Print ``Erreur : <message>`` on stderr (click would write ``Error:``)."""
        click.echo(f"Erreur : {self.format_message()}", file=file or sys.stderr)


class ArgumentError(CommandError):
    """A one-line error about the command's arguments: exit status 2, like click's."""

    exit_code = 2


def fail(message: str, *, exit_code: int = 1) -> NoReturn:
    """Stop the command with one clear line on stderr and a non-zero exit status (1 or 2)."""
    raise ArgumentError(message) if exit_code == 2 else CommandError(message)


def _option_names(error: click.ClickException) -> str:
    param = getattr(error, "param", None)
    if isinstance(param, click.Argument):
        return param.human_readable_name  # PAPER_ID, as the usage line shows it
    if param is not None:
        names = getattr(param, "opts", None) or [getattr(param, "name", "") or ""]
        return " / ".join(names)
    return getattr(error, "param_hint", None) or getattr(error, "option_name", None) or ""


def _expected_fr(kind: click.ParamType[Any]) -> str | None:
    """What a number option takes, in French: ``un nombre entier de 1 à 256``."""
    if isinstance(kind, click.types.IntParamType):
        number = "un nombre entier"
    elif isinstance(kind, click.types.FloatParamType):
        number = "un nombre"
    else:
        return None
    if not isinstance(kind, click.IntRange | click.FloatRange):
        return number
    low, high = kind.min, kind.max
    if low is not None and high is not None and not (kind.min_open or kind.max_open):
        return f"{number} de {low} à {high}"
    bounds = []
    if low is not None:
        bounds.append(f"{'supérieur à' if kind.min_open else 'au moins égal à'} {low}")
    if high is not None:
        bounds.append(f"{'inférieur à' if kind.max_open else 'au plus égal à'} {high}")
    return f"{number} {' et '.join(bounds)}" if bounds else number


#: click's complaints about a path (``File 'x' does not exist.``), in French.
_PATH_PROBLEMS_FR = {
    "does not exist": "introuvable",
    "is a file": "est un fichier (un dossier est attendu)",
    "is a directory": "est un dossier (un fichier est attendu)",
    "is not readable": "illisible (permission refusée)",
    "is not writable": "non modifiable (permission refusée)",
    "is not executable": "non exécutable",
}
_PATH_PROBLEM = re.compile(
    r"^\w+ (?P<file>'.*'|\".*\") (?P<problem>" + "|".join(_PATH_PROBLEMS_FR) + r")\.$"
)
_GIVEN = re.compile(r"^(?:'(?P<quoted>[^']*)'|\"(?P<double>[^\"]*)\"|(?P<raw>\S+)) (?:is|does) not")


def _bad_parameter_fr(error: click.BadParameter) -> str:
    names = _option_names(error)
    param = error.param
    given = _GIVEN.match(error.message)
    value = "" if given is None else f" « {given['quoted'] or given['double'] or given['raw']} »"
    if param is not None and isinstance(param.type, click.Choice):
        allowed = ", ".join(str(choice) for choice in param.type.choices)
        return f"valeur invalide{value} pour {names} (valeurs possibles : {allowed})"
    expected = None if param is None else _expected_fr(param.type)
    if expected is not None:
        return f"valeur invalide{value} pour {names} (attendu : {expected})"
    path = _PATH_PROBLEM.match(error.message)
    if path is not None:
        return f"{names} : « {path['file'][1:-1]} » {_PATH_PROBLEMS_FR[path['problem']]}"
    return f"valeur invalide pour {names} : {error.message}"


#: click's other usage errors (its message ids as patterns), in French.
_USAGE_FR: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"^No such command '([^']*)'\.(?:\s*Did you mean '([^']*)'\?)?"),
        lambda m: (
            f"commande inconnue : {m[1]}" + (f" (vouliez-vous dire {m[2]} ?)" if m[2] else "")
        ),
    ),
    (
        re.compile(r"^Got unexpected extra arguments? \((.*)\)$", re.DOTALL),
        lambda m: f"argument en trop : {m[1]}",
    ),
    (re.compile(r"^Missing command\.$"), lambda m: "commande manquante"),
    (
        re.compile(r"^Option '([^']*)' requires an argument\.$"),
        lambda m: f"option {m[1]} : valeur manquante",
    ),
    (
        re.compile(r"^Option '([^']*)' requires (\d+) arguments\.$"),
        lambda m: f"option {m[1]} : {m[2]} valeurs attendues",
    ),
    (
        re.compile(r"^Option '([^']*)' does not take a value\.$"),
        lambda m: f"option {m[1]} : ne prend pas de valeur",
    ),
    (
        re.compile(r"^Argument '([^']*)' takes (\d+) values\.$"),
        lambda m: f"argument {m[1].upper()} : {m[2]} valeurs attendues",
    ),
)


def _usage_fr(error: click.UsageError) -> str:
    """click's usage errors, in French."""
    if isinstance(error, click.MissingParameter):
        kind = "argument" if isinstance(error.param, click.Argument) else "option"
        return (
            f"{kind} obligatoire manquant{'e' if kind == 'option' else ''} : {_option_names(error)}"
        )
    if isinstance(error, click.NoSuchOption):
        hint = (
            f" (vouliez-vous dire {', '.join(error.possibilities)} ?)"
            if error.possibilities
            else ""
        )
        return f"option inconnue : {error.option_name}{hint}"
    if isinstance(error, click.BadParameter):
        return _bad_parameter_fr(error)
    message = error.message if isinstance(error, click.BadOptionUsage) else error.format_message()
    for pattern, french in _USAGE_FR:
        match = pattern.match(message)
        if match is not None:
            return french(match)
    if isinstance(error, click.BadOptionUsage):
        return f"option {error.option_name} mal employée : {error.message}"
    return message


def _one_line_usage(error: click.UsageError, ctx: click.Context) -> CommandError:
    """``error`` in one French line, pointing at the help of the command it is about (click's
    parser leaves the context out of some errors: then the subcommand ``ctx`` was invoking)."""
    if error.ctx is not None:
        path = error.ctx.command_path
    elif ctx.invoked_subcommand is not None:
        path = f"{ctx.command_path} {ctx.invoked_subcommand}"
    else:
        path = ctx.command_path
    return ArgumentError(f"{_usage_fr(error)} (voir « {path} --help »)")


#: What the library's "not found" errors name, in French.
_THINGS_FR = {
    "household": "foyer",
    "enrollment": "inscription",
    "invoice": "facture",
    "payment": "règlement",
    "child": "enfant",
    "account": "compte",
    "guardian": "responsable",
    "outbox message": "message en attente",
}
_NOT_FOUND = re.compile(
    r"^(?:(?:no|unknown) (?P<thing>outbox message|[a-z]+)|(?P<things>[a-z_]+)s: no) "
    r"'(?P<id>[^']*)'(?: (?:in|for) household '(?P<household>[^']*)')?$"
)


def _option_of(path: str | None, group: click.Group, ctx: click.Context) -> str | None:
    """The command-line option an invalid input's field path names (``amount`` ->
    ``--amount``), when the command invoked has one by that name."""
    head = re.split(r"[.\[]", path or "", maxsplit=1)[0]
    if head.startswith("-"):  # the command named its option itself
        return head
    name = ctx.invoked_subcommand
    command = group.get_command(ctx, name) if name else None
    commands = [command] if command is not None else []
    while commands:
        found = commands.pop()
        for param in found.params:
            if isinstance(param, click.Option) and param.name == head and param.opts:
                return param.opts[0]
        if isinstance(found, click.Group):
            commands.extend(found.commands.values())
    return None


def error_fr(error: CanteenError) -> str:
    """The error's text for the command line: the library's "not found" errors in French
    (``no household 'X'`` -> ``foyer introuvable : X``), others as they are, without the
    field path of an invalid input (``tariff_category: ...``: staff read the message)."""
    text = error.message if isinstance(error, InvalidInputError) else str(error)
    match = _NOT_FOUND.match(text) if isinstance(error, NotFoundError) else None
    thing = None if match is None else match["thing"] or match["things"]
    if match is None or thing not in _THINGS_FR:
        return text
    where = f" dans le foyer {match['household']}" if match["household"] else ""
    return f"{_THINGS_FR[thing]} introuvable : {match['id']}{where}"


_OS_REASONS_FR = {
    errno.ENOENT: "dossier ou fichier introuvable",
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.EROFS: "système de fichiers en lecture seule",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EISDIR: "c'est un dossier",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EEXIST: "existe déjà",
}


def os_error_fr(error: OSError) -> str:
    """A file error in one French line: ``/proc/nope/x.db : dossier ou fichier introuvable``."""
    reason = _OS_REASONS_FR.get(error.errno or 0) or (error.strerror or type(error).__name__)
    where = error.filename if error.filename is not None else ""
    return f"{where} : {reason}" if where else reason


def _one_line_error(error: CanteenError, group: click.Group, ctx: click.Context) -> CommandError:
    """The library's ``error`` as the command's one line and exit status.

    Invalid input is a usage error (exit status 2), named after the command-line option it is
    about when there is one. A configuration error (the deployment file, a grid or registry
    file, a missing ``[payment.sepa]`` table) is not: the command could not run as the
    deployment stands, exit status 1 like a refused operation, unless its field is one of the
    command's own options (``--category``). Every other error is a refused operation (1).
    """
    text = error_fr(error)
    if isinstance(error, InvalidInputError):
        option = _option_of(error.path, group, ctx)
        if option is not None:
            return ArgumentError(f"{option} : {text}")
        if not isinstance(error, ConfigurationError):
            return ArgumentError(text)
    return CommandError(text)


class CanteenGroup(click.Group):
    """A click group whose commands report errors in one line, never with a traceback.

    :class:`CanteenError` becomes ``Erreur : <message>`` with exit status 1 (2 for invalid
    input, but 1 for a configuration error: see :func:`_one_line_error`), and click's
    multi-line usage errors are shortened to one French line (exit status 2).
    The group and every command added to it show their help in French (:func:`use_french_help`).
    """

    context_class = FrenchContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        use_french_help(self)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        """Register ``cmd`` (and its subcommands) with its help in French."""
        use_french_help(cmd)
        super().add_command(cmd, name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse the group's own options, reporting usage errors in one line."""
        try:
            return super().parse_args(ctx, args)
        except NoArgsIsHelpError:
            raise
        except click.UsageError as error:
            raise _one_line_usage(error, ctx) from None

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand, turning library errors and usage errors into one line."""
        try:
            return super().invoke(ctx)
        except CommandError:
            raise
        except NoArgsIsHelpError:
            raise
        except click.UsageError as error:
            raise _one_line_usage(error, ctx) from None
        except CanteenError as error:
            raise _one_line_error(error, self, ctx) from None
        except click.exceptions.Exit:
            raise
        except (click.Abort, KeyboardInterrupt, EOFError) as error:  # click would say "Aborted!"
            if not isinstance(error, click.Abort):
                click.echo(file=sys.stderr)  # ends the terminal's ^C line
            raise CommandError("opération interrompue") from None
        except click.ClickException as error:  # click.FileError...: one French-prefixed line
            if error.exit_code == 2:
                raise ArgumentError(error.format_message()) from None
            raise CommandError(error.format_message()) from None
        except BrokenPipeError:  # `canteen ... | head`: the reader left, nothing to say
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise click.exceptions.Exit(1) from None
        except OSError as error:
            raise CommandError(os_error_fr(error)) from None
        except Exception as error:
            if os.environ.get("CANTEEN_DEBUG"):
                raise
            raise CommandError(
                f"erreur interne inattendue ({type(error).__name__}) ; relancez avec "
                "CANTEEN_DEBUG=1 pour le détail et signalez-la"
            ) from None
