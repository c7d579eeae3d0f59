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
7. another family pays in cash at the counter;
8. prints the CONCERTO family's "MES FACTURES" page and the commune's totals (``--json``: the
   invoices with their lines and each household's balance).

The demo's time is pinned (:class:`~canteen_core.domain.clock.FixedClock`, moved from step to step:
21/08/2023 for the set-up, each September day for its roll call, 02/10/2023 for billing,
03-05/10/2023 for payments), so the output is the same on every run and machine.

Running it again on the same database changes nothing: each step first looks whether it was
done (households, grid, enrollments, bookings, September's attendance, the card and cash
payments) and billing never invoices a household twice for a month.
"""

from __future__ import annotations

import re
import time as _time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import click

from canteen_adapters.cli._common import (
    echo_json,
    euros,
    fail,
    json_option,
    os_error_fr,
    plural,
    progress,
)
from canteen_adapters.cli.invoices import payer_label
from canteen_adapters.payment.payzen import compute_signature
from canteen_core.config.deployment import load_deployment
from canteen_core.domain.actors import Actor, Role
from canteen_core.domain.attendance import AbsenceJustification, AttendanceRecord, Presence
from canteen_core.domain.calendar import Zone
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.clock import PARIS, FixedClock
from canteen_core.domain.deadlines import WeeklyDeadline
from canteen_core.domain.enrollments import LateChangeMode
from canteen_core.domain.errors import CanteenError, NotFoundError
from canteen_core.domain.families import Child, Diet, FamilyQuotient, Guardian, Household
from canteen_core.domain.ledger import Statement
from canteen_core.domain.money import Money
from canteen_core.domain.periodicity import Periodicity
from canteen_core.domain.tariffs import (
    BracketPricing,
    FlatPricing,
    Pricing,
    SiblingDiscount,
    Surcharge,
    TariffCategory,
    TariffGrid,
)
from canteen_core.services import Canteen
from canteen_core.services.attendance import JustificationRequest
from canteen_core.services.billing import InvoicesPage
from canteen_core.services.enrollments import EnrollmentRequest
from canteen_core.synthetic import synthetic_city

__all__ = [
    "CONCERTO_ID",
    "DEFAULT_DB",
    "DEFAULT_HOUSEHOLDS",
    "DemoReport",
    "command",
    "demo_deployment_text",
    "render_text",
    "report_json",
    "run_demo",
]

#: Where the demo keeps its database (and its ``canteen.toml``) unless ``--db`` says otherwise.
DEFAULT_DB = Path("canteen-demo") / "canteen.db"
DEFAULT_HOUSEHOLDS = 300
SCHOOL_YEAR = 2023
PERIOD = "2023-09"
SEPTEMBER = (date(2023, 9, 1), date(2023, 9, 30))
CITY_SEED = 2023
CONCERTO_ID = "CONCERTO"
COMMUNE = "Ronde"
CONCERTO_USERNAME = "concerto"
PAYZEN_TEST_KEY = "demo-ronde-payzen-test-key"  # a TEST key: signs nothing real

SERVICE = Service(id="rs", name="Restauration Scolaire", open_weekdays="mon,tue,thu,fri")
SITE = Site(id="ronde", name="Ecole Élémentaire RONDE", zone=Zone.C, department="77")
BOOKING_POLICY = WeeklyDeadline(weekday=3, at=time(10, 0))  # Thursday 10:00 for next week

#: How the demo tells the notification handler's decisions.
_DECISIONS_FR = {"credit": "créditée", "duplicate": "reconnue comme doublon"}

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


def _deployment_file(db: Path) -> Path:
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


def concerto_household() -> Household:
    """The seed's family: Madame CONCERTO Maman pays, Papa is co-representative."""
    return Household(
        id=CONCERTO_ID,
        payer=Guardian(
            id="concerto-maman",
            first_name="Maman",
            last_name="CONCERTO",
            email="abc@gmail.com",
            civility="Madame",
        ),
        co_representative=Guardian(
            id="concerto-papa", first_name="Papa", last_name="CONCERTO", civility="Monsieur"
        ),
        children=(
            Child(
                id="concerto-alban",
                first_name="Alban",
                last_name="CONCERTO",
                birth_date=date(2014, 5, 12),
            ),
            Child(
                id="concerto-arielle",
                first_name="Arielle",
                last_name="CONCERTO",
                birth_date=date(2018, 2, 3),
                diet=Diet.VEGETARIAN,
            ),
            Child(
                id="concerto-basile",
                first_name="Basile",
                last_name="CONCERTO",
                birth_date=date(2021, 10, 27),
                pai=True,
            ),
        ),
        quotients=(FamilyQuotient(value=Decimal(850), valid_from=date(2023, 1, 1)),),
    )


# -- the report ---------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class StepResult:
    """One step of the demo: what it did now, or that it had been done before."""

    label: str
    text: str
    done_before: bool = False


@attrs.frozen(kw_only=True)
class PortalLogin:
    """The CONCERTO payer's portal account: what the welcome e-mail says."""

    username: str
    temporary_password: str | None  # None once the account was activated
    activation_token: str | None


@attrs.frozen(kw_only=True)
class DemoReport:
    """What ``canteen demo`` shows."""

    database: Path
    config: Path
    households: tuple[Household, ...]
    statements: dict[str, Statement]
    concerto_page: InvoicesPage
    steps: tuple[StepResult, ...]
    enrollments: int
    seconds: float
    concerto_login: PortalLogin | None = None

    @property
    def billed(self) -> list[Statement]:
        """Statements of the households with at least one invoice."""
        return [s for s in self.statements.values() if s.invoices]


class _Demo:
    """The demo's steps over one open canteen, with its movable clock."""

    def __init__(self, canteen: Canteen, clock: FixedClock, households: int) -> None:
        self.canteen = canteen
        self.clock = clock
        calendar = canteen.context.calendar(SITE, SERVICE, SCHOOL_YEAR)
        self.city = synthetic_city(
            households, calendar=calendar, seed=CITY_SEED, sites=1, service=SERVICE
        )
        self.concerto = concerto_household()
        self.concerto_enrollment = f"{CONCERTO_ID}-alban-{SERVICE.id}"
        self.steps: list[StepResult] = []

    def at(self, moment: datetime) -> None:
        self.clock.set(moment)

    def step(self, label: str, text: str, *, done_before: bool = False) -> None:
        self.steps.append(StepResult(label=label, text=text, done_before=done_before))

    # -- set-up ------------------------------------------------------------------------------

    def households(self) -> None:
        self.at(SETUP_AT)
        try:
            self.canteen.families.get(ADMIN, CONCERTO_ID)
        except NotFoundError:
            pass
        else:
            count = len(self.canteen.families.list_households(ADMIN))
            if count != len(self.city.households) + 1:
                # Another size gives another synthetic city: its steps would not match.
                fail(
                    f"cette base de démo compte {count} foyers : relancez avec "
                    f"--households {count - 1}, ou choisissez un autre --db"
                )
            self.step(
                "Foyers",
                f"{plural(count, 'foyer déjà enregistré', 'foyers déjà enregistrés')}",
                done_before=True,
            )
            return
        items = [self.concerto, *self.city.households]
        created = self.canteen.families.create_households(ADMIN, items)
        children = sum(len(h.children) for h in items)
        pai = sum(1 for h in items for c in h.children if c.pai)
        diets = sum(1 for h in items for c in h.children if c.diet is not Diet.STANDARD)
        self.step(
            "Foyers",
            f"{plural(created, 'foyer créé', 'foyers créés')} (dont la famille CONCERTO), "
            f"{plural(children, 'enfant')} ("
            f"{plural(diets, 'régime', 'régimes')} sans porc ou végétarien, "
            f"{plural(pai, 'PAI', 'PAI')})",
        )

    def grid(self) -> None:
        if self.canteen.billing.tariff_grids(ADMIN, service_id=SERVICE.id):
            self.step("Tarifs", "grille 2023-2024 déjà enregistrée", done_before=True)
            return
        self.canteen.billing.save_tariff_grid(ADMIN, tariff_grid())
        self.step("Tarifs", "grille 2023-2024 : 5 tranches de QF, de 1,00 € à 4,70 € le repas")

    def _requests(self) -> list[EnrollmentRequest]:
        alban = EnrollmentRequest(
            household_id=CONCERTO_ID,
            child_id="concerto-alban",
            service=SERVICE,
            site=SITE,
            booking_policy=BOOKING_POLICY,
            school_year=SCHOOL_YEAR,
            start=date(2023, 9, 4),
            end=date(2024, 7, 5),
            id=self.concerto_enrollment,
            late_change=LateChangeMode.PENDING,  # a late change becomes a request to instruct
        )
        return [
            alban,
            *(
                EnrollmentRequest(
                    household_id=e.household_id,
                    child_id=e.child_id,
                    service=SERVICE,
                    site=SITE,
                    booking_policy=BOOKING_POLICY,
                    tariff_category=e.tariff_category,
                    school_year=SCHOOL_YEAR,
                    start=e.start,
                    end=e.end,
                    id=e.id,
                )
                for e in self.city.enrollments
            ),
        ]

    def enrollments(self) -> int:
        self.at(SETUP_AT)
        requests = self._requests()
        if self.canteen.enrollments.of_household(ADMIN, CONCERTO_ID):
            self.step(
                "Inscriptions",
                plural(
                    len(requests), "inscription déjà enregistrée", "inscriptions déjà enregistrées"
                ),
                done_before=True,
            )
            return len(requests)
        self.canteen.enrollments.enroll_many(ADMIN, requests)
        self.step(
            "Inscriptions",
            f"{plural(len(requests), 'enfant inscrit', 'enfants inscrits')}, "
            f"« {SERVICE.name} - {SITE.name} », "
            "du 04/09/2023 au 05/07/2024",
        )
        return len(requests)

    def periodicities(self) -> None:
        self.at(SETUP_AT)
        reservations = self.canteen.reservations
        if len(reservations.book_of(ADMIN, self.concerto_enrollment)):
            self.step("Réservations", "périodicités déjà appliquées", done_before=True)
            return
        mondays = Periodicity(weekdays="mon", start=date(2023, 9, 4), end=date(2024, 7, 5))
        patterns: dict[str, Periodicity] = {self.concerto_enrollment: mondays}
        patterns.update(self.city.periodicities)
        results = reservations.apply_periodicities(ADMIN, patterns)
        booked = sum(len(result.booked) for result in results.values())
        self.step(
            "Réservations",
            f"périodicités appliquées à {plural(len(patterns), 'inscription')} "
            f"(Alban : le lundi), {plural(booked, 'repas réservé', 'repas réservés')} sur l'année",
        )

    # -- September ---------------------------------------------------------------------------

    def attendance(self) -> None:
        first, last = SEPTEMBER
        roll_calls: dict[date, dict[str, Presence]] = defaultdict(dict)
        certificates: list[AbsenceJustification] = []
        for items in self.city.attendance(first, last):
            for item in items:
                if isinstance(item, AttendanceRecord):
                    roll_calls[item.day][item.enrollment_id] = item.presence
                else:
                    certificates.append(item)
        # What an earlier (possibly interrupted) run recorded: each roll call is one
        # transaction, each certificate another, so both are skipped one by one.
        recorded = self.canteen.attendance.records(STAFF, start=first, end=last)
        done_days = {record.day for record in recorded}
        justified = {(r.enrollment_id, r.day) for r in recorded if r.justification_id}
        days = [day for day in sorted(roll_calls) if day not in done_days]
        notes = [n for n in certificates if (n.enrollment_id, n.first_day) not in justified]
        if not days and not notes:
            self.step(
                "Pointage",
                f"septembre déjà pointé ({plural(len(recorded), 'relevé')} d'absence ou de "
                "présence sans réservation)",
                done_before=True,
            )
            return
        with progress(days, label="Pointage de septembre") as bar:
            for day in bar:
                # The roll call of the absentees and of children eating without a booking,
                # recorded at the end of the meal (a booked child without a record ate).
                self.at(datetime.combine(day, time(14, 0), tzinfo=PARIS))
                self.canteen.attendance.roll_call(STAFF, day, roll_calls[day])
        self.at(JUSTIFIED_AT)
        # The certificates arrive as a batch: one transaction, all or nothing.
        self.canteen.attendance.justify_many(
            STAFF,
            [
                JustificationRequest(
                    enrollment_id=note.enrollment_id,
                    first_day=note.first_day,
                    last_day=note.last_day,
                )
                for note in notes
            ],
        )
        absences = sum(
            1 for calls in roll_calls.values() for p in calls.values() if p is Presence.ABSENT
        )
        unbooked = sum(len(calls) for calls in roll_calls.values()) - absences
        self.step(
            "Pointage",
            f"septembre : {plural(absences, 'absence')} "
            f"({plural(len(certificates), 'certificat médical', 'certificats médicaux')}), "
            f"{plural(unbooked, 'présence')} sans réservation",
        )

    def billing(self) -> None:
        self.at(BILLED_AT)
        report = self.canteen.billing.run_postpaid(FINANCE, PERIOD)
        if not report.issued:
            self.step(
                "Facturation",
                f"septembre déjà facturé ({len(report.already_billed)} foyers)",
                done_before=True,
            )
            return
        self.step(
            "Facturation",
            f"septembre facturé le 02/10/2023 : {plural(report.count, 'facture')}, "
            f"{euros(report.total)}",
        )

    def payzen(self) -> None:
        self.at(PAID_ONLINE_AT)
        payments = self.canteen.payments
        # Read as the régie: once invited, the family acts through its portal account.
        statement = self.canteen.billing.statement(FINANCE, CONCERTO_ID)
        if any(e.kind == "payment" and "carte" in e.label for e in statement.entries):
            self.step("Paiement en ligne", "déjà reçu (PayZen, TEST)", done_before=True)
            return
        page = self.canteen.billing.invoices_page(FINANCE, CONCERTO_ID)
        unpaid = [row for row in page.rows if row.can_pay_online]
        if not unpaid:
            self.step("Paiement en ligne", "aucune facture payable en ligne")
            return
        row = unpaid[0]
        start = payments.start_online_payment(
            CONCERTO_PAYER,
            row.invoice_id,
            provider="payzen",
            return_url="https://famille.ronde.example/factures",
            notification_url="https://famille.ronde.example/payzen/ipn",
        )
        assert start.form is not None
        # What PayZen posts back to the notification URL (IPN): the form's fields, the
        # transaction's result, and a signature computed with the shop's TEST key.
        fields = {name: value for name, value in start.form.fields if name != "signature"}
        fields.update(
            vads_trans_status="AUTHORISED",
            vads_operation_type="DEBIT",
            vads_auth_result="00",
            vads_card_brand="CB",
            vads_card_number="497010XXXXXX0055",
            vads_effective_amount=fields["vads_amount"],
        )
        signed = {**fields, "signature": compute_signature(fields, PAYZEN_TEST_KEY, "HMAC-SHA-256")}
        forged = {**signed, "vads_amount": "1"}  # tampered: the signature no longer matches
        try:
            payments.handle_notification("payzen", forged)
        except CanteenError:
            refused = True
        else:  # pragma: no cover - the adapter always refuses a bad signature
            refused = False
        result = payments.handle_notification("payzen", signed)
        again = payments.handle_notification("payzen", signed)  # PayZen retries: no double credit
        self.step(
            "Paiement en ligne",
            f"Madame CONCERTO paie la facture {row.number} ({euros(start.amount)}) par PayZen "
            f"(TEST) : notification signée {_DECISIONS_FR.get(result.decision, result.decision)}"
            f", renvoyée par PayZen : {_DECISIONS_FR.get(again.decision, again.decision)}"
            + (", copie falsifiée refusée" if refused else ""),
        )

    def cash(self, statements: dict[str, Statement]) -> dict[str, Statement]:
        self.at(PAID_CASH_AT)
        candidates = sorted(
            hid for hid, s in statements.items() if hid != CONCERTO_ID and s.invoices
        )
        if not candidates:
            self.step("Paiement en espèces", "aucune facture à régler")
            return statements
        household_id = candidates[0]
        statement = statements[household_id]
        if any(e.kind == "payment" and "espèces" in e.label for e in statement.entries):
            self.step("Paiement en espèces", "déjà reçu", done_before=True)
            return statements
        amount = statement.balance_due
        if not amount.is_positive:
            self.step("Paiement en espèces", "rien à régler")
            return statements
        self.canteen.payments.record_payment(
            FINANCE, household_id, amount, "cash", reference="Reçu n° 0001"
        )
        statements = dict(statements)
        statements[household_id] = self.canteen.billing.statement(FINANCE, household_id)
        self.step(
            "Paiement en espèces",
            f"le foyer {household_id} règle {euros(amount)} au guichet de la régie",
        )
        return statements

    def portal_account(self) -> PortalLogin:
        """Invite Madame CONCERTO to the portal (once); her username, temporary password and
        activation link are read back from the welcome e-mail queued in the outbox."""
        self.at(SHOWN_AT)
        accounts = self.canteen.accounts
        try:
            account = accounts.get(ADMIN, CONCERTO_PAYER.user_id)
        except NotFoundError:
            account = accounts.invite_guardian(
                ADMIN, CONCERTO_ID, CONCERTO_PAYER.user_id, username=CONCERTO_USERNAME
            )
            self.step("Compte famille", f"Madame CONCERTO invitée sur le portail ({account.email})")
        else:
            self.step("Compte famille", "Madame CONCERTO déjà invitée", done_before=True)
        if account.activated_at is not None:
            return PortalLogin(
                username=account.username, temporary_password=None, activation_token=None
            )
        welcome = [
            record.message
            for record in accounts.outbox(ADMIN)
            if record.message.kind == "invitation" and record.message.account_id == account.id
        ]
        text = welcome[-1].text_body if welcome else ""
        password = re.search(r"Mot de passe provisoire : (\S+)", text)
        token = re.search(r"[?&]token=(\S+)", text)
        return PortalLogin(
            username=account.username,
            temporary_password=password.group(1) if password else None,
            activation_token=token.group(1) if token else None,
        )

    def statements(self, households: Iterable[Household]) -> dict[str, Statement]:
        # One bulk read (a few queries per 500 households), not one use case per household.
        return self.canteen.billing.statements(FINANCE, [household.id for household in households])


def run_demo(
    db: Path = DEFAULT_DB,
    *,
    households: int = DEFAULT_HOUSEHOLDS,
    on_step: Callable[[StepResult], None] | None = None,
) -> DemoReport:
    """Run the demo on the SQLite database ``db`` (see the module docstring)."""
    if isinstance(households, bool) or not isinstance(households, int) or households < 0:
        fail(f"--households : nombre de foyers invalide {households!r}", exit_code=2)
    began = _time.perf_counter()
    config = _deployment_file(db)
    clock = FixedClock(SETUP_AT)
    with Canteen.open(config, clock=clock) as canteen:
        demo = _Demo(canteen, clock, households)
        demo.households()
        demo.grid()
        enrollments = demo.enrollments()
        demo.periodicities()
        demo.attendance()
        demo.billing()
        demo.payzen()
        demo.at(PAID_CASH_AT)
        all_households = canteen.families.list_households(ADMIN)
        statements = demo.statements(all_households)
        statements = demo.cash(statements)
        concerto_login = demo.portal_account()
        demo.at(SHOWN_AT)
        page = canteen.billing.invoices_page(FINANCE, CONCERTO_ID)
        if on_step is not None:
            for step in demo.steps:
                on_step(step)
        return DemoReport(
            database=db.resolve(),
            config=config,
            households=tuple(sorted(all_households, key=lambda h: h.id)),
            statements=statements,
            concerto_page=page,
            steps=tuple(demo.steps),
            enrollments=enrollments,
            seconds=_time.perf_counter() - began,
            concerto_login=concerto_login,
        )


# -- output -------------------------------------------------------------------------------------


def _money(value: Money) -> str:
    return f"{value.rounded().amount:.2f}"


def _totals(report: DemoReport) -> dict[str, Any]:
    billed = report.billed
    invoiced = Money.sum(s.invoiced for s in billed)
    received = Money.sum(s.received for s in report.statements.values())
    outstanding = Money.sum(s.balance_due for s in report.statements.values())
    unpaid = sum(1 for s in billed for i in s.invoices if i.balance_due.is_positive)
    return {
        "households": len(report.households),
        "households_billed": len(billed),
        "invoices": sum(len(s.invoices) for s in billed),
        "invoiced": invoiced,
        "paid": received,
        "outstanding": outstanding,
        "unpaid_invoices": unpaid,
    }


def render_text(report: DemoReport) -> str:
    """The demo's French output: the steps, "MES FACTURES" of the CONCERTO family, the
    commune's totals."""
    by_id = {h.id: h for h in report.households}
    concerto = by_id[CONCERTO_ID]
    lines = [
        f"canteen demo : commune de {COMMUNE} (zone C), année scolaire 2023-2024",
        f"Base de données : {report.database}",
        f"Déploiement : {report.config}",
        "",
    ]
    width = max(len(step.label) for step in report.steps)
    for step in report.steps:
        lines.append(f"  {step.label:<{width}}  {step.text}")
    page = report.concerto_page
    statement = report.statements[CONCERTO_ID]
    lines += [
        "",
        "MES FACTURES",
        "",
        page.summary_fr,
    ]
    headers = ("Facture du", "À régler avant le", "Reste à payer", "Montant total", "État")
    for row in page.rows:
        state = next(s for s in statement.invoices if s.invoice.id == row.invoice_id)
        cells = (
            f"{row.issue_date:%d/%m/%Y}",
            f"{row.due_date:%d/%m/%Y}",
            euros(row.balance_due),
            euros(row.total),
            row.status_label,
        )
        widths = [max(len(h), len(c)) for h, c in zip(headers, cells, strict=True)]
        lines += [
            "",
            row.label,
            "",
            f"Payeur : {payer_label(concerto)}",
            f"Facture n° {row.number}",
            "",
            "   ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
            "   ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip(),
            "",
        ]
        for line in state.invoice.lines:
            who = f"{line.child_name} : " if line.child_name else ""
            lines.append(
                f"  {who}{line.description}, {line.quantity} x {euros(line.unit_price)}"
                f" = {euros(line.amount)}"
            )
        if row.can_pay_online:
            lines.append(f"  Le paiement en ligne est disponible à partir du "
                         f"{row.payable_online_from:%d/%m/%Y}")  # fmt: skip
    payments = [e for e in statement.entries if e.kind == "payment"]
    if payments:
        lines.append("")
        for entry in payments:
            lines.append(f"  {entry.day:%d/%m/%Y}  {entry.label} : {euros(entry.credit)}")
    totals = _totals(report)
    lines += [
        "",
        f"Commune de {COMMUNE} : facturation de septembre 2023",
        f"  Foyers                {totals['households']}",
        f"  Foyers facturés       {totals['households_billed']}",
        f"  Factures              {totals['invoices']} (dont "
        f"{plural(totals['unpaid_invoices'], 'non réglée', 'non réglées')})",
        f"  Total facturé         {euros(totals['invoiced'])}",
        f"  Total encaissé        {euros(totals['paid'])}",
        f"  Reste à encaisser     {euros(totals['outstanding'])}",
    ]
    lines += _serve_lines(report)
    return "\n".join(lines)


def _serve_lines(report: DemoReport) -> list[str]:
    """How to start the HTTP API on the demo, and Madame CONCERTO's login."""
    login = report.concerto_login
    lines = [
        "",
        "Portail (API HTTP) : démarrez-le sur la démo, à la date de la démo",
        f"  CANTEEN_NOW={SHOWN_AT.isoformat()} canteen serve --config {report.config}",
        "  puis ouvrez http://127.0.0.1:8000/connexion (portail famille) ou /schema (API).",
    ]
    if login is not None:
        lines.append(f"  Identifiant de Madame CONCERTO : {login.username}")
        if login.temporary_password is not None:
            lines.append(f"  Mot de passe provisoire : {login.temporary_password}")
        if login.activation_token is not None:
            lines.append(f"  Jeton d'activation (lien du courriel) : {login.activation_token}")
        if login.temporary_password is None:
            lines.append("  Compte déjà activé : connectez-vous avec le mot de passe choisi.")
    return lines


def report_json(report: DemoReport) -> dict[str, Any]:
    """The ``--json`` object: every invoice with its lines, every household's balance.

    Amounts are decimal strings (``"13.40"``). For each invoice, ``total`` is the sum of its
    lines' ``amount``; for each household, ``balance == invoiced - credited - paid +
    refunded``.
    """
    by_id = {h.id: h for h in report.households}
    invoices: list[dict[str, Any]] = []
    households: list[dict[str, Any]] = []
    for household_id in sorted(report.statements):
        statement = report.statements[household_id]
        household = by_id[household_id]
        for state in statement.invoices:
            invoice = state.invoice
            invoices.append(
                {
                    "id": invoice.id,
                    "number": invoice.number,
                    "household_id": household_id,
                    "payer": payer_label(household),
                    "label": invoice.label,
                    "issue_date": invoice.issue_date,
                    "due_date": invoice.due_date,
                    "payable_online_from": invoice.payment_open_date,
                    "total": _money(invoice.total),
                    "paid": _money(state.paid),
                    "balance_due": _money(state.balance_due),
                    "status": state.status.value,
                    "lines": [
                        {
                            "child_id": line.child_id,
                            "child": line.child_name,
                            "description": line.description,
                            "quantity": line.quantity,
                            "unit_price": _money(line.unit_price),
                            "amount": _money(line.amount),
                            "days": list(line.days),
                        }
                        for line in invoice.lines
                    ],
                }
            )
        households.append(
            {
                "household_id": household_id,
                "payer": payer_label(household),
                "invoiced": _money(statement.invoiced),
                "credited": _money(statement.credited),
                "paid": _money(statement.received),
                "refunded": _money(statement.refunded),
                "balance": _money(statement.net_balance),
                "balance_due": _money(statement.balance_due),
                "credit": _money(statement.available_credit),
            }
        )
    totals = _totals(report)
    page = report.concerto_page
    return {
        "commune": COMMUNE,
        "zone": "C",
        "school_year": "2023-2024",
        "site": SITE.name,
        "service": SERVICE.name,
        "period": PERIOD,
        "database": str(report.database),
        "config": str(report.config),
        "totals": {
            key: _money(value) if isinstance(value, Money) else value
            for key, value in totals.items()
        },
        "concerto": {
            "household_id": CONCERTO_ID,
            "payer": payer_label(by_id[CONCERTO_ID]),
            "summary": page.summary_fr,
            "balance_due": _money(page.balance_due),
            "account": None
            if report.concerto_login is None
            else attrs.asdict(report.concerto_login),
        },
        "invoices": invoices,
        "households": households,
    }


@click.command("demo")
@click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=str(DEFAULT_DB),
    show_default=True,
    help="SQLite database of the demo; its canteen.toml is written next to it.",
)
@click.option(
    "--households",
    type=click.IntRange(min=0, max=100_000),
    default=DEFAULT_HOUSEHOLDS,
    show_default=True,
    help="Households of the synthetic commune (besides the CONCERTO family).",
)
@json_option
def command(db: Path, households: int, as_json: bool) -> None:
    """Run a commune's September end to end on an embedded SQLite database.

    Creates (or reuses) the commune of Ronde, zone C, 2023-2024: a synthetic population with the
    CONCERTO family of the guide, enrollments, weekly bookings, September's attendance, the
    post-paid billing of September, a PayZen TEST payment through a signed notification and a
    cash payment; then prints the family's "MES FACTURES" page and the commune's totals.

    \b
        canteen demo
        canteen demo --db /tmp/ronde/canteen.db --households 1000 --json

    Running it again on the same database adds nothing. Afterwards the operator commands work
    on the demo: canteen invoices --config canteen-demo/canteen.toml
    """
    report = run_demo(db, households=households)
    if as_json:
        echo_json(report_json(report))
    else:
        click.echo(render_text(report))
