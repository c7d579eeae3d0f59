"""The demo's steps, run through the :class:`~canteen_core.services.Canteen` facade on a
movable clock, and the report they produce."""

from __future__ import annotations

import re
import time as _time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from pathlib import Path

import attrs

from canteen_adapters.cli._common import fail
from canteen_adapters.cli._output import euros, plural, progress
from canteen_adapters.cli.demo.activities import city_request, run_activities
from canteen_adapters.cli.demo.commune import (
    ADMIN,
    BILLED_AT,
    BOOKING_POLICY,
    CITY_SEED,
    CONCERTO_ID,
    CONCERTO_PAYER,
    CONCERTO_USERNAME,
    DECISIONS_FR,
    DEFAULT_DB,
    DEFAULT_HOUSEHOLDS,
    FINANCE,
    JUSTIFIED_AT,
    NEW_QF,
    PAID_CASH_AT,
    PAID_ONLINE_AT,
    PAYZEN_TEST_KEY,
    PERIOD,
    SCHOOL_YEAR,
    SEPTEMBER,
    SERVICE,
    SETUP_AT,
    SHOWN_AT,
    SITE,
    STAFF,
    STAFF_ACCOUNT_ID,
    STAFF_EMAIL,
    STAFF_USERNAME,
    concerto_household,
    deployment_file,
    tariff_grid,
)
from canteen_adapters.payment.payzen import compute_signature
from canteen_core.domain.accounts import AccountView
from canteen_core.domain.actors import Role
from canteen_core.domain.attendance import AbsenceJustification, AttendanceRecord, Presence
from canteen_core.domain.clock import PARIS, FixedClock
from canteen_core.domain.enrollments import LateChangeMode
from canteen_core.domain.errors import CanteenError, NotFoundError
from canteen_core.domain.families import Diet, Household
from canteen_core.domain.ledger import Statement
from canteen_core.domain.periodicity import Periodicity
from canteen_core.services import Canteen
from canteen_core.services.attendance import JustificationRequest
from canteen_core.services.billing import InvoicesPage
from canteen_core.services.enrollments import EnrollmentRequest
from canteen_core.synthetic import synthetic_city

__all__ = [
    "DemoReport",
    "PortalLogin",
    "StepResult",
    "run_demo",
]


@attrs.frozen(kw_only=True)
class StepResult:
    """One step of the demo: what it did now, or that it had been done before."""

    label: str
    text: str
    done_before: bool = False


@attrs.frozen(kw_only=True)
class PortalLogin:
    """A demo portal account (the CONCERTO payer's, the régie agent's): what the welcome
    e-mail says."""

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
    staff_login: PortalLogin | None = None

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
            *(city_request(e) for e in self.city.enrollments),
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
            f"(TEST) : notification signée {DECISIONS_FR.get(result.decision, result.decision)}"
            f", renvoyée par PayZen : {DECISIONS_FR.get(again.decision, again.decision)}"
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

    def quotient(self, households: Iterable[Household]) -> None:
        """The finance office records CONCERTO's new attestation CAF: a family quotient from
        November on (September, already billed, keeps its price). ``households``: the listing
        already read (opening the household would log a read of its health data)."""
        self.at(PAID_CASH_AT)
        concerto = next(h for h in households if h.id == CONCERTO_ID)
        if any(q.valid_from == NEW_QF.valid_from for q in concerto.quotients):
            self.step(
                "Quotient familial", "nouveau QF de CONCERTO déjà enregistré", done_before=True
            )
            return
        self.canteen.families.set_family_quotient(FINANCE, CONCERTO_ID, NEW_QF)
        self.step(
            "Quotient familial",
            f"la régie enregistre le nouveau QF de CONCERTO : {NEW_QF.value} € "
            f"à partir du {NEW_QF.valid_from:%d/%m/%Y}",
        )

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
        return self._login(account)

    def staff_account(self) -> PortalLogin:
        """Invite the régie's agent (staff and finance) to the back office (once), so that
        ``canteen serve`` on the demo can be used as staff too."""
        self.at(SHOWN_AT)
        accounts = self.canteen.accounts
        try:
            account = accounts.get(ADMIN, STAFF_ACCOUNT_ID)
        except NotFoundError:
            account = accounts.invite(
                ADMIN,
                email=STAFF_EMAIL,
                display_name="Agent de la régie",
                roles=(Role.STAFF, Role.FINANCE),
                username=STAFF_USERNAME,
                account_id=STAFF_ACCOUNT_ID,
            )
            self.step(
                "Compte agent",
                f"l'agent de la régie invité sur les pages de gestion ({STAFF_EMAIL})",
            )
        else:
            self.step("Compte agent", "agent de la régie déjà invité", done_before=True)
        return self._login(account)

    def _login(self, account: AccountView) -> PortalLogin:
        """``account``'s username, and while it is not activated the temporary password and
        activation link of its welcome e-mail (read back from the outbox)."""
        if account.activated_at is not None:
            return PortalLogin(
                username=account.username, temporary_password=None, activation_token=None
            )
        welcome = [
            record.message
            for record in self.canteen.accounts.outbox(ADMIN)
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
    activities: bool = True,
) -> DemoReport:
    """Run the demo on the SQLite database ``db`` (see the module docstring); with
    ``activities`` (the default) the synthetic city's evening care, Wednesday service and ALSH
    come too (their grids, bookings and September's evening roll calls, billed with September;
    the ALSH's capacity, waiting list and menu of its week)."""
    if isinstance(households, bool) or not isinstance(households, int) or households < 0:
        fail(f"--households : nombre de foyers invalide « {households} »", exit_code=2)
    began = _time.perf_counter()
    config = deployment_file(db)
    clock = FixedClock(SETUP_AT)
    with Canteen.open(config, clock=clock) as canteen:
        demo = _Demo(canteen, clock, households)
        demo.households()
        demo.grid()
        enrollments = demo.enrollments()
        demo.periodicities()
        demo.attendance()
        if activities:
            run_activities(canteen, demo.city, demo.at, demo.step)
        demo.billing()
        demo.payzen()
        demo.at(PAID_CASH_AT)
        all_households = canteen.families.list_households(ADMIN)
        statements = demo.statements(all_households)
        statements = demo.cash(statements)
        demo.quotient(all_households)
        concerto_login = demo.portal_account()
        staff_login = demo.staff_account()
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
            staff_login=staff_login,
        )
