"""SEPA direct debit: a family signs a mandate and reads "Mes prélèvements"; staff produce the
month's pain.008 file and download it."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import anyio.to_thread
from litestar import Controller, Response, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from canteen_adapters.web import convert
from canteen_adapters.web.context import AnyRequest, Web
from canteen_adapters.web.convert import body
from canteen_adapters.web.papers_schemas import (
    DebitReturnOut,
    DebitScheduleOut,
    DirectDebitRunBody,
    DirectDebitRunOut,
    MandateBody,
    MandateIbanBody,
    MandateOut,
    MandateRevocationBody,
    MandateScheduleOut,
    PastDebitOut,
    PreNotificationOut,
    ReturnFileOut,
    ScheduledDebitOut,
)
from canteen_adapters.web.problems import Problem
from canteen_adapters.web.routes._actions import action, creation
from canteen_adapters.web.routes._files import attachment, file_route
from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import PARIS
from canteen_core.domain.errors import InvalidInputError, RuleViolationError
from canteen_core.domain.family_papers import FamilyPaper, PaperKind
from canteen_core.domain.mandate_authorization import authorization_file_name, masked_iban
from canteen_core.domain.mandates import DirectDebitMandate, MandateStatus, validate_bic
from canteen_core.domain.policy import Action, authorize
from canteen_core.services import Canteen
from canteen_core.services.payments import DebitSchedule, DirectDebitReport, ReturnFileReport
from canteen_core.services.payments.debit_schedule import earliest_collection_date

__all__ = [
    "HANDLERS",
    "STATUS_FR",
    "authorization_of",
    "authorizations",
    "change_iban",
    "debit_file",
    "filed_mandate_out",
    "masked_iban",
    "run_direct_debit",
    "sign_mandate",
]

TAGS = ["Prélèvement"]
#: The media type of the collection files (pain.008.001.02 is XML).
PAIN_008 = "application/xml"
#: A mandate's status as families read it.
STATUS_FR = {
    MandateStatus.ACTIVE: "Actif",
    MandateStatus.FINAL_PENDING: "Révoqué (dernier prélèvement à venir)",
    MandateStatus.REVOKED: "Révoqué",
    MandateStatus.COMPLETED: "Terminé",
}
#: A file's message id as it may appear in a URL (the SEPA identifier set, without "/").
_MESSAGE_ID = re.compile(r"[A-Za-z0-9\-?:().,'+]{1,35}")
#: The longest holder name SEPA messages carry.
HOLDER_MAX = 70


def authorizations(canteen: Canteen, actor: Actor, household_id: str) -> dict[str, FamilyPaper]:
    """The signed authorizations filed in the household's papers, by file name."""
    papers = canteen.papers.of_household(actor, household_id)
    return {paper.file_name: paper for paper in papers if paper.kind is PaperKind.SEPA_MANDATE}


def authorization_of(
    mandate: DirectDebitMandate, filed: dict[str, FamilyPaper] | None
) -> FamilyPaper | None:
    """The paper holding ``mandate``'s signed authorization, among ``filed``."""
    return (filed or {}).get(authorization_file_name(mandate.reference))


def mandate_out(
    mandate: DirectDebitMandate, filed: dict[str, FamilyPaper] | None = None
) -> MandateOut:
    """A mandate's body (``filed``: the household's :func:`authorizations`)."""
    return body(
        MandateOut,
        mandate,
        holder=mandate.debtor_name,
        iban=masked_iban(mandate.iban),
        status_label=STATUS_FR[mandate.status],
        authorization_id=getattr(authorization_of(mandate, filed), "id", None),
    )


def filed_mandate_out(canteen: Canteen, actor: Actor, mandate: DirectDebitMandate) -> MandateOut:
    """A mandate's body, with its signed authorization found among its household's papers."""
    return mandate_out(mandate, authorizations(canteen, actor, mandate.household_id))


def sign_mandate(
    canteen: Canteen,
    actor: Actor,
    household_id: str,
    *,
    iban: str,
    holder: str | None,
    bic: str | None,
    accept: bool,
) -> DirectDebitMandate:
    """Sign the household's mandate once the form is checked (French errors, the field in
    error): the ticked authorization, the holder's name, the IBAN and BIC (schwifty)."""
    if not accept:
        raise InvalidInputError(
            "cochez l'autorisation de prélèvement pour signer le mandat", path="accept"
        )
    name = (holder or "").strip() or None
    if name is not None and len(name) > HOLDER_MAX:
        raise InvalidInputError(
            f"le nom du titulaire du compte a au plus {HOLDER_MAX} caractères", path="holder"
        )
    if not iban.strip():
        raise InvalidInputError("indiquez l'IBAN du compte à prélever", path="iban")
    checked_bic = validate_bic(bic) if bic and bic.strip() else None
    return canteen.payments.sign_mandate(
        actor, household_id, iban=iban, debtor_name=name, bic=checked_bic
    )


def change_iban(
    canteen: Canteen, actor: Actor, household_id: str, *, iban: str, bic: str | None
) -> DirectDebitMandate:
    """Move the household's active mandate to a new account (same reference), the IBAN and
    BIC checked as when signing (French errors, the field in error)."""
    if not iban.strip():
        raise InvalidInputError("indiquez le nouvel IBAN du compte à prélever", path="iban")
    checked_bic = validate_bic(bic) if bic and bic.strip() else None
    return canteen.payments.change_mandate_iban(actor, household_id, iban=iban, bic=checked_bic)


def schedule_out(
    schedule: DebitSchedule, filed: dict[str, FamilyPaper] | None = None
) -> DebitScheduleOut:
    """ "Mes prélèvements" as JSON (``filed``: the household's :func:`authorizations`, so each
    mandate names its signed authorization as the mandates route does)."""
    return body(
        DebitScheduleOut,
        schedule,
        mandates=[
            MandateScheduleOut(
                mandate=mandate_out(entry.mandate, filed),
                upcoming=[body(ScheduledDebitOut, d) for d in entry.upcoming],
                pre_notifications=[body(PreNotificationOut, n) for n in entry.pre_notifications],
                past=[body(PastDebitOut, d) for d in entry.past],
            )
            for entry in schedule.mandates
        ],
    )


def run_direct_debit(canteen: Canteen, actor: Actor, day: date | None) -> DirectDebitReport:
    """The direct-debit run on ``day`` (``None``: the earliest date the notice allows); 404
    when the deployment has no ``[payment.sepa]``."""
    if "sepa" not in canteen.deployment.payment:
        raise Problem(
            404,
            "provider-not-configured",
            "Prélèvement non configuré",
            "Le prélèvement SEPA n'est pas configuré sur ce portail.",
        )
    today = canteen.context.clock.now().astimezone(PARIS).date()
    earliest = earliest_collection_date(canteen.deployment, today)
    if day is None:
        day = earliest
    elif day < earliest:
        raise RuleViolationError(
            f"un prélèvement le {day:%d/%m/%Y} ne laisse pas aux familles le délai de "
            f"pré-notification : la date la plus proche possible est le {earliest:%d/%m/%Y}"
        )
    return canteen.payments.run_direct_debit(actor, day)


def debit_file(canteen: Canteen, message_id: str) -> Path:
    """The pain.008 file of ``message_id`` in the SEPA adapter's ``output_dir`` (404 when the
    deployment keeps no files, or for an unknown or malformed id)."""
    missing = Problem(404, "not-found", "Introuvable", "Ce fichier de prélèvement n'existe pas.")
    folder = canteen.deployment.payment.get("sepa", {}).get("output_dir")
    if not isinstance(folder, str) or not _MESSAGE_ID.fullmatch(message_id):
        raise missing
    base = Path(folder).resolve()
    path = (base / f"pain008-{message_id}.xml").resolve()
    if path.parent != base or not path.is_file():
        raise missing
    return path


def run_out(report: DirectDebitReport) -> DirectDebitRunOut:
    """A run's body, with the download URL when the file was kept."""
    url = None
    if report.message_id is not None and report.path is not None:
        url = f"/api/v1/staff/direct-debit-runs/{report.message_id}/file"
    return body(
        DirectDebitRunOut,
        report,
        total=convert.money(report.control_sum),
        skipped=[f"{household} : {reason}" for household, reason in report.skipped],
        file_url=url,
    )


class MandatesController(Controller):
    """The household's SEPA mandates (list, sign)."""

    path = "/api/v1/households/{household_id:str}/mandates"
    tags = TAGS

    @get(sync_to_thread=True)
    def mandates(
        self, request: AnyRequest, web: Web, household_id: FromPath[str]
    ) -> list[MandateOut]:
        """The household's mandates, newest signature first (IBANs masked)."""
        actor = web.actor(request)
        filed = authorizations(web.canteen, actor, household_id)
        return [mandate_out(m, filed) for m in web.canteen.payments.mandates(actor, household_id)]

    @creation()
    def sign(
        self,
        request: AnyRequest,
        web: Web,
        household_id: FromPath[str],
        data: JSONBody[MandateBody],
    ) -> MandateOut:
        """SEPA adhesion: sign a mandate on the account's IBAN (checked with its national key;
        the BIC is optional). ``accept`` must be true (the authorization the family ticks).
        One active mandate per household (422 otherwise)."""
        actor = web.actor(request)
        mandate = sign_mandate(
            web.canteen,
            actor,
            household_id,
            iban=data.iban,
            holder=data.holder,
            bic=data.bic,
            accept=data.accept,
        )
        return filed_mandate_out(web.canteen, actor, mandate)

    @action("/active/iban")
    def change_iban(
        self,
        request: AnyRequest,
        web: Web,
        household_id: FromPath[str],
        data: JSONBody[MandateIbanBody],
    ) -> MandateOut:
        """Change the active mandate's bank account (same mandate reference; the next debit
        is presented on the new IBAN). 404 without an active mandate."""
        actor = web.actor(request)
        mandate = change_iban(web.canteen, actor, household_id, iban=data.iban, bic=data.bic)
        return filed_mandate_out(web.canteen, actor, mandate)

    @action("/active/revocation")
    def revoke(
        self,
        request: AnyRequest,
        web: Web,
        household_id: FromPath[str],
        data: JSONBody[MandateRevocationBody],
    ) -> MandateOut:
        """Leave direct debit: revoke the active mandate from today (``final_collection``:
        one last debit is still presented). 404 without an active mandate."""
        actor = web.actor(request)
        mandate = web.canteen.payments.revoke_mandate(
            actor, household_id, final_collection=data.final_collection
        )
        return filed_mandate_out(web.canteen, actor, mandate)


@get("/api/v1/households/{household_id:str}/direct-debits", tags=TAGS, sync_to_thread=True)
def direct_debits(request: AnyRequest, web: Web, household_id: FromPath[str]) -> DebitScheduleOut:
    """ "Mes prélèvements": per mandate, the upcoming debits (invoice, amount, date; firm when
    announced, else the next run's forecast), the pre-notifications sent and the past debits
    with returns."""
    actor = web.actor(request)
    schedule = web.canteen.payments.debit_schedule(actor, household_id)
    return schedule_out(schedule, authorizations(web.canteen, actor, household_id))


@action("/api/v1/staff/direct-debit-runs", tags=TAGS)
def direct_debit_run(
    request: AnyRequest, web: Web, data: JSONBody[DirectDebitRunBody]
) -> DirectDebitRunOut:
    """Produce the pain.008 file: every open invoice of the households with a collectable
    mandate, on ``collection_date`` (a TARGET2 business day at least the notice away; default
    the earliest one). The families are pre-notified by e-mail."""
    actor = web.staff_actor(request)
    report = run_direct_debit(web.canteen, actor, data.collection_date)
    return run_out(report)


@file_route("/api/v1/staff/direct-debit-runs/{message_id:str}/file", tags=TAGS, media_type=PAIN_008)
def direct_debit_file(request: AnyRequest, web: Web, message_id: FromPath[str]) -> Response[bytes]:
    """Download a run's pain.008.001.02 file (kept in ``[payment.sepa] output_dir``)."""
    web.staff_actor(request)
    path = debit_file(web.canteen, message_id)
    return attachment(path.read_bytes(), path.name, PAIN_008)


#: The media types a return file may be sent as.
RETURN_FILE_TYPES = frozenset({"application/xml", "text/xml"})
#: The largest return file accepted (a month of returns is a few kilobytes).
RETURN_FILE_MAX_BYTES = 10 * 1024 * 1024


def return_file_out(report: ReturnFileReport) -> ReturnFileOut:
    """A loaded return file's body."""
    return body(
        ReturnFileOut,
        report,
        returns=[body(DebitReturnOut, r) for r in report.returns],
        message=report.summary,
    )


@post("/api/v1/staff/direct-debit-returns", tags=TAGS, status_code=HTTP_200_OK)
async def direct_debit_returns(request: AnyRequest, web: Web) -> ReturnFileOut:
    """Load the bank's return file (the XML itself as the body, ``application/xml``): a
    pain.002.001.03 status report or a camt.054.001.02 debit notification, checked against its
    schema. Each rejected or returned debit reopens its invoice, keeps the bank's reason and
    e-mails the family. The same file twice changes nothing (``already_loaded``); a bad file or
    an unknown end-to-end id is refused (422, French reason) and changes nothing."""
    actor = web.staff_actor(request)
    authorize(actor, Action.RECORD_PAYMENT)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in RETURN_FILE_TYPES:
        raise InvalidInputError(
            "envoyez le fichier de retour tel quel, en application/xml", path="file"
        )
    data = await request.body()
    if len(data) > RETURN_FILE_MAX_BYTES:
        raise InvalidInputError("le fichier de retour dépasse 10 Mo", path="file")

    def run() -> ReturnFileReport:
        return web.canteen.payments.load_debit_returns(actor, data)

    return return_file_out(await anyio.to_thread.run_sync(run))


HANDLERS: list[Any] = [
    MandatesController,
    direct_debits,
    direct_debit_run,
    direct_debit_file,
    direct_debit_returns,
]
