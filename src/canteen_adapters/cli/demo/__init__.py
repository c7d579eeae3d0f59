"""``canteen demo``: a commune's month, end to end, on an embedded SQLite database.

What it does (every step through the :class:`~canteen_core.services.Canteen` facade, with the
actor a real deployment would use: the admin sets up, staff take the roll, the finance office
bills and takes cash, the family pays online, PayZen notifies):

1. writes a deployment file ``canteen.toml`` next to the database (``--db``, default
   ``canteen-demo/canteen.db``) unless one is there: the commune of Ronde, zone C, post-paid
   billing, outbox mailer writing ``.eml`` files to ``mail/``, a PayZen shop in TEST mode. The
   other commands work on it afterwards: ``canteen invoices --config canteen-demo/canteen.toml``;
2. creates the households of a synthetic commune (:func:`canteen_core.synthetic.synthetic_city`,
   ``--households`` of them, seeded: realistic QF spread, diets, PAI, 1-4 children) plus the
   seed's CONCERTO family (payer Madame CONCERTO Maman, co-representative Papa, children Alban,
   Arielle and Basile), and the 2023-2024 tariff grid of the school restaurant;
3. enrolls every child of the commune at "Ecole Élémentaire RONDE" for the school year (Alban
   from 04/09/2023 to 05/07/2024) and applies each family's weekly periodicity (Alban: Mondays);
4. records September's roll calls (absences, some justified by a medical certificate, and
   presences without a booking);
5. bills September post-paid on 02/10/2023;
6. Madame CONCERTO pays her invoice online: PayZen's notification (IPN) is built and signed
   with the shop's TEST key (:func:`~canteen_adapters.payment.payzen.compute_signature`) and
   handled by the facade's notification handler; a tampered copy is refused;
7. another family pays in cash at the counter, and the finance office records CONCERTO's new
   family quotient (620 EUR from 01/11/2023: September's invoice is unchanged), which the
   audit trail then shows with its before and after (``canteen audit --household CONCERTO``);
8. prints the CONCERTO family's "MES FACTURES" page and the commune's totals (``--json``: the
   invoices with their lines and each household's balance).

The demo's time is pinned (:class:`~canteen_core.domain.clock.FixedClock`, moved from step to step:
21/08/2023 for the set-up, each September day for its roll call, 02/10/2023 for billing,
03-05/10/2023 for payments), so the output is the same on every run and machine.

Running it again on the same database changes nothing: each step first looks whether it was
done (households, grid, enrollments, bookings, September's attendance, the card and cash
payments, the new QF) and billing never invoices a household twice for a month.
"""

from __future__ import annotations

from pathlib import Path

import click

from canteen_adapters.cli._options import FILE, json_option
from canteen_adapters.cli._output import echo_json
from canteen_adapters.cli.demo.commune import (
    ADMIN,
    CONCERTO_ID,
    CONCERTO_PAYER,
    DEFAULT_DB,
    DEFAULT_HOUSEHOLDS,
    FINANCE,
    PAYZEN_TEST_KEY,
    SHOWN_AT,
    STAFF,
    demo_deployment_text,
)
from canteen_adapters.cli.demo.output import render_text, report_json
from canteen_adapters.cli.demo.run import DemoReport, run_demo

__all__ = [
    "ADMIN",
    "CONCERTO_ID",
    "CONCERTO_PAYER",
    "DEFAULT_DB",
    "DEFAULT_HOUSEHOLDS",
    "FINANCE",
    "PAYZEN_TEST_KEY",
    "SHOWN_AT",
    "STAFF",
    "DemoReport",
    "command",
    "demo_deployment_text",
    "render_text",
    "report_json",
    "run_demo",
]


@click.command("demo")
@click.option(
    "--db",
    "db",
    type=FILE,
    default=str(DEFAULT_DB),
    show_default=True,
    help="Base SQLite de la démonstration ; son canteen.toml est écrit à côté.",
)
@click.option(
    "--households",
    type=click.IntRange(min=0, max=100_000),
    default=DEFAULT_HOUSEHOLDS,
    show_default=True,
    help="Nombre de foyers de la commune synthétique (en plus de la famille CONCERTO).",
)
@click.option(
    "--activities/--no-activities",
    default=True,
    show_default=True,
    help="Ajouter les activités au-delà du déjeuner : garderie du soir à la demi-heure, accueil "
    "du mercredi à la demi-journée avec son repas, semaine d'ALSH en février avec sa capacité, "
    "sa liste d'attente et son menu (docs/rules/activities.md) ; --no-activities ne fait que "
    "le déjeuner.",
)
@json_option
def command(db: Path, households: int, activities: bool, as_json: bool) -> None:
    """Dérouler le mois de septembre d'une commune de bout en bout sur une base SQLite intégrée.

    Crée (ou réutilise) la commune de Ronde, zone C, 2023-2024 : une population synthétique avec
    la famille CONCERTO du guide, des inscriptions, des réservations hebdomadaires, une garderie
    du soir, un accueil du mercredi et une semaine d'ALSH en février (avec ses places, une liste
    d'attente et son menu), les présences de septembre, la facturation à terme échu de
    septembre, un paiement PayZen de TEST par notification signée et un paiement en espèces ;
    affiche ensuite la page « MES FACTURES » de la famille et les totaux de la commune.

    \b
        canteen demo
        canteen demo --db /tmp/ronde/canteen.db --households 1000 --json
        canteen demo --no-activities --db /tmp/ronde-lunch/canteen.db

    La relancer sur la même base n'ajoute rien. Ensuite, les commandes d'exploitation
    fonctionnent sur la démonstration : canteen invoices --config canteen-demo/canteen.toml
    """
    report = run_demo(db, households=households, activities=activities)
    if as_json:
        echo_json(report_json(report))
    else:
        click.echo(render_text(report))
