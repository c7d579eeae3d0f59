"""Small communes for the month-end tests: a SQLite deployment file each, built through the facade.

Each commune has ``households`` families of one child, enrolled for 2023-2024 and booked on
every service day of September 2023 (a booked day without a roll call is charged), a flat
3.00 EUR grid, and a SEPA mandate for the first ``mandates`` families. Its mail goes to
``<folder>/mail`` as ``.eml`` files (the outbox mailer), its debit files to ``<folder>/sepa``.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, time
from pathlib import Path

import attrs

from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.deadlines import WeeklyDeadline
from canteen_core.domain.families import Child, Guardian, Household
from canteen_core.domain.reservations import ReservationBook
from canteen_core.domain.tariffs import FlatPricing, TariffCategory, TariffGrid
from canteen_core.services import Canteen

ADMIN = Actor.staff("admin", Role.ADMIN)
#: When the communes are set up (before the rentrée).
SET_UP = FixedClock(datetime(2023, 8, 21, 8, 0, tzinfo=UTC))
#: The workers' clock: Monday 2 October 2023, September is over.
BILLING_NOW = "2023-10-02T09:00:00+02:00"
PERIOD = "2023-09"
IBAN = "FR1420041010050500013M02606"
SERVICE = Service(id="rs", name="Restauration scolaire", open_weekdays="mon,tue,thu,fri")
GRID = TariffGrid(
    id="rs-2023",
    service_id="rs",
    valid_from=date(2023, 8, 1),
    valid_until=date(2024, 7, 31),
    prices={TariffCategory.RESIDENT_CHILD: FlatPricing.of("3.00")},
)

DEPLOYMENT = """\
[storage]
{storage}

[issuer]
name = "Régie de {name}"
code = "{code}"

[calendar]
department = "75"

[mail]
adapter = "outbox"
folder = "mail"
sender = "Cantine de {name} <cantine@{host}.fr>"

[payment.sepa]
creditor_name = "Régie de {name}"
creditor_iban = "FR7630004000031234567890143"
creditor_id = "FR72ZZZ123456"
creditor_bic = "BNPAFRPP"
output_dir = "{sepa}"
"""


@attrs.frozen
class BuiltCommune:
    """A commune on disk: its code, deployment file, and the families' ids."""

    code: str
    name: str
    deployment: Path
    households: tuple[str, ...]
    mandates: int

    @property
    def folder(self) -> Path:
        """The commune's folder (database, mail, sepa)."""
        return self.deployment.parent


def build_commune(
    root: Path,
    code: str,
    name: str,
    *,
    households: int,
    mandates: int = 0,
    template: Path | None = None,
    postgres: tuple[str, str] | None = None,
) -> BuiltCommune:
    """Write the commune's deployment file under ``root/code`` and fill its database: a
    SQLite file (a copy of ``template``, a migrated SQLite file, when given: faster than
    migrating), or the PostgreSQL schema ``postgres = (dsn, schema)``."""
    folder = root / code.lower()
    folder.mkdir(parents=True)
    if template is not None:
        shutil.copyfile(template, folder / "canteen.db")
    deployment = folder / "canteen.toml"
    deployment.write_text(
        DEPLOYMENT.format(
            storage=(
                'url = "sqlite:///canteen.db"'
                if postgres is None
                else f'url = "{postgres[0]}"\nschema = "{postgres[1]}"'
            ),
            name=name,
            code=code,
            host=code.lower(),
            sepa=(folder / "sepa").as_posix(),
        ),
        encoding="utf-8",
    )
    site = Site(id="ecole", name=f"École de {name}", zone="C", department="75")
    ids: list[str] = []
    with Canteen.open(deployment, clock=SET_UP) as canteen:
        canteen.billing.save_tariff_grid(ADMIN, GRID)
        for index in range(households):
            household_id = f"{code.lower()}-{index:03d}"
            payer = Guardian(
                id=f"{household_id}-p",
                first_name="Camille",
                last_name=f"Famille{index}",
                email=f"famille{index}@{code.lower()}.example",
            )
            child = Child(
                id=f"{household_id}-c",
                first_name="Alex",
                last_name=f"Famille{index}",
                birth_date=date(2016, 1, 1),
            )
            canteen.families.create_household(
                ADMIN, Household(id=household_id, payer=payer, children=(child,))
            )
            enrollment = canteen.enrollments.enroll(
                ADMIN,
                household_id,
                child.id,
                service=SERVICE,
                site=site,
                booking_policy=WeeklyDeadline(weekday=3, at=time(10, 0)),
                school_year=2023,
            )
            days = list(enrollment.open_days(date(2023, 9, 1), date(2023, 9, 30)))
            with canteen.context.storage.unit_of_work() as uow:
                current = uow.reservations.load(enrollment.id)
                booked = ReservationBook.from_days(
                    enrollment.id, current.origin, days, version=current.version + 1
                )
                uow.reservations.save(booked, expected_version=current.version)
                uow.commit()
            if index < mandates:
                canteen.payments.sign_mandate(
                    Actor.guardian(payer.id, household_id), household_id, iban=IBAN
                )
            ids.append(household_id)
    return BuiltCommune(
        code=code,
        name=name,
        deployment=deployment,
        households=tuple(ids),
        mandates=mandates,
    )


def registry_text(communes: list[BuiltCommune], *, broken: Path | None = None) -> str:
    """A platform registry listing ``communes`` (and a ``BROKEN`` one at ``broken``)."""
    lines: list[str] = []
    for commune in communes:
        lines += [
            "[[commune]]",
            f'code = "{commune.code}"',
            f'name = "{commune.name}"',
            f'deployment = "{commune.deployment.as_posix()}"',
            "",
        ]
    if broken is not None:
        lines += ["[[commune]]", 'code = "BROKEN"', f'deployment = "{broken.as_posix()}"', ""]
    return "\n".join(lines)
