"""The commune's side: roll calls, billing, direct debit, menus, capacity and waiting lists,
yearly campaigns."""

from __future__ import annotations

from datetime import date, time

import attrs

from canteen_adapters.web import papers_schemas as ps
from canteen_adapters.web import schemas_campaigns as sc
from canteen_adapters.web import schemas_capacity as sk
from canteen_adapters.web import schemas_office as so
from canteen_adapters.web.example_values._base import TODAY, at, eur
from canteen_adapters.web.example_values.family import (
    ENROLLMENT_ID,
    HOUSEHOLD,
)
from canteen_adapters.web.routes.sepa import mandate_out
from canteen_core.domain.mandates import DirectDebitMandate

# -- back office -----------------------------------------------------------------------------

ROLL_CALL = so.RollCallOut(
    site_id="ronde",
    day=date(2023, 9, 18),
    entries=[
        so.RollCallEntryOut(
            enrollment_id=ENROLLMENT_ID,
            household_id=HOUSEHOLD.id,
            child_id="concerto-alban",
            child_name="Alban CONCERTO",
            household_name="CONCERTO Maman",
            booked=True,
            presence="present",
        ),
        so.RollCallEntryOut(
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
ROLL_CALL_BODY = so.RollCallBody(
    presences={ENROLLMENT_ID: "present", "H000003-C1-soir": "present"},
    stays={"H000003-C1-soir": so.StayBody(arrival=time(16, 40), departure=time(17, 41))},
)
HEADCOUNT = so.HeadcountOut(
    site_id="ronde",
    day=date(2023, 10, 9),
    meals={"standard": 4, "no_pork": 0, "vegetarian": 1},
    pai_baskets=2,
    total=7,
)
CLOSURE_BODY = so.ClosureBody(
    name="Grève", first_day=date(2023, 11, 13), last_day=date(2023, 11, 13)
)
CLOSURE = so.ClosureOut(
    cancelled={ENROLLMENT_ID: [date(2023, 11, 13)]},
    billed=so.BilledDaysOut(count=0, households=[], invoices=[], months=[], summary=""),
)
BILLING_RUN = so.BillingRunOut(
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
    skipped=[
        so.UnbilledOut(
            household_id="H000214",
            reason="la grille rs-2023-2024 ne tarife pas la catégorie « pai_basket » "
            "(inscription H000214-C1-rs) : complétez-la puis relancez le mois",
        )
    ],
    credit_notes=[
        so.RegularisationNoteOut(
            id="credit_note:RONDE:AV-2023-000001",
            number="AV-2023-000001",
            household_id=HOUSEHOLD.id,
            invoice_id="invoice:RONDE:2023-000001",
            total=eur("3.35"),
        )
    ],
    credited=eur("3.35"),
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
