"""What an operator command runs as: the deployment file, the acting user and the clock.

:func:`operator_command` gives a command ``--config``, ``--as`` and ``--json`` and hands it one
:class:`Operator`. Whoever can read the deployment file already holds its database credentials,
so the command acts as an administrator and records the operator's name on what it changes.
"""

from __future__ import annotations

import functools
import getpass
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import click

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._options import FILE, json_option
from canteen_adapters.cli._output import echo_json
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.clock import Clock, FixedClock

if TYPE_CHECKING:
    from canteen_core.services import Canteen

__all__ = [
    "DEFAULT_CONFIG",
    "Operator",
    "cli_clock",
    "config_option",
    "open_canteen",
    "operator_actor",
    "operator_command",
    "operator_option",
]

#: The deployment file every operator command reads unless ``--config`` says otherwise.
DEFAULT_CONFIG = "canteen.toml"

F = TypeVar("F", bound=Callable[..., Any])


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
        fail(f"--as : nom d'opérateur invalide « {name} » (un mot sans espace)", exit_code=2)
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
            f"CANTEEN_NOW : instant invalide « {text} » (ex. 2023-10-02T08:30:00+02:00)",
            exit_code=2,
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
