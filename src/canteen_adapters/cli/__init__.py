"""The ``canteen`` command line.

``main`` is the click group behind the ``canteen`` console script. Each command group lives in its
own module of this package and exposes a click command named ``command``; it is registered in
:data:`COMMANDS` below. To add one (``canteen demo``, ``canteen db``...), write
``canteen_adapters/cli/demo.py`` with ``command = click.Command(...)`` (or a ``click.Group``) and
add it to :data:`COMMANDS`. Commands report errors by raising
:class:`~canteen_core.errors.CanteenError` or calling :func:`~canteen_adapters.cli._common.fail`:
the group prints one line and exits non-zero, without a traceback. ``--json`` output goes through
:func:`~canteen_adapters.cli._common.echo_json`.
"""

from __future__ import annotations

import click

from canteen_adapters.cli._common import CanteenGroup
from canteen_adapters.cli.calendar import command as calendar_command
from canteen_adapters.cli.demo import command as demo_command

__all__ = ["COMMANDS", "main"]


@click.group(cls=CanteenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="canteen", prog_name="canteen")
def main() -> None:
    """canteen: school canteens for French municipalities (calendar, bookings, billing)."""


#: Every command of ``canteen``, one module each.
COMMANDS: tuple[click.Command, ...] = (calendar_command, demo_command)

for _command in COMMANDS:
    main.add_command(_command)
