"""The family's side: the CONCERTO household, Alban's reservations, the September 2023
invoice and its payment, the dashboard, enrollment requests, tariffs, documents and papers."""

from __future__ import annotations

from datetime import date

import attrs

from canteen_adapters.web import papers_schemas as ps
from canteen_adapters.web import schemas as s
from canteen_adapters.web import schemas_enrollment as se
from canteen_adapters.web.convert import household_out, request_out, summary_fr
from canteen_adapters.web.example_values._base import NOW, TODAY, at, eur
from canteen_adapters.web.routes import family_papers as fp
from canteen_adapters.web.routes.paperless import paperless_out
from canteen_core.domain.change_requests import ChangeAction, ChangeRequest
from canteen_core.domain.paperless import PaperlessConsent, PostalAddress
from canteen_core.synthetic import concerto_household

# -- the family (domain objects, through the routes' converters) ---------------------------

HOUSEHOLD = concerto_household()
HOUSEHOLD_OUT = household_out(HOUSEHOLD)
ENROLLMENT_ID = "CONCERTO-alban-rs"

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
    summary=summary_fr(1, 0, 1, 0, preview=True),
)
#: Validated on a prepaid deployment: the basket of October (the 17th booked) is invoiced.
SUBMITTED = attrs.evolve(
    PREVIEW,
    version=13,
    summary=summary_fr(1, 0, 1, 0, preview=False),
    invoices=[
        s.BasketInvoiceOut(
            id="invoice:RONDE:2023-000002",
            number="2023-000002",
            label="OCTOBRE 2023",
            total=eur("3.35"),
            due_date=date(2023, 11, 5),
            payable_online_from=TODAY,
        )
    ],
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
    summary=summary_fr(4, 0, 0, 1, preview=False),
)
PERIODIC = s.ChangeOut(
    enrollment_id=ENROLLMENT_ID,
    version=15,
    booked=[date(2023, 11, 6), date(2023, 11, 13), date(2023, 11, 20), date(2023, 11, 27)],
    cancelled=[],
    unchanged=[],
    pending=[],
    skipped=[],
    summary=summary_fr(4, 0, 0, 0, preview=False),
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
    reason=f"transaction payzen « {PAYZEN_TRANSACTION} » payée 13,40 €",
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
_PRICE_REASONS = [
    "Alban est inscrit(e) au tarif « enfant résident »",
    "votre quotient familial au 06/10/2023 est de 850 € : tranche « QF de 700 € à moins de "
    "1 000 € »",
    "Alban est le 1er enfant inscrit de la fratrie : pas de réduction (à partir du 3e enfant)",
    "grille « rs-2023-2024 » en vigueur du 01/09/2023 au 31/08/2024",
]
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
            category="resident_child",
            sibling_rank=1,
            discount_percent="0",
            reasons=_PRICE_REASONS,
            text="Votre tarif : 3,35 € par repas, car " + " ; ".join(_PRICE_REASONS) + ".",
        )
    ],
    missing=[],
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
#: Madame CONCERTO chose paperless invoices on 06/10/2023; the address stays for paper ones.
PAPERLESS = paperless_out(
    attrs.evolve(
        HOUSEHOLD,
        postal_address=PostalAddress(street="12 rue des Écoles", postcode="77000", city="RONDE"),
        paperless=PaperlessConsent(given_at=at(TODAY, 9, 12), given_by="concerto-maman"),
    )
)
