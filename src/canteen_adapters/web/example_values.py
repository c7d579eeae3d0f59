"""The values the OpenAPI document shows: the CONCERTO family's 2023-2024 school year at Ronde,
as the demo (``canteen demo``) writes it, in the API's own bodies.

Each value is an instance of the body class the route reads or answers (or a list of them), so
an example cannot name a field the body lacks or miss one it requires; the family and its late
request are domain objects put through the routes' own converters (:mod:`.convert`), and every
amount through :func:`.convert.money`. :mod:`.examples` turns them into JSON with Litestar's
encoder and puts them in the document. ``BY_TYPE`` gives the example of a body class wherever a
route reads or answers it; ``BY_OPERATION`` the examples one operation shows instead (its French
message, a preview's summary); ``FILES`` the beginning of a downloaded file, by media type.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Final

import attrs

from canteen_adapters.web import papers_schemas as ps
from canteen_adapters.web import schemas as s
from canteen_adapters.web import schemas_campaigns as sc
from canteen_adapters.web import schemas_capacity as sk
from canteen_adapters.web import schemas_enrollment as se
from canteen_adapters.web.convert import household_out, money, request_out
from canteen_adapters.web.routes import family_papers as fp
from canteen_adapters.web.routes import paperless as pl
from canteen_adapters.web.routes.sepa import mandate_out
from canteen_core.domain.accounts.errors import LoginThrottledError, TokenAlreadyUsedError
from canteen_core.domain.change_requests import ChangeAction, ChangeRequest
from canteen_core.domain.clock import PARIS
from canteen_core.domain.families import Child, Diet, FamilyQuotient, Guardian, Household
from canteen_core.domain.mandates import DirectDebitMandate
from canteen_core.domain.money import Money

__all__ = ["BY_OPERATION", "BY_TYPE", "FILES", "PROBLEMS", "Shown"]


@attrs.frozen
class Shown:
    """An example: a one-line French summary (the label the rendered page shows) and the
    value, an API body (or a list of them, a form's fields, a file's text)."""

    summary: str
    value: object


def eur(amount: str) -> str:
    """An amount as the API writes it (``"13.40"``)."""
    return money(Money.of(Decimal(amount)))


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """An instant at Ronde (Europe/Paris wall clock)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


# -- the family (domain objects, through the routes' converters) ---------------------------

HOUSEHOLD = Household(
    id="CONCERTO",
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
HOUSEHOLD_OUT = household_out(HOUSEHOLD)
ENROLLMENT_ID = "CONCERTO-alban-rs"
#: The day the demo is served at (``CANTEEN_NOW=2023-10-06T09:00:00+02:00``).
TODAY = date(2023, 10, 6)
NOW = at(TODAY, 9)

#: Monday 09/10/2023 unticked on Friday 06/10, past Thursday's deadline: a request to instruct.
LATE_REQUEST = request_out(
    ChangeRequest(
        id="5b1e0c7a9f2d4e3b8c6a1d0f9e8b7a65",
        enrollment_id=ENROLLMENT_ID,
        household_id=HOUSEHOLD.id,
        child_id="concerto-alban",
        day=date(2023, 10, 9),
        action=ChangeAction.CANCEL,
        requested_by="concerto-maman",
        requested_at=at(TODAY, 9, 5),
        deadline=at(date(2023, 10, 5), 10),
    )
)
APPROVED_REQUEST = attrs.evolve(
    LATE_REQUEST, status="approved", status_label="Acceptée", decided_at=at(TODAY, 14, 30)
)

ENROLLMENT = s.EnrollmentOut(
    id=ENROLLMENT_ID,
    child_id="concerto-alban",
    child_name="Alban",
    service_id="rs",
    service_name="Restauration Scolaire",
    site_id="ronde",
    site_name="Ecole Élémentaire RONDE",
    start=date(2023, 9, 4),
    end=date(2024, 7, 5),
    late_change="pending",
    label="Alban - Restauration Scolaire - Ecole Élémentaire RONDE - du 04/09/2023 au 05/07/2024",
)

SESSION = s.SessionOut(
    user_id="concerto-maman",
    display_name="Madame CONCERTO Maman",
    roles=["guardian"],
    household_ids=["CONCERTO"],
    must_change_password=False,
    csrf_token="Jx8kQ2vV0rT5mN1pL7sW3yZ9aB4cD6eF",
    logged_in_at=NOW,
)

# -- reservations ----------------------------------------------------------------------------

_DEADLINE = at(date(2023, 10, 12), 10)


def _cell(day: date, *, booked: bool) -> s.CellOut:
    return s.CellOut(
        day=day,
        label=f"{day:%d/%m}",
        state="booked" if booked else "free",
        booked=booked,
        editable=True,
        deadline=_DEADLINE,
        pending_action=None,
        reason=None,
    )


GRID = s.GridOut(
    enrollment_id=ENROLLMENT_ID,
    title="Semaine 42 du 16/10/2023 au 22/10/2023",
    columns=["LUNDI", "MARDI", "JEUDI", "VENDREDI"],
    first_day=date(2023, 10, 16),
    last_day=date(2023, 10, 22),
    version=12,
    rows=[
        s.RowOut(
            iso_year=2023,
            iso_week=42,
            label="Semaine 42",
            cells=[
                _cell(date(2023, 10, 16), booked=True),
                _cell(date(2023, 10, 17), booked=False),
                _cell(date(2023, 10, 19), booked=False),
                _cell(date(2023, 10, 20), booked=True),
            ],
        )
    ],
    activity="Restauration Scolaire",
)
CHANGES = s.ReservationsBody(
    changes=[
        s.DayChange(day=date(2023, 10, 17), booked=True),
        s.DayChange(day=date(2023, 10, 9), booked=False),
    ]
)
PREVIEW = s.ChangeOut(
    enrollment_id=ENROLLMENT_ID,
    version=12,
    booked=[date(2023, 10, 17)],
    cancelled=[],
    unchanged=[],
    pending=[date(2023, 10, 9)],
    skipped=[],
    summary="Après validation : 1 repas réservé, 1 demande en attente d'instruction.",
)
SUBMITTED = attrs.evolve(
    PREVIEW, version=13, summary="1 repas réservé, 1 demande en attente d'instruction."
)
FILLED = s.ChangeOut(
    enrollment_id=ENROLLMENT_ID,
    version=14,
    booked=[date(2023, 11, 6), date(2023, 11, 7), date(2023, 11, 9), date(2023, 11, 10)],
    cancelled=[],
    unchanged=[],
    pending=[],
    skipped=[
        s.SkippedOut(
            day=date(2023, 11, 13),
            reason="closed",
            message="Grève",
        )
    ],
    summary="4 repas réservés, 1 jour non modifiable.",
)
PERIODIC = s.ChangeOut(
    enrollment_id=ENROLLMENT_ID,
    version=15,
    booked=[date(2023, 11, 6), date(2023, 11, 13), date(2023, 11, 20), date(2023, 11, 27)],
    cancelled=[],
    unchanged=[],
    pending=[],
    skipped=[],
    summary="4 repas réservés.",
)

# -- invoices and payment --------------------------------------------------------------------

INVOICE_ID = "invoice:RONDE:2023-000001"
INVOICE = s.InvoiceOut(
    id=INVOICE_ID,
    number="2023-000001",
    household_id=HOUSEHOLD.id,
    label="SEPTEMBRE 2023",
    issue_date=date(2023, 10, 2),
    due_date=date(2023, 11, 1),
    total=eur("13.40"),
    paid=eur("0"),
    credited=eur("0"),
    balance_due=eur("13.40"),
    status="issued",
    status_label="Facture non réglée",
    scheduled_on=None,
    lines=[
        s.InvoiceLineOut(
            child_id="concerto-alban",
            child_name="Alban CONCERTO",
            description="Restauration Scolaire – repas réservés (QF 700-1000)",
            quantity=4,
            unit_price=eur("3.35"),
            amount=eur("13.40"),
            days=[date(2023, 9, 4), date(2023, 9, 11), date(2023, 9, 18), date(2023, 9, 25)],
        )
    ],
)
INVOICES = s.InvoicesOut(
    household_id=HOUSEHOLD.id,
    summary="Vous avez 1 facture non réglée",
    unpaid_count=1,
    balance_due=eur("13.40"),
    available_credit=eur("0"),
    invoices=[
        s.InvoiceRowOut(
            id=INVOICE_ID,
            number="2023-000001",
            label="SEPTEMBRE 2023",
            issue_date=date(2023, 10, 2),
            due_date=date(2023, 11, 1),
            total=eur("13.40"),
            paid=eur("0"),
            balance_due=eur("13.40"),
            status="issued",
            status_label="Facture non réglée",
            payable_online_from=date(2023, 10, 2),
            can_pay_online=True,
            online_payment_refusal=None,
        )
    ],
)
PAYZEN_TRANSACTION = "20231003-000000"
PAYMENT_START = s.PaymentStartOut(
    provider="payzen",
    transaction_id=PAYZEN_TRANSACTION,
    reference="PAYZ20231003000000",
    amount=eur("13.40"),
    form_action="https://secure.lyra.com/vads-payment/",
    form_method="POST",
    form_fields=[
        s.FormField(name="vads_action_mode", value="INTERACTIVE"),
        s.FormField(name="vads_amount", value="1340"),
        s.FormField(name="vads_ctx_mode", value="TEST"),
        s.FormField(name="vads_currency", value="978"),
        s.FormField(name="vads_order_id", value="2023-000001"),
        s.FormField(name="vads_site_id", value="12345678"),
        s.FormField(name="vads_trans_date", value="20231003181500"),
        s.FormField(name="vads_trans_id", value="000000"),
        s.FormField(name="vads_version", value="V2"),
        s.FormField(name="signature", value="ycA5Do5tNvsnKdc/eP1bj2xa19z9q3iWPy9/rpesfS0="),
    ],
    redirect_url=None,
)
STATEMENT = s.StatementOut(
    household_id=HOUSEHOLD.id,
    entries=[
        s.EntryOut(
            day=date(2023, 10, 2),
            kind="invoice",
            reference="2023-000001",
            label="Facture SEPTEMBRE 2023",
            debit=eur("13.40"),
            credit=eur("0"),
        ),
        s.EntryOut(
            day=date(2023, 10, 3),
            kind="payment",
            reference=f"payzen:{PAYZEN_TRANSACTION}",
            label="Règlement (carte bancaire)",
            debit=eur("0"),
            credit=eur("13.40"),
        ),
    ],
    invoiced=eur("13.40"),
    credited=eur("0"),
    received=eur("13.40"),
    refunded=eur("0"),
    balance_due=eur("0"),
    available_credit=eur("0"),
    net_balance=eur("0"),
)
CREDITED = s.NotificationOut(
    decision="credit",
    reason="paiement accepté",
    transaction_id=PAYZEN_TRANSACTION,
    credited=True,
)
PAYZEN_IPN = {
    "vads_amount": "1340",
    "vads_ctx_mode": "TEST",
    "vads_currency": "978",
    "vads_order_id": "2023-000001",
    "vads_order_info": "PAYZ20231003000000",
    "vads_site_id": "12345678",
    "vads_trans_date": "20231003181500",
    "vads_trans_id": "000000",
    "vads_trans_status": "AUTHORISED",
    "signature": "vJgqZ6b1p2X1Sc0mWq3S2X4bQm1Zk3nQ8m5lT0aR7yU=",
}
PAYFIP_NOTIFICATION = {
    "numcli": "012345",
    "exer": "2023",
    "refdet": "PAYF20231003000000",
    "objet": "Facture 2023-000001",
    "montant": "1340",
    "mel": "abc@gmail.com",
    "saisie": "T",
    "resultrans": "P",
    "numauto": "123456",
    "dattrans": "03102023",
    "heurtrans": "2015",
}
PAYMENT_RETURN = ps.PaymentReturnOut(
    provider="payzen",
    transaction_id=PAYZEN_TRANSACTION,
    invoice_id=INVOICE_ID,
    invoice_number="2023-000001",
    amount=eur("13.40"),
    provider_result="accepted",
    credited=True,
    invoice_balance_due=eur("0"),
    message="Votre paiement de 13,40 € est enregistré pour la facture 2023-000001.",
)

# -- the dashboard ---------------------------------------------------------------------------

ENROLLMENT_REQUEST = se.EnrollmentRequestOut(
    id="c2a4e6f8b0d24f6a8c1e3b5d7f9a0b2c",
    household_id=HOUSEHOLD.id,
    child_id="concerto-arielle",
    service_id="rs",
    site_id="ronde",
    school_year=2023,
    label="Arielle - Restauration Scolaire - Ecole Élémentaire RONDE - 2023-2024",
    tariff_category=None,
    note="Repas végétariens, merci.",
    status="pending",
    status_label="En attente d'instruction",
    requested_at=at(TODAY, 9, 10),
    decided_at=None,
    reason=None,
    enrollment_id=None,
    weekdays=["mon", "tue", "thu", "fri"],
    weekdays_label="lundi, mardi, jeudi, vendredi",
)
DASHBOARD = s.DashboardOut(
    household_id=HOUSEHOLD.id,
    greeting="Bonjour Madame CONCERTO.",
    last_login="Dernière connexion le 03/10/2023 à 20:12",
    last_login_at=at(date(2023, 10, 3), 20, 12),
    invoices=s.InvoicesSummary(
        unpaid_count=1,
        unpaid_amount=eur("13.40"),
        available_credit=eur("0"),
        summary="Vous avez 1 facture non réglée",
    ),
    latest_requests=[LATE_REQUEST],
    enrollment_requests=[ENROLLMENT_REQUEST],
    payer=HOUSEHOLD_OUT.payer,
    co_representative=HOUSEHOLD_OUT.co_representative,
    members=HOUSEHOLD_OUT.children,
    enrollments=[ENROLLMENT],
    portal=s.PortalOut(
        name="Espace Restauration", opening_date=at(date(2023, 8, 21), 0), news=None
    ),
)

# -- enrollment requests and tariffs ---------------------------------------------------------

OFFER = se.OfferOut(
    service_id="rs",
    service_name="Restauration Scolaire",
    site_id="ronde",
    site_name="Ecole Élémentaire RONDE",
    label="Restauration Scolaire à Ecole Élémentaire RONDE",
)
ENROLLMENT_REQUEST_BODY = se.EnrollmentRequestBody(
    child_id="concerto-arielle",
    service_id="rs",
    site_id="ronde",
    school_year=2023,
    note="Repas végétariens, merci.",
    weekdays=["mon", "tue", "thu", "fri"],
)
TARIFFS = se.TariffsOut(
    household_id=HOUSEHOLD.id,
    school_year=2023,
    school_year_label="2023-2024",
    day=TODAY,
    grids=[
        se.GridTableOut(
            grid_id="rs-2023-2024",
            service_id="rs",
            service_name="Restauration Scolaire",
            valid_from=date(2023, 9, 1),
            valid_until=date(2024, 8, 31),
            period="du 01/09/2023 au 31/08/2024",
            rows=[
                se.GridRowOut(
                    category="enfant résident",
                    bands=[
                        se.GridBandOut(bounds="QF inférieur à 450 €", price=eur("1.00")),
                        se.GridBandOut(bounds="QF de 450 € à moins de 700 €", price=eur("2.10")),
                        se.GridBandOut(bounds="QF de 700 € à moins de 1 000 €", price=eur("3.35")),
                        se.GridBandOut(
                            bounds="QF de 1 000 € à moins de 1 500 €", price=eur("4.05")
                        ),
                        se.GridBandOut(bounds="QF de 1 500 € et plus", price=eur("4.70")),
                    ],
                ),
                se.GridRowOut(
                    category="enfant non résident",
                    bands=[se.GridBandOut(bounds="prix unique", price=eur("5.60"))],
                ),
                se.GridRowOut(
                    category="panier repas (PAI)",
                    bands=[se.GridBandOut(bounds="prix unique", price=eur("1.50"))],
                ),
            ],
            rules=[
                "Réduction fratrie : -20 % à partir du 3e enfant inscrit",
                "Sans quotient familial valide, le tarif le plus élevé s'applique",
                "Repas pris sans réservation : tarif majoré",
            ],
        )
    ],
    prices=[
        se.PriceOut(
            child_id="concerto-alban",
            child_name="Alban CONCERTO",
            enrollment_id=ENROLLMENT_ID,
            service_name="Restauration Scolaire",
            day=TODAY,
            unit_price=eur("3.35"),
            category="enfant résident",
            sibling_rank=1,
            discount_percent="0",
            reasons=["QF 850 € : tranche de 700 € à moins de 1 000 €"],
            text="Alban CONCERTO : 3,35 € le repas (QF 850 €, tranche de 700 € à moins de 1 000 €)",
        )
    ],
    missing=[],
)

# -- back office -----------------------------------------------------------------------------

ROLL_CALL = s.RollCallOut(
    site_id="ronde",
    day=date(2023, 9, 18),
    entries=[
        s.RollCallEntryOut(
            enrollment_id=ENROLLMENT_ID,
            household_id=HOUSEHOLD.id,
            child_id="concerto-alban",
            child_name="Alban CONCERTO",
            household_name="CONCERTO Maman",
            booked=True,
            presence="present",
        ),
        s.RollCallEntryOut(
            enrollment_id="H000003-C1-soir",
            household_id="H000003",
            child_id="H000003-C1",
            child_name="Manon Girard",
            household_name="Girard Camille",
            booked=True,
            presence="present",
            arrival=time(16, 40),
            departure=time(17, 41),
        ),
    ],
)
ROLL_CALL_BODY = s.RollCallBody(
    presences={ENROLLMENT_ID: "present", "H000003-C1-soir": "present"},
    stays={"H000003-C1-soir": s.StayBody(arrival=time(16, 40), departure=time(17, 41))},
)
HEADCOUNT = s.HeadcountOut(
    site_id="ronde",
    day=date(2023, 10, 9),
    meals={"standard": 4, "no_pork": 0, "vegetarian": 1},
    pai_baskets=2,
    total=7,
)
CLOSURE_BODY = s.ClosureBody(
    name="Grève", first_day=date(2023, 11, 13), last_day=date(2023, 11, 13)
)
CLOSURE = s.ClosureOut(cancelled={ENROLLMENT_ID: [date(2023, 11, 13)]})
BILLING_RUN = s.BillingRunOut(
    period_start=date(2023, 9, 1),
    period_end=date(2023, 9, 30),
    issued=301,
    total=eur("40237.85"),
    already_billed=0,
    conflicts=0,
    without_charges=12,
    emailed=187,
    printed=114,
    without_address=["H000087"],
    print_batch_url="/api/v1/staff/billing-runs/2023-09/print-batch",
)

# -- direct debit ----------------------------------------------------------------------------

MANDATE = mandate_out(
    DirectDebitMandate(
        reference="RUM-RONDE-7F3A9C2E5B1D",
        household_id=HOUSEHOLD.id,
        debtor_name="Madame CONCERTO Maman",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
        signed_on=TODAY,
    )
)
DEBIT_SCHEDULE = ps.DebitScheduleOut(
    household_id=HOUSEHOLD.id,
    today=TODAY,
    earliest_collection=date(2023, 10, 20),
    mandates=[
        ps.MandateScheduleOut(
            mandate=MANDATE,
            upcoming=[
                ps.ScheduledDebitOut(
                    invoice_id="invoice:RONDE:2023-000412",
                    invoice_number="2023-000412",
                    label="OCTOBRE 2023",
                    amount=eur("46.90"),
                    collection_date=date(2023, 11, 20),
                    announced=True,
                )
            ],
            pre_notifications=[
                ps.PreNotificationOut(
                    collection_date=date(2023, 11, 20),
                    amount=eur("46.90"),
                    recipients=["abc@gmail.com"],
                    status="sent",
                    sent_at=at(date(2023, 11, 6), 8, 30),
                )
            ],
            past=[],
        )
    ],
)
DEBIT_RUN = ps.DirectDebitRunOut(
    message_id="RONDE-20231106083000",
    collection_date=date(2023, 11, 20),
    count=42,
    total=eur("1873.40"),
    skipped=[],
    file_url="/api/v1/staff/direct-debit-runs/RONDE-20231106083000/file",
)
RETURN_FILE = ps.ReturnFileOut(
    kind="pain.002",
    message_id="RONDE-20231106083000",
    already_loaded=False,
    returns=[
        ps.DebitReturnOut(
            household_id="H000087",
            end_to_end_id="RONDE-20231106083000-2023-000498",
            invoice_ids=["invoice:RONDE:2023-000498"],
            amount=eur("33.50"),
            returned_on=date(2023, 11, 22),
            reason_code="AM04",
            reason_label="Provision insuffisante",
        )
    ],
    already_returned=[],
    message="1 prélèvement rejeté : la facture 2023-000498 est à nouveau à régler.",
)

# -- documents and papers --------------------------------------------------------------------

DOCUMENTS = [
    ps.DocumentOut(
        kind="statement",
        title="Relevé de compte du foyer",
        dated=TODAY,
        year=None,
        start=None,
        end=None,
        url="/api/v1/households/CONCERTO/statement/pdf",
    ),
    ps.DocumentOut(
        kind="attendance-certificate",
        title="Attestation de présence",
        dated=TODAY,
        year=None,
        start=date(2023, 9, 1),
        end=TODAY,
        url="/api/v1/households/CONCERTO/attendance-certificate?start=2023-09-01&end=2023-10-06",
    ),
    ps.DocumentOut(
        kind="payment-certificate",
        title="Attestation de paiement 2023",
        dated=TODAY,
        year=2023,
        start=None,
        end=None,
        url="/api/v1/households/CONCERTO/payment-certificates/2023",
    ),
]
PAPER_ID = "9d3f1b7e5c2a4e08b6d4f2a0c8e6b4d2"
PAPER = fp.DocumentOut(
    id=PAPER_ID,
    household_id=HOUSEHOLD.id,
    child_id="concerto-alban",
    kind="certificat_medical",
    kind_label="Certificat médical",
    issued_on=date(2023, 9, 18),
    valid_from=date(2023, 9, 18),
    valid_until=date(2023, 9, 19),
    family_quotient=None,
    file_name="certificat-alban.pdf",
    content_type="application/pdf",
    size=48213,
    uploaded_at=at(date(2023, 9, 18), 19, 2),
    status="pending",
    status_label="En attente",
    rejection_reason=None,
    download_url=f"/api/v1/papers/{PAPER_ID}/file",
)
PAPERS = fp.DocumentsOut(
    household_id=HOUSEHOLD.id, used_bytes=48213, quota_bytes=52428800, documents=[PAPER]
)
REVIEW = fp.ReviewOut(
    document=attrs.evolve(PAPER, status="accepted", status_label="Accepté"),
    summary="Certificat médical accepté : absences justifiées du 18/09/2023 au 19/09/2023.",
    justified_days=[date(2023, 9, 18)],
    pai_enrollments=[],
)
REJECTED = attrs.evolve(
    PAPER,
    status="rejected",
    status_label="Refusé",
    rejection_reason="Document illisible : merci de le déposer à nouveau.",
)
POSTAL_ADDRESS = pl.PostalAddressBody(
    street="12 rue des Écoles", postcode="77000", city="RONDE", complement=None
)
PAPERLESS = pl.PaperlessOut(
    household_id=HOUSEHOLD.id,
    paperless=True,
    summary="Vos factures vous sont envoyées par e-mail (PDF joint).",
    consent_given_at=at(TODAY, 9, 12),
    consent_revoked_at=None,
    postal_address=POSTAL_ADDRESS,
)

# -- menus and capacity ----------------------------------------------------------------------

_MILK = sk.AllergenOut(code="milk", label="Lait")
_GLUTEN = sk.AllergenOut(code="gluten", label="Céréales contenant du gluten")
_FISH = sk.AllergenOut(code="fish", label="Poissons")
WEEK_MENU = sk.WeekMenuOut(
    site_id="ronde",
    week=date(2024, 2, 12),
    days=[
        sk.DayMenuOut(
            day=date(2024, 2, 12),
            vegetarian=False,
            dishes=[
                sk.DishOut(
                    course="starter", course_label="Entrée", name="Carottes râpées", allergens=[]
                ),
                sk.DishOut(course="main", course_label="Plat", name="Poulet rôti", allergens=[]),
                sk.DishOut(
                    course="side",
                    course_label="Accompagnement",
                    name="Haricots verts",
                    allergens=[],
                ),
                sk.DishOut(
                    course="dessert",
                    course_label="Dessert",
                    name="Yaourt nature",
                    allergens=[_MILK],
                ),
            ],
            allergens=[_MILK],
        ),
        sk.DayMenuOut(
            day=date(2024, 2, 13),
            vegetarian=False,
            dishes=[
                sk.DishOut(
                    course="main",
                    course_label="Plat",
                    name="Poisson pané",
                    allergens=[_FISH, _GLUTEN],
                ),
                sk.DishOut(course="dessert", course_label="Dessert", name="Pomme", allergens=[]),
            ],
            allergens=[_FISH, _GLUTEN],
        ),
    ],
)
WEEK_MENU_BODY = sk.WeekMenuBody(
    week=date(2024, 2, 12),
    days=[
        sk.DayMenuBody(
            day=date(2024, 2, 12),
            starter=sk.DishBody(name="Carottes râpées"),
            main=sk.DishBody(name="Poulet rôti"),
            side=sk.DishBody(name="Haricots verts"),
            dessert=sk.DishBody(name="Yaourt nature", allergens=["milk"]),
        ),
        sk.DayMenuBody(
            day=date(2024, 2, 13),
            main=sk.DishBody(name="Poisson pané", allergens=["fish", "gluten"]),
            dessert=sk.DishBody(name="Pomme"),
        ),
    ],
)
ALLERGY_FLAG = sk.AllergyFlagOut(
    day=date(2024, 2, 12),
    enrollment_id="CONCERTO-basile-alsh",
    household_id=HOUSEHOLD.id,
    child_id="concerto-basile",
    child_name="Basile CONCERTO",
    allergens=[_MILK],
    dishes=["Yaourt nature"],
    message="Basile CONCERTO (PAI) : Yaourt nature contient Lait.",
)
CAPACITY = sk.CapacityOut(
    site_id="ronde", service_id="alsh", places=24, weekdays={"wed": 16}, days={"2024-02-16": 12}
)
CAPACITY_BODY = sk.CapacityBody(places=24, weekdays={"wed": 16}, days={"2024-02-16": 12})
WAITING = sk.WaitingEntryOut(
    id="e7c5a3f1d9b74e2c8a6f4d2b0e9c7a5f",
    site_id="ronde",
    service_id="alsh",
    day=date(2024, 2, 12),
    enrollment_id="CONCERTO-arielle-alsh",
    child_id="concerto-arielle",
    position=2,
    status="waiting",
    label="liste d'attente (rang 2)",
    requested_at=at(date(2024, 1, 15), 18, 40),
    offer_until=None,
)
OFFERED = attrs.evolve(
    WAITING,
    position=1,
    status="offered",
    label="place proposée jusqu'au 08/02/2024 à 18:00",
    offer_until=at(date(2024, 2, 8), 18),
)

# -- yearly campaigns ------------------------------------------------------------------------

QUOTIENT_CAMPAIGN = sc.CampaignOut(
    id="1f3e5d7c9b0a4c2e8f6d4b2a0c9e7d5b",
    kind="quotient",
    title="Mise à jour du quotient familial 2024",
    status="open",
    deadline=date(2023, 12, 15),
    valid_from=date(2024, 1, 1),
    school_year=None,
    opened_at=at(date(2023, 11, 20), 9),
    closed_at=None,
)
REENROLLMENT_CAMPAIGN = sc.CampaignOut(
    id="8a6c4e2f0d9b47e5a3c1f9e7d5b3a1c0",
    kind="reenrollment",
    title="Réinscriptions 2024-2025",
    status="open",
    deadline=date(2024, 6, 14),
    valid_from=None,
    school_year=2024,
    opened_at=at(date(2024, 5, 13), 9),
    closed_at=None,
)
QUOTIENT_ANSWER = sc.CampaignAnswerOut(
    id="4d2b0f8e6c5a43e1b9d7f5c3a1e0d8b6",
    campaign_id=QUOTIENT_CAMPAIGN.id,
    household_id=HOUSEHOLD.id,
    child_id=None,
    level=None,
    state="awaiting",
    state_label="en attente de réponse",
    weekdays=None,
    new_enrollment_id=None,
    quotient=None,
    reminders=0,
    decided_at=None,
)
REENROLLMENT_ANSWER = sc.CampaignAnswerOut(
    id="b3d5f7a9c1e24b6d8f0a2c4e6b8d0f1a",
    campaign_id=REENROLLMENT_CAMPAIGN.id,
    household_id=HOUSEHOLD.id,
    child_id="concerto-alban",
    level="CM2",
    state="confirmed",
    state_label="réinscription confirmée",
    weekdays=[0, 3],
    new_enrollment_id=None,
    quotient=None,
    reminders=0,
    decided_at=at(date(2024, 5, 21), 20, 5),
)
DECLINED_ANSWER = attrs.evolve(
    REENROLLMENT_ANSWER, state="declined", state_label="pas de réinscription", weekdays=None
)
QUOTIENT_PROGRESS = sc.CampaignProgressOut(
    campaign=QUOTIENT_CAMPAIGN,
    counts={"awaiting": 298, "answered": 3},
    summary="301 foyers : 3 nouveaux quotients enregistrés, 298 en attente de réponse.",
    answers=[QUOTIENT_ANSWER],
)
REENROLLMENT_PROGRESS = sc.CampaignProgressOut(
    campaign=REENROLLMENT_CAMPAIGN,
    counts={"awaiting": 511, "confirmed": 1},
    summary="512 inscriptions : 1 réinscription confirmée, 511 en attente de réponse.",
    answers=[REENROLLMENT_ANSWER],
)
YEAR_CLOSING = sc.YearClosingOut(
    school_year="2023-2024",
    closed_at=at(date(2024, 8, 26), 10),
    closed_by="demo:regie",
    open_invoices=3,
    amount_due=eur("61.25"),
    credit_held=eur("12.00"),
    summary="Année 2023-2024 clôturée : 3 factures restent à régler (61,25 €), 12,00 € d'avoirs "
    "reportés.",
)

# -- the tables ------------------------------------------------------------------------------

#: The example of each body class, wherever a route reads or answers it.
BY_TYPE: Final[dict[type, Shown]] = {
    s.LoginBody: Shown(
        "Madame CONCERTO se connecte",
        s.LoginBody(username="concerto", password="Ronde-Cantine-2023!"),
    ),
    s.TokenBody: Shown("Le jeton du lien reçu par courriel", s.TokenBody(token="k3J9wQ2mZ8xV1bN7")),
    s.PasswordChangeBody: Shown(
        "Le mot de passe provisoire remplacé",
        s.PasswordChangeBody(current_password="Tq7-mZ4p", new_password="Ronde-Cantine-2023!"),
    ),
    s.ResetRequestBody: Shown("Par l'adresse e-mail", s.ResetRequestBody(login="abc@gmail.com")),
    s.ResetBody: Shown(
        "Le nouveau mot de passe",
        s.ResetBody(token="r5T8yU1iO4pA7sD0", new_password="Ronde-Cantine-2024!"),
    ),
    s.SessionOut: Shown("Madame CONCERTO connectée", SESSION),
    s.HouseholdOut: Shown("Le foyer CONCERTO", HOUSEHOLD_OUT),
    s.ContactBody: Shown(
        "Nouvelle adresse e-mail de Madame CONCERTO",
        s.ContactBody(guardian_id="concerto-maman", email="maman.concerto@example.fr"),
    ),
    s.DashboardOut: Shown("Le tableau de bord du foyer CONCERTO", DASHBOARD),
    s.EnrollmentOut: Shown("Alban à la restauration scolaire", ENROLLMENT),
    s.RequestOut: Shown("Lundi 09/10 annulé après la date limite", LATE_REQUEST),
    s.GridOut: Shown("La semaine 42 d'Alban", GRID),
    s.ReservationsBody: Shown("Mardi 17/10 coché, lundi 09/10 décoché", CHANGES),
    s.ChangeOut: Shown("Ce que la validation a fait", SUBMITTED),
    s.FillBody: Shown(
        "Tout cocher en novembre",
        s.FillBody(start=date(2023, 11, 6), end=date(2023, 11, 13), booked=True),
    ),
    s.PeriodicityBody: Shown(
        "Tous les lundis de novembre",
        s.PeriodicityBody(weekdays=["mon"], start=date(2023, 11, 1), end=date(2023, 11, 30)),
    ),
    s.InvoicesOut: Shown("MES FACTURES", INVOICES),
    s.InvoiceOut: Shown("La facture de septembre 2023", INVOICE),
    s.PaymentBody: Shown(
        "Payer par carte avec PayZen",
        s.PaymentBody(provider="payzen", return_url="https://famille.ronde.example/factures"),
    ),
    s.PaymentStartOut: Shown("Le formulaire PayZen à poster", PAYMENT_START),
    s.StatementOut: Shown("Le relevé de compte du foyer", STATEMENT),
    s.NotificationOut: Shown("Paiement crédité", CREDITED),
    s.RollCallOut: Shown("Le pointage du lundi 18/09/2023", ROLL_CALL),
    s.RollCallBody: Shown("Alban présent, Manon à l'accueil du soir", ROLL_CALL_BODY),
    s.DecisionBody: Shown("Accepter la demande", s.DecisionBody(approve=True)),
    s.ClosureBody: Shown("Grève du 13/11/2023", CLOSURE_BODY),
    s.ClosureOut: Shown("Les repas annulés par la fermeture", CLOSURE),
    s.HeadcountOut: Shown("Les repas du lundi 09/10/2023", HEADCOUNT),
    s.BillingRunBody: Shown("Facturer septembre 2023", s.BillingRunBody(period="2023-09")),
    s.BillingRunOut: Shown("La facturation de septembre 2023", BILLING_RUN),
    s.RemindersBody: Shown(
        "Les relances dues le 15/11/2023", s.RemindersBody(today=date(2023, 11, 15))
    ),
    s.RemindersOut: Shown(
        "Les relances envoyées", s.RemindersOut(reminders=14, households=11, messages=11)
    ),
    se.EnrollmentRequestOut: Shown("Arielle demandée à la cantine", ENROLLMENT_REQUEST),
    se.EnrollmentRequestBody: Shown("Inscrire Arielle à la cantine", ENROLLMENT_REQUEST_BODY),
    se.OfferOut: Shown("La cantine de l'école Ronde", OFFER),
    se.TariffsOut: Shown("Les tarifs 2023-2024 du foyer", TARIFFS),
    ps.MandateOut: Shown("Le mandat SEPA de Madame CONCERTO", MANDATE),
    ps.MandateBody: Shown(
        "Signer un mandat",
        ps.MandateBody(
            iban="FR76 3000 6000 0112 3456 7890 189",
            holder="Madame CONCERTO Maman",
            bic="AGRIFRPP",
            accept=True,
        ),
    ),
    ps.MandateIbanBody: Shown(
        "Nouvel IBAN", ps.MandateIbanBody(iban="FR1420041010050500013M02606", bic="PSSTFRPP")
    ),
    ps.MandateRevocationBody: Shown(
        "Révoquer après le dernier prélèvement",
        ps.MandateRevocationBody(final_collection=True),
    ),
    ps.DebitScheduleOut: Shown("Mes prélèvements", DEBIT_SCHEDULE),
    ps.DirectDebitRunBody: Shown(
        "Prélever le 20/11/2023", ps.DirectDebitRunBody(collection_date=date(2023, 11, 20))
    ),
    ps.DirectDebitRunOut: Shown("Le fichier pain.008 du 20/11/2023", DEBIT_RUN),
    ps.ReturnFileOut: Shown("Un rejet de prélèvement", RETURN_FILE),
    ps.DocumentOut: Shown("Le relevé de compte", DOCUMENTS[0]),
    ps.PaymentReturnOut: Shown("Paiement enregistré", PAYMENT_RETURN),
    fp.DocumentOut: Shown("Un certificat médical déposé", PAPER),
    fp.DocumentsOut: Shown("L'espace documents du foyer", PAPERS),
    fp.ReviewOut: Shown("Le certificat accepté", REVIEW),
    fp.RejectBody: Shown(
        "Document illisible",
        fp.RejectBody(reason="Document illisible : merci de le déposer à nouveau."),
    ),
    pl.PaperlessOut: Shown("Factures par e-mail", PAPERLESS),
    pl.PaperlessBody: Shown("Recevoir les factures par e-mail", pl.PaperlessBody(consent=True)),
    pl.PostalAddressBody: Shown("L'adresse des factures papier", POSTAL_ADDRESS),
    sk.WeekMenuOut: Shown("Le menu de la semaine du 12/02/2024", WEEK_MENU),
    sk.WeekMenuBody: Shown("Publier le menu de la semaine du 12/02/2024", WEEK_MENU_BODY),
    sk.AllergyFlagOut: Shown("Un allergène au menu d'un enfant PAI", ALLERGY_FLAG),
    sk.CapacityOut: Shown("24 places à l'ALSH", CAPACITY),
    sk.CapacityBody: Shown("24 places, 16 le mercredi, 12 le 16/02/2024", CAPACITY_BODY),
    sk.WaitingEntryOut: Shown("Arielle en liste d'attente", WAITING),
    sc.HouseholdCampaignOut: Shown(
        "La campagne du quotient familial",
        sc.HouseholdCampaignOut(campaign=QUOTIENT_CAMPAIGN, answers=[QUOTIENT_ANSWER]),
    ),
    sc.CampaignAnswerOut: Shown("Réinscription confirmée", REENROLLMENT_ANSWER),
    sc.ConfirmationBody: Shown(
        "Réinscrire Alban les lundis et jeudis", sc.ConfirmationBody(weekdays=[0, 3], book=True)
    ),
    sc.CampaignOut: Shown("La campagne du quotient familial", QUOTIENT_CAMPAIGN),
    sc.QuotientCampaignBody: Shown(
        "Quotients au 01/01/2024",
        sc.QuotientCampaignBody(valid_from=date(2024, 1, 1), deadline=date(2023, 12, 15)),
    ),
    sc.ReenrollmentBody: Shown(
        "Réinscriptions 2024-2025",
        sc.ReenrollmentBody(school_year=2024, deadline=date(2024, 6, 14)),
    ),
    sc.CampaignProgressOut: Shown("L'avancement de la campagne", QUOTIENT_PROGRESS),
    sc.YearClosingOut: Shown("L'année 2023-2024 clôturée", YEAR_CLOSING),
}


def _message(summary: str, text: str) -> tuple[None, Shown]:
    return None, Shown(summary, s.Message(message=text))


#: The examples one operation shows instead of its types' (``None``: its type's), by
#: ``"METHOD /path/{parameter}"`` as the OpenAPI document writes them.
BY_OPERATION: Final[dict[str, tuple[Shown | None, Shown | None]]] = {
    "DELETE /api/v1/session": _message("Déconnecté", "Vous êtes déconnecté."),
    "POST /api/v1/account/activation": _message(
        "Compte activé",
        "Votre compte est activé : connectez-vous avec le mot de passe provisoire reçu par "
        "courriel.",
    ),
    "POST /api/v1/account/password-reset": _message(
        "Toujours la même réponse",
        "Si un compte correspond, un courriel avec un lien de réinitialisation a été envoyé.",
    ),
    "POST /api/v1/account/password-reset/confirm": _message(
        "Mot de passe modifié", "Votre mot de passe est modifié : vous pouvez vous connecter."
    ),
    "POST /api/v1/enrollments/{enrollment_id}/reservations/preview": (
        None,
        Shown("Ce que la validation fera", PREVIEW),
    ),
    "POST /api/v1/enrollments/{enrollment_id}/reservations/fill": (
        None,
        Shown("Novembre coché, sauf le jour de grève", FILLED),
    ),
    "POST /api/v1/enrollments/{enrollment_id}/periodicity": (
        None,
        Shown("Les lundis de novembre réservés", PERIODIC),
    ),
    "POST /api/v1/staff/requests/{request_id}/decision": (
        None,
        Shown("La demande acceptée", APPROVED_REQUEST),
    ),
    "POST /api/v1/staff/enrollment-requests/{request_id}/decision": (
        None,
        Shown(
            "L'inscription d'Arielle acceptée",
            attrs.evolve(
                ENROLLMENT_REQUEST,
                status="approved",
                status_label="Acceptée",
                decided_at=at(date(2023, 10, 9), 11),
                enrollment_id="CONCERTO-arielle-rs",
            ),
        ),
    ),
    "DELETE /api/v1/enrollment-requests/{request_id}": (
        None,
        Shown(
            "La demande retirée",
            attrs.evolve(ENROLLMENT_REQUEST, status="withdrawn", status_label="Retirée"),
        ),
    ),
    "DELETE /api/v1/requests/{request_id}": (
        None,
        Shown(
            "La demande retirée",
            attrs.evolve(LATE_REQUEST, status="withdrawn", status_label="Retirée"),
        ),
    ),
    "POST /api/v1/callbacks/payzen/ipn": (
        Shown("Un paiement accepté (IPN PayZen)", PAYZEN_IPN),
        None,
    ),
    "POST /api/v1/callbacks/payfip/notification": (
        Shown("Un paiement accepté (PayFiP)", PAYFIP_NOTIFICATION),
        Shown(
            "Paiement crédité",
            attrs.evolve(CREDITED, transaction_id="PAYF20231003000000"),
        ),
    ),
    "POST /api/v1/staff/papers/{document_id}/reject": (None, Shown("Le document refusé", REJECTED)),
    "POST /api/v1/waiting-list/{entry_id}/accept": (
        None,
        Shown(
            "La place acceptée",
            attrs.evolve(OFFERED, status="placed", label="place obtenue", offer_until=None),
        ),
    ),
    "POST /api/v1/waiting-list/{entry_id}/decline": (
        None,
        Shown(
            "La place refusée",
            attrs.evolve(OFFERED, status="withdrawn", label="retiré de la liste", offer_until=None),
        ),
    ),
    "GET /api/v1/households/{household_id}/waiting-list": (
        None,
        Shown("Une place proposée à Arielle", [OFFERED]),
    ),
    "POST /api/v1/campaign-answers/{answer_id}/refusal": (
        None,
        Shown("Pas de réinscription", DECLINED_ANSWER),
    ),
    "POST /api/v1/staff/campaigns/reenrollment": (
        None,
        Shown("La campagne de réinscription ouverte", REENROLLMENT_PROGRESS),
    ),
    "POST /api/v1/staff/campaigns/{campaign_id}/reminders": (
        None,
        Shown(
            "Les foyers relancés",
            [attrs.evolve(QUOTIENT_ANSWER, reminders=1)],
        ),
    ),
    "POST /api/v1/staff/campaigns/{campaign_id}/closure": (
        None,
        Shown(
            "La campagne close",
            attrs.evolve(
                QUOTIENT_PROGRESS,
                campaign=attrs.evolve(
                    QUOTIENT_CAMPAIGN, status="closed", closed_at=at(date(2023, 12, 18), 9)
                ),
                counts={"answered": 3, "top_bracket": 298},
                summary="301 foyers : 3 nouveaux quotients enregistrés, 298 à la tranche la "
                "plus haute.",
                answers=[
                    attrs.evolve(
                        QUOTIENT_ANSWER,
                        state="top_bracket",
                        state_label="tranche la plus haute appliquée",
                        decided_at=at(date(2023, 12, 18), 9),
                    )
                ],
            ),
        ),
    ),
    "GET /api/v1/households/{household_id}/documents": (None, Shown("Mes documents", DOCUMENTS)),
}

#: The beginning of a downloaded file, by media type (a PDF shows its header only).
FILES: Final[dict[str, Shown]] = {
    "application/pdf": Shown("Un document PDF (son début)", "%PDF-1.7\n%âãÏÓ\n1 0 obj ..."),
    "application/octet-stream": Shown(
        "Le fichier déposé, tel quel (ici un PDF)", "%PDF-1.4\n%âãÏÓ\n1 0 obj ..."
    ),
    "text/calendar": Shown(
        "Les repas réservés d'Alban (iCalendar)",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        "PRODID:-//canteen//Réservations de restauration scolaire//FR\r\n"
        "X-WR-CALNAME:Réservations – Alban CONCERTO\r\n"
        "BEGIN:VEVENT\r\nSUMMARY:Repas – Restauration Scolaire\r\n"
        "DTSTART;VALUE=DATE:20231016\r\nDTEND;VALUE=DATE:20231017\r\n"
        "UID:CONCERTO-alban-rs-20231016@famille.ronde.example\r\n"
        "LOCATION:Ecole Élémentaire RONDE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    ),
    "application/xml": Shown(
        "Le fichier pain.008 (son début)",
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02">'
        "<CstmrDrctDbtInitn><GrpHdr><MsgId>RONDE-20231106083000</MsgId>"
        "<CreDtTm>2023-11-06T08:30:00</CreDtTm><NbOfTxs>42</NbOfTxs>"
        "<CtrlSum>1873.40</CtrlSum>...",
    ),
}


def _problem(
    summary: str,
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    instance: str = "/api/v1/enrollments/CONCERTO-alban-rs/reservations",
    field: str | None = None,
    current_version: int | None = None,
    errors: list[s.FieldErrorOut] | None = None,
) -> Shown:
    problem = s.ProblemOut(
        type=f"urn:canteen:problem:{slug}",
        title=title,
        status=status,
        detail=detail,
        instance=instance,
        field=field,
        current_version=current_version,
        errors=errors,
    )
    return Shown(summary, problem)


#: One problem per status the routes may answer, as ``problems.py`` writes it.
PROBLEMS: Final[dict[int, Shown]] = {
    400: _problem(
        "Une date mal écrite",
        400,
        "validation",
        "Données invalides",
        "La requête contient une donnée manquante ou invalide : changes[0].day.",
        field="changes[0].day",
        errors=[s.FieldErrorOut(field="changes[0].day", source="body")],
    ),
    401: _problem(
        "Sans session",
        401,
        "not-authenticated",
        "Connexion requise",
        "Veuillez vous connecter.",
    ),
    403: _problem(
        "Le foyer d'une autre famille",
        403,
        "not-authorized",
        "Accès refusé",
        "Vous n'avez pas accès à cet élément.",
        instance="/api/v1/households/H000001/invoices",
    ),
    404: _problem(
        "Une facture inconnue",
        404,
        "not-found",
        "Introuvable",
        "facture inconnue « invoice:RONDE:2023-999999 »",
        instance="/api/v1/invoices/invoice:RONDE:2023-999999",
    ),
    409: _problem(
        "Une autre modification est passée avant",
        409,
        "conflict",
        "Modification concurrente",
        "Une autre modification des réservations vient d'avoir lieu : rechargez la grille et "
        "recommencez.",
        current_version=13,
    ),
    410: _problem(
        "Lien déjà utilisé",
        410,
        "authentication:token_already_used",
        "Authentification refusée",
        str(TokenAlreadyUsedError()),
        instance="/api/v1/account/activation",
    ),
    412: _problem(
        "If-Match périmé",
        412,
        "stale-version",
        "Réservations modifiées entre-temps",
        "Les réservations ont changé depuis l'affichage de la grille : rechargez-la et "
        "recommencez.",
        field="If-Match",
        current_version=13,
    ),
    415: _problem(
        "Connexion envoyée en formulaire",
        415,
        "json-required",
        "Format refusé",
        "Les demandes sans session doivent être envoyées en JSON (application/json).",
        instance="/api/v1/session",
    ),
    422: _problem(
        "Date limite passée",
        422,
        "rule-violation",
        "Opération refusée",
        "Le repas du 09/10/2023 ne peut plus être modifié : la date limite était le jeudi "
        "05/10/2023 à 10:00.",
        field="changes[1].day",
    ),
    429: _problem(
        "Trop de tentatives",
        429,
        "authentication:login_throttled",
        "Authentification refusée",
        str(LoginThrottledError(timedelta(minutes=5))),
        instance="/api/v1/session",
    ),
    500: _problem(
        "Erreur interne",
        500,
        "internal",
        "Erreur interne",
        "Une erreur inattendue est survenue. Réessayez plus tard ou contactez le service "
        "restauration.",
    ),
    503: _problem(
        "Base de données indisponible",
        503,
        "storage-unavailable",
        "Service indisponible",
        "Le service est momentanément indisponible : réessayez dans quelques instants.",
    ),
}
