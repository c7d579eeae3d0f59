"""The tables :mod:`canteen_adapters.web.examples` reads: the example of each body class, the
operations that show another, the files by media type, the problems by status."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Final

import attrs
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Schema

from canteen_adapters.web import papers_schemas as ps
from canteen_adapters.web import schemas as s
from canteen_adapters.web import schemas_campaigns as sc
from canteen_adapters.web import schemas_capacity as sk
from canteen_adapters.web import schemas_enrollment as se
from canteen_adapters.web import schemas_office as so
from canteen_adapters.web.example_values._base import ReadByHand, Shown, at
from canteen_adapters.web.example_values.family import (
    APPROVED_REQUEST,
    CHANGES,
    CREDITED,
    DASHBOARD,
    DOCUMENTS,
    ENROLLMENT,
    ENROLLMENT_REQUEST,
    ENROLLMENT_REQUEST_BODY,
    FILLED,
    GRID,
    HOUSEHOLD_OUT,
    INVOICE,
    INVOICES,
    LATE_REQUEST,
    OFFER,
    PAPER,
    PAPERLESS,
    PAPERS,
    PAYFIP_NOTIFICATION,
    PAYMENT_RETURN,
    PAYMENT_START,
    PAYZEN_IPN,
    PERIODIC,
    PREVIEW,
    REJECTED,
    REVIEW,
    SESSION,
    STATEMENT,
    SUBMITTED,
    TARIFFS,
)
from canteen_adapters.web.example_values.office import (
    ALLERGY_FLAG,
    BILLING_RUN,
    CAPACITY,
    CAPACITY_BODY,
    CLOSURE,
    CLOSURE_BODY,
    DEBIT_RUN,
    DEBIT_SCHEDULE,
    DECLINED_ANSWER,
    HEADCOUNT,
    MANDATE,
    OFFERED,
    QUOTIENT_ANSWER,
    QUOTIENT_CAMPAIGN,
    QUOTIENT_PROGRESS,
    REENROLLMENT_ANSWER,
    REENROLLMENT_PROGRESS,
    RETURN_FILE,
    ROLL_CALL,
    ROLL_CALL_BODY,
    WAITING,
    WEEK_MENU,
    WEEK_MENU_BODY,
    YEAR_CLOSING,
)
from canteen_adapters.web.problems import Problem
from canteen_adapters.web.routes import family_papers as fp
from canteen_adapters.web.routes import paperless as pl
from canteen_adapters.web.routes.reservations import conflict_problem, stale_problem
from canteen_core.domain.accounts.errors import LoginThrottledError, TokenAlreadyUsedError

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
    s.ChangeOut: Shown("Ce que la validation a fait (en prépaiement, la facture émise)", SUBMITTED),
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
    so.RollCallOut: Shown("Le pointage du lundi 18/09/2023", ROLL_CALL),
    so.RollCallBody: Shown("Alban présent, Manon à l'accueil du soir", ROLL_CALL_BODY),
    s.DecisionBody: Shown("Accepter la demande", s.DecisionBody(approve=True)),
    so.ClosureBody: Shown("Grève du 13/11/2023", CLOSURE_BODY),
    so.ClosureOut: Shown("Les repas annulés par la fermeture", CLOSURE),
    so.HeadcountOut: Shown("Les repas du lundi 09/10/2023", HEADCOUNT),
    so.BillingRunBody: Shown("Facturer septembre 2023", so.BillingRunBody(period="2023-09")),
    so.BillingRunOut: Shown("La facturation de septembre 2023", BILLING_RUN),
    so.RemindersBody: Shown(
        "Les relances dues le 15/11/2023", so.RemindersBody(today=date(2023, 11, 15))
    ),
    so.RemindersOut: Shown(
        "Les relances envoyées", so.RemindersOut(reminders=14, households=11, messages=11)
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
    pl.PostalAddressBody: Shown("L'adresse des factures papier", PAPERLESS.postal_address),
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
            attrs.evolve(
                CREDITED,
                reason="transaction payfip « PAYF20231003000000 » payée 13,40 €",
                transaction_id="PAYF20231003000000",
            ),
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

_TEXT = Schema(type=OpenAPIType.STRING)
_DAY = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.DATE)

#: The request bodies the routes read themselves, by operation.
READ_BY_HAND: Final[dict[str, ReadByHand]] = {
    "POST /api/v1/households/{household_id}/papers": ReadByHand(
        "multipart/form-data",
        Schema(
            type=OpenAPIType.OBJECT,
            required=["file", "kind", "issued_on"],
            properties={
                "file": Schema(
                    type=OpenAPIType.STRING,
                    content_media_type="application/octet-stream",
                    description="Le document : PDF, JPEG ou PNG.",
                ),
                "kind": Schema(
                    type=OpenAPIType.STRING,
                    enum=[
                        "attestation_caf",
                        "certificat_medical",
                        "pai",
                        "rib",
                        "justificatif_domicile",
                    ],
                ),
                "issued_on": _DAY,
                "child_id": _TEXT,
                "valid_from": _DAY,
                "valid_until": _DAY,
                "family_quotient": Schema(
                    type=OpenAPIType.STRING, description="Le quotient familial, 612.50."
                ),
            },
        ),
        Shown(
            "Le certificat médical d'Alban",
            {
                "file": "%PDF-1.4 ... (le fichier certificat-alban.pdf)",
                "kind": "certificat_medical",
                "issued_on": "2023-09-18",
                "child_id": "concerto-alban",
                "valid_from": "2023-09-18",
                "valid_until": "2023-09-19",
            },
        ),
    ),
    "POST /api/v1/staff/direct-debit-returns": ReadByHand(
        "application/xml",
        Schema(type=OpenAPIType.STRING, description="Le fichier pain.002 ou camt.054, tel quel."),
        Shown(
            "Un rejet dans le pain.002 de la banque (son début)",
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">'
            "<CstmrPmtStsRpt><GrpHdr><MsgId>BANQUE-20231122-0001</MsgId>"
            "<CreDtTm>2023-11-22T06:00:00</CreDtTm></GrpHdr>"
            "<OrgnlGrpInfAndSts><OrgnlMsgId>RONDE-20231106083000</OrgnlMsgId>"
            "<OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId></OrgnlGrpInfAndSts>"
            "<OrgnlPmtInfAndSts><TxInfAndSts>"
            "<OrgnlEndToEndId>RONDE-20231106083000-2023-000498</OrgnlEndToEndId>"
            "<TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>AM04</Cd></Rsn></StsRsnInf>...",
        ),
    ),
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


def _raised(summary: str, problem: Problem) -> Shown:
    """:func:`_problem` of a problem a route raises, as it raises it."""
    return _problem(
        summary,
        problem.status_code,
        problem.slug,
        problem.title,
        problem.detail,
        field=problem.field,
        current_version=problem.more.get("current_version"),
    )


#: One problem per status the routes may answer, as ``problems.py`` writes it.
PROBLEMS: Final[dict[int, Shown]] = {
    400: _problem(
        "Une case ni cochée ni décochée",
        400,
        "validation",
        "Données invalides",
        "La requête contient une donnée manquante ou invalide : changes[0].booked.",
        field="changes[0].booked",
        errors=[s.FieldErrorOut(field="changes[0].booked", source="body")],
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
        "L'élément demandé est introuvable.",
        instance="/api/v1/invoices/invoice:RONDE:2023-999999",
    ),
    409: _raised("Une autre modification est passée avant", conflict_problem(13)),
    410: _problem(
        "Lien déjà utilisé",
        410,
        "authentication:token_already_used",
        "Authentification refusée",
        str(TokenAlreadyUsedError()),
        instance="/api/v1/account/activation",
    ),
    412: _raised("If-Match périmé", stale_problem(13)),
    415: _problem(
        "Connexion envoyée en formulaire",
        415,
        "json-required",
        "Format refusé",
        "Les demandes sans session doivent être envoyées en JSON (application/json).",
        instance="/api/v1/session",
    ),
    422: _problem(
        "Une semaine mal écrite",
        422,
        "invalid-input",
        "Données invalides",
        "semaine invalide « semaine-36 » : écrivez 2023-W36 ou une date 2023-09-04",
        instance="/api/v1/enrollments/CONCERTO-alban-rs/weeks/semaine-36",
        field="week",
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
