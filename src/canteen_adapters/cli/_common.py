"""What every ``canteen`` command shares: error display, ``--json`` output, French dates.

Errors: a command raises :class:`~canteen_core.domain.errors.CanteenError` (or calls :func:`fail`)
and :class:`CanteenGroup` prints one French line ``Erreur : <message>`` on stderr and exits
non-zero, without a traceback: 1 for a refused operation, 2 for bad arguments (click's usage
errors are shortened to one French line too, with a pointer to ``--help``). A file the system
refuses (a folder that does not exist, no permission) is one line too; any other failure is a
bug, reported in one line (``CANTEEN_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import enum
import errno
import functools
import getpass
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeVar

import attrs
import click
from babel.dates import get_day_names
from click.exceptions import NoArgsIsHelpError

from canteen_adapters.cli._french_help import FrenchContext, FrenchHelpFormatter, use_french_help
from canteen_core.domain._french import (
    format_date_fr,
    format_month_fr,
    format_short_date_fr,
    weekday_name_fr,
)
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.clock import Clock, FixedClock
from canteen_core.domain.errors import CanteenError, InvalidInputError, NotFoundError
from canteen_core.domain.money import Money, format_number_fr

if TYPE_CHECKING:
    from canteen_core.services import Canteen

__all__ = [
    "DEFAULT_CONFIG",
    "FILE",
    "WEEKDAY_ABBREVIATIONS_FR",
    "WEEKDAY_NAMES_FR",
    "ArgumentError",
    "CanteenGroup",
    "CommandError",
    "FrenchContext",
    "FrenchHelpFormatter",
    "Operator",
    "cli_clock",
    "config_option",
    "echo_json",
    "error_fr",
    "euros",
    "fail",
    "french_date",
    "french_month",
    "join_fr",
    "json_option",
    "open_canteen",
    "operator_actor",
    "operator_command",
    "operator_option",
    "os_error_fr",
    "out_option",
    "parse_day",
    "plural",
    "progress",
    "short_french_date",
    "use_french_help",
]

#: The deployment file every operator command reads unless ``--config`` says otherwise.
DEFAULT_CONFIG = "canteen.toml"

F = TypeVar("F", bound=Callable[..., Any])

#: The type of a file option or argument: a path that is not a folder, as a :class:`Path`.
FILE = click.Path(dir_okay=False, path_type=Path)

#: Weekday names, Monday first (babel's fr_FR: ``lundi``...).
WEEKDAY_NAMES_FR: tuple[str, ...] = tuple(
    get_day_names("wide", locale="fr_FR")[day] for day in range(7)
)
#: Weekday abbreviations, Monday first (babel's fr_FR: ``lun.``, ``mar.``...).
WEEKDAY_ABBREVIATIONS_FR: tuple[str, ...] = tuple(
    get_day_names("abbreviated", locale="fr_FR")[day] for day in range(7)
)


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


class CanteenGroup(click.Group):
    """A click group whose commands report errors in one line, never with a traceback.

    :class:`CanteenError` becomes ``Erreur : <message>`` with exit status 1 (2 for invalid
    input), and click's multi-line usage errors are shortened to one French line (exit status 2).
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
            if isinstance(error, InvalidInputError):
                option = _option_of(error.path, self, ctx)
                text = error_fr(error)
                raise ArgumentError(f"{option} : {text}" if option else text) from None
            raise CommandError(error_fr(error)) from None
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


def echo_json(data: object) -> None:
    """Print ``data`` as indented JSON (UTF-8 kept readable, dates as ISO 8601)."""

    def default(value: object) -> str:
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(f"not JSON serializable: {type(value).__name__}")

    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=default))


def french_date(day: date) -> str:
    """``samedi 21 octobre 2023`` (``dimanche 1er octobre 2023``)."""
    return format_date_fr(day, weekday=True)


def french_month(day: date) -> str:
    """``septembre 2023``: the month of ``day``."""
    return format_month_fr(day)


def weekday_fr(day: date) -> str:
    """``samedi``."""
    return weekday_name_fr(day)


def short_french_date(day: date) -> str:
    """``sam. 21/10/2023``."""
    return format_short_date_fr(day)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``1 jour``, ``2 jours``, ``72 675 repas`` (French: 0 and 1 are singular; thousands
    grouped with a space, as amounts are)."""
    word = singular if count <= 1 else (plural_form or f"{singular}s")
    return f"{format_number_fr(count)} {word}"


def join_fr(words: Sequence[str]) -> str:
    """``lundi, mardi et jeudi``."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} et {words[-1]}"


def euros(amount: Money) -> str:
    """``13,40 €`` (French format, as the portal prints amounts)."""
    return amount.format_fr()


def parse_day(value: str, option: str) -> date:
    """A date given as ``2023-09-04`` or ``04/09/2023``; one-line error otherwise."""
    text = value.strip()
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} : date invalide {value!r} (attendu AAAA-MM-JJ ou JJ/MM/AAAA)", exit_code=2)


# -- operator commands: deployment file, acting user, progress ---------------------------------


def config_option(function: F) -> F:
    """Add ``--config FILE`` (parameter ``config``): the deployment file, ``canteen.toml`` in
    the current folder by default (or ``$CANTEEN_CONFIG``)."""
    return click.option(
        "--config",
        "config",
        default=DEFAULT_CONFIG,
        show_default=True,
        envvar="CANTEEN_CONFIG",
        metavar="FICHIER",
        type=FILE,
        help="Fichier de déploiement (canteen.toml). Aussi $CANTEEN_CONFIG.",
    )(function)


def operator_option(function: F) -> F:
    """Add ``--as NAME`` (parameter ``operator``): who the operator is (see
    :func:`operator_actor`)."""
    return click.option(
        "--as",
        "operator",
        default=None,
        envvar="CANTEEN_OPERATOR",
        metavar="NOM",
        help="Nom de l'opérateur, enregistré sur ce que cette commande modifie (par défaut : "
        "le nom de connexion ; aussi $CANTEEN_OPERATOR). La commande agit avec le rôle "
        "administrateur.",
    )(function)


def operator_actor(name: str | None = None) -> Actor:
    """The acting user of an operator command: ``cli:<name>`` with the admin role.

    Whoever can read the deployment file (and so its database credentials) already has full
    access to the data; the CLI therefore acts as an administrator, and records the operator's
    name (``--as``, ``$CANTEEN_OPERATOR``, else the login name) as the user id on what it
    changes (attendance ``recorded_by``, audit entries).
    """
    if name is None:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # no login name (containers without a passwd entry)
            name = "operator"
    name = name.strip()
    if not name or any(char.isspace() for char in name):
        fail(f"--as : nom d'opérateur invalide {name!r} (un mot sans espace)", exit_code=2)
    return Actor(user_id=f"cli:{name}", roles={Role.ADMIN})


def cli_clock() -> Clock | None:
    """The clock of operator commands: the system clock, or the instant in ``$CANTEEN_NOW``
    (ISO 8601 with an offset, e.g. ``2023-10-02T08:30:00+02:00``) to replay a day or test."""
    text = os.environ.get("CANTEEN_NOW")
    if not text:
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        fail(
            f"CANTEEN_NOW : instant invalide {text!r} (ex. 2023-10-02T08:30:00+02:00)", exit_code=2
        )
    if instant.tzinfo is None:
        fail(f"CANTEEN_NOW : donnez le fuseau horaire ({text}+02:00 par exemple)", exit_code=2)
    return FixedClock(instant)


def open_canteen(config: Path, *, clock: Clock | None = None) -> Canteen:
    """Open the deployment ``config`` describes (clock: :func:`cli_clock` unless given); one
    clear line if the file is missing."""
    from canteen_core.services import Canteen  # imported late: keeps ``canteen --help`` fast

    clock = clock if clock is not None else cli_clock()
    if not config.is_file():
        fail(
            f"fichier de déploiement introuvable : {config} "
            "(créez-le avec « canteen init » ou indiquez-le avec --config)"
        )
    return Canteen.open(config, clock=clock)


@attrs.frozen(kw_only=True)
class Operator:
    """What :func:`operator_command` hands a command: the deployment file, who acts, and
    whether to print JSON."""

    config: Path
    actor: Actor
    as_json: bool

    def open(self) -> Canteen:
        """Open the deployment (see :func:`open_canteen`)."""
        return open_canteen(self.config)

    def show(self, document: object, *lines: str) -> None:
        """Print what a command did: ``document`` as JSON with ``--json``, else ``lines``."""
        if self.as_json:
            echo_json(document)
            return
        for line in lines:
            click.echo(line)


def operator_command(function: Callable[..., None]) -> Callable[..., None]:
    """Add ``--config``, ``--as`` and ``--json`` to an operator command, which receives them as
    one parameter ``operator`` (an :class:`Operator`; ``--as`` is checked first)."""

    @functools.wraps(function)
    def command(
        *args: Any, config: Path, operator: str | None, as_json: bool, **kwargs: Any
    ) -> None:
        actor = operator_actor(operator)
        function(*args, operator=Operator(config=config, actor=actor, as_json=as_json), **kwargs)

    return config_option(operator_option(json_option(command)))


T = TypeVar("T")


def _on_terminal() -> bool:
    stream = sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


@contextmanager
def progress(items: Iterable[T], *, label: str, length: int | None = None) -> Iterator[Iterable[T]]:
    """Iterate ``items`` with a progress bar on stderr when it is a terminal; silently
    otherwise (pipes, cron, tests)."""
    if not _on_terminal():
        yield items
        return
    with click.progressbar(items, length=length, label=label, file=sys.stderr) as bar:
        yield bar
