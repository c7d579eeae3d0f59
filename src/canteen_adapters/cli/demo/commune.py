"""The demo's commune: Ronde (zone C), its school restaurant, tariff grid, actors, the
CONCERTO family of the guide and the instants each step happens at."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

from canteen_adapters.cli._common import fail, os_error_fr
from canteen_core.config.deployment import load_deployment
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.calendar import Zone
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.clock import PARIS
from canteen_core.domain.deadlines import WeeklyDeadline
from canteen_core.domain.families import FamilyQuotient
from canteen_core.domain.tariffs import (
    BracketPricing,
    FlatPricing,
    Pricing,
    SiblingDiscount,
    Surcharge,
    TariffCategory,
    TariffGrid,
)
from canteen_core.synthetic import CONCERTO_ID, concerto_household

__all__ = [
    "ADMIN",
    "BILLED_AT",
    "BOOKING_POLICY",
    "CITY_SEED",
    "COMMUNE",
    "CONCERTO_ID",
    "CONCERTO_PAYER",
    "CONCERTO_USERNAME",
    "DECISIONS_FR",
    "DEFAULT_DB",
    "DEFAULT_HOUSEHOLDS",
    "FINANCE",
    "JUSTIFIED_AT",
    "NEW_QF",
    "PAID_CASH_AT",
    "PAID_ONLINE_AT",
    "PAYZEN_TEST_KEY",
    "PERIOD",
    "SCHOOL_YEAR",
    "SEPTEMBER",
    "SERVICE",
    "SETUP_AT",
    "SHOWN_AT",
    "SITE",
    "STAFF",
    "STAFF_ACCOUNT_ID",
    "STAFF_EMAIL",
    "STAFF_USERNAME",
    "concerto_household",
    "demo_deployment_text",
    "deployment_file",
    "tariff_grid",
]

#: Where the demo keeps its database (and its ``canteen.toml``) unless ``--db`` says otherwise.
DEFAULT_DB = Path("canteen-demo") / "canteen.db"
DEFAULT_HOUSEHOLDS = 300
SCHOOL_YEAR = 2023
PERIOD = "2023-09"
SEPTEMBER = (date(2023, 9, 1), date(2023, 9, 30))
CITY_SEED = 2023
COMMUNE = "Ronde"
CONCERTO_USERNAME = "concerto"
#: The régie agent's back-office account (staff and finance), invited by the demo.
STAFF_ACCOUNT_ID = "demo:agent"
STAFF_USERNAME = "agent.ronde"
STAFF_EMAIL = "regie@ronde.example"
PAYZEN_TEST_KEY = "demo-ronde-payzen-test-key"  # a TEST key: signs nothing real

SERVICE = Service(id="rs", name="Restauration Scolaire", open_weekdays="mon,tue,thu,fri")
SITE = Site(id="ronde", name="Ecole Élémentaire RONDE", zone=Zone.C, department="77")
BOOKING_POLICY = WeeklyDeadline(weekday=3, at=time(10, 0))  # Thursday 10:00 for next week

#: How the demo tells the notification handler's decisions.
DECISIONS_FR = {"credit": "créditée", "duplicate": "reconnue comme doublon"}

# The acting users of a real deployment.
ADMIN = Actor(user_id="demo:admin", roles={Role.ADMIN})
STAFF = Actor.staff("demo:cantine")
FINANCE = Actor.staff("demo:regie", Role.FINANCE)
CONCERTO_PAYER = Actor.guardian("concerto-maman", CONCERTO_ID)

# The demo's timeline (Europe/Paris wall clock).
SETUP_AT = datetime(2023, 8, 21, 9, 0, tzinfo=PARIS)
JUSTIFIED_AT = datetime(2023, 9, 29, 17, 0, tzinfo=PARIS)
BILLED_AT = datetime(2023, 10, 2, 8, 30, tzinfo=PARIS)
PAID_ONLINE_AT = datetime(2023, 10, 3, 20, 15, tzinfo=PARIS)
PAID_CASH_AT = datetime(2023, 10, 5, 10, 0, tzinfo=PARIS)
SHOWN_AT = datetime(2023, 10, 6, 9, 0, tzinfo=PARIS)

#: CONCERTO's new family quotient (an attestation CAF received in October), recorded by the
#: finance office from November on: September's invoice, already billed, is unchanged.
NEW_QF = FamilyQuotient(value=Decimal(620), valid_from=date(2023, 11, 1))


def demo_deployment_text(db_name: str) -> str:
    """The ``canteen.toml`` the demo writes next to its database ``db_name``."""
    return f"""\
# Deployment of the canteen demo: the commune of {COMMUNE}, zone C, school year 2023-2024.
# Written by `canteen demo`; every operator command reads it with --config.

[storage]
url = "sqlite:///{db_name}"

[issuer]
name = "Régie de restauration scolaire de {COMMUNE}"
code = "RONDE"
address = "Mairie de {COMMUNE}, 1 place de la Mairie"
email = "regie.cantine@ronde.example"

[billing]
mode = "postpaid"

[calendar]
source = "france"
zone = "C"

[mail]
adapter = "outbox"
sender = "Restauration scolaire de {COMMUNE} <cantine@ronde.example>"
folder = "mail"

[payment.payzen]
site_id = "12345678"
mode = "TEST"
test_key = "{PAYZEN_TEST_KEY}"

[portal]
name = "Espace Restauration"
url = "https://famille.ronde.example"
opening_date = 2023-08-21
"""


def deployment_file(db: Path) -> Path:
    """The demo's ``canteen.toml`` next to ``db``: written if missing, checked otherwise."""
    db = db.resolve()
    config = db.parent / "canteen.toml"
    if not config.exists():
        try:
            db.parent.mkdir(parents=True, exist_ok=True)
            config.write_text(demo_deployment_text(db.name), encoding="utf-8")
        except OSError as error:
            fail(f"impossible de créer la démo : {os_error_fr(error)} ; choisissez un autre --db")
        return config
    deployment = load_deployment(config)
    expected = f"sqlite:///{db.as_posix()}"
    if deployment.storage.url != expected:
        fail(
            f"{config} existe déjà et décrit une autre base ({deployment.storage.url}) : "
            "choisissez un autre --db pour la démo"
        )
    return config


def tariff_grid() -> TariffGrid:
    """The 2023-2024 school-restaurant grid of Ronde: five QF brackets (the first at 1 EUR,
    "cantine à 1 EUR"), non-residents, PAI baskets, -20 % from the third child, +1 EUR for a
    meal taken without booking."""
    prices: dict[TariffCategory, Pricing] = {
        TariffCategory.RESIDENT_CHILD: BracketPricing.from_thresholds(
            ["1.00", "2.10", "3.35", "4.05", "4.70"], [450, 700, 1000, 1500]
        ),
        TariffCategory.NON_RESIDENT_CHILD: FlatPricing.of("5.60"),
        TariffCategory.PAI_BASKET: FlatPricing.of("1.50"),
    }
    return TariffGrid(
        id="rs-2023-2024",
        service_id=SERVICE.id,
        valid_from=date(2023, 9, 1),
        valid_until=date(2024, 8, 31),
        prices=prices,
        required_categories=frozenset(prices),
        sibling_discounts=(SiblingDiscount(from_rank=3, percent=Decimal(20)),),
        unbooked_surcharge=Surcharge.add_amount("1.00"),
    )
