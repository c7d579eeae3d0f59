"""The ``canteen`` command line.

``main`` is the click group behind the ``canteen`` console script. Each command group lives in its
own module (or package, like ``demo``) and exposes a click command named ``command``; it is
registered in :data:`COMMANDS` below. To add one (``canteen db``...), write
``canteen_adapters/cli/db.py`` with ``command = click.Command(...)`` (or a ``click.Group``) and
add it to :data:`COMMANDS`; an operator command takes its deployment file, acting user and
``--json`` through :func:`~canteen_adapters.cli._operator.operator_command`. Commands report
errors by raising :class:`~canteen_core.domain.errors.CanteenError` or calling
:func:`~canteen_adapters.cli._common.fail`:
the group prints one line and exits non-zero, without a traceback. ``--json`` output goes through
:func:`~canteen_adapters.cli._output.echo_json`.
"""

from __future__ import annotations

import click

from canteen_adapters.cli._common import CanteenGroup
from canteen_adapters.cli.audit import command as audit_command
from canteen_adapters.cli.bill import command as bill_command
from canteen_adapters.cli.book import command as book_command
from canteen_adapters.cli.calendar import command as calendar_command
from canteen_adapters.cli.campaigns import command as campaign_command
from canteen_adapters.cli.campaigns import rollover_group
from canteen_adapters.cli.capacity import command as capacity_command
from canteen_adapters.cli.db import command as db_command
from canteen_adapters.cli.demo import command as demo_command
from canteen_adapters.cli.documents import command as documents_command
from canteen_adapters.cli.enroll import command as enroll_command
from canteen_adapters.cli.enrollments import command as enrollments_command
from canteen_adapters.cli.headcount import command as headcount_command
from canteen_adapters.cli.household_privacy import command as household_command
from canteen_adapters.cli.households import command as households_command
from canteen_adapters.cli.init import command as init_command
from canteen_adapters.cli.invoices import command as invoices_command
from canteen_adapters.cli.month_end import command as month_end_command
from canteen_adapters.cli.outbox import command as outbox_command
from canteen_adapters.cli.pay import command as pay_command
from canteen_adapters.cli.refund import command as refund_command
from canteen_adapters.cli.reminders import command as reminders_command
from canteen_adapters.cli.retention import command as retention_command
from canteen_adapters.cli.sepa import command as sepa_command
from canteen_adapters.cli.serve import command as serve_command
from canteen_adapters.cli.simulate import command as simulate_command
from canteen_adapters.cli.sites import command as sites_command
from canteen_adapters.cli.tariffs import command as tariffs_command
from canteen_adapters.cli.tenants import command as tenants_command
from canteen_adapters.cli.worker import command as worker_command

__all__ = ["COMMANDS", "main"]


@click.group(cls=CanteenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    package_name="canteen",
    prog_name="canteen",
    message="%(prog)s, version %(version)s",
    help="Afficher la version et quitter.",
)
def main() -> None:
    """canteen : gérer les cantines scolaires d'une commune (calendrier, réservations, factures).

    Pour commencer : `canteen demo`, le mois de septembre d'une commune de bout en bout, sur
    SQLite.

    Les commandes d'exploitation lisent le fichier de déploiement indiqué par --config (par
    défaut : canteen.toml dans le dossier courant, ou $CANTEEN_CONFIG). Elles agissent en
    administrateur : qui peut lire ce fichier détient de toute façon les accès à la base de
    données. Le nom de l'opérateur (--as NOM, ou $CANTEEN_OPERATOR, sinon le nom de connexion)
    est enregistré comme auteur (cli:NOM) de ce qu'il modifie. $CANTEEN_NOW (par exemple
    2023-10-02T08:30:00+02:00) fixe l'horloge pour rejouer une journée. Les commandes de
    consultation acceptent --json. Les traitements longs affichent une barre de progression,
    sur un terminal seulement. Une erreur s'affiche en une ligne, avec le code de sortie 1
    (opération refusée, ou configuration incomplète ou incorrecte) ou 2 (arguments
    incorrects). Pour trouver les identifiants : canteen
    households list, canteen sites list, canteen enrollments list.
    """


#: Every command of ``canteen``, one module each.
COMMANDS: tuple[click.Command, ...] = (
    demo_command,
    init_command,
    db_command,
    calendar_command,
    households_command,
    household_command,
    sites_command,
    tariffs_command,
    enroll_command,
    enrollments_command,
    book_command,
    headcount_command,
    bill_command,
    invoices_command,
    pay_command,
    refund_command,
    sepa_command,
    reminders_command,
    documents_command,
    campaign_command,
    rollover_group,
    simulate_command,
    outbox_command,
    worker_command,
    month_end_command,
    audit_command,
    retention_command,
    serve_command,
    tenants_command,
    capacity_command,
)

for _command in COMMANDS:
    main.add_command(_command)
