"""The family's papers ("Espace de stockage"): upload, list, download, staff review.

``canteen.papers`` on the facade. A household uploads a paper (its kind, date, the child it
concerns and, for a medical certificate, the days it covers); the bytes are checked by content
(PDF, JPEG or PNG), bounded in size and by the household's quota, put in the deployment's
document store (:mod:`canteen_core.ports.document_store`) under a random key, and the paper
recorded. A paper is visible to its household and to staff only: another household's paper is
"introuvable", exactly like one that does not exist.

Staff review each paper. Rejecting needs a reason; accepting does what the paper is for, in the
same transaction:

* a **medical certificate** justifies the absences it covers on each of the child's
  enrollments (billing then charges none of them: :func:`~canteen_core.services.attendance.
  justify_in`); recording attendance is staff's, so finance cannot accept one;
* an **attestation CAF** records its family quotient on the household from the paper's
  ``valid_from`` (else its date), as :meth:`~canteen_core.services.families.FamilyService.
  set_family_quotient` would (finance or admin); days already invoiced keep their price, so
  over them it applies from the day after the last one (the outcome says from when);
* a **PAI** marks the child (``pai``) and switches the child's enrollments still running to
  the ``"pai"`` tariff category where the tariff book prices it.

Either way the family is told by e-mail (through the outbox, in the same transaction).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.attendance import AbsenceJustification
from canteen_core.domain.enrollments import CATEGORY_ALIASES
from canteen_core.domain.errors import (
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.families import FamilyQuotient, Household
from canteen_core.domain.family_papers import (
    FamilyPaper,
    PaperKind,
    PaperLimits,
    PaperStatus,
    accept_paper,
    reject_paper,
    sniff_content_type,
)
from canteen_core.domain.notifications import Recipient
from canteen_core.domain.policy import Action, authorize, is_allowed
from canteen_core.domain.tariffs import TariffCategory
from canteen_core.ports.document_store import DocumentStore
from canteen_core.ports.storage import Storage
from canteen_core.services.attendance import JustificationRequest, justify_in
from canteen_core.services.billing.billed_days import unbilled_quotient
from canteen_core.services.campaign_answers import record_quotient_answer
from canteen_core.services.runner import ServiceBase, Transaction

__all__ = ["FamilyPaperService", "PaperFile", "ReviewOutcome", "delete_paper_files"]

_NOT_FOUND = "document introuvable"
_PAI_CATEGORY = "pai"


@attrs.frozen(kw_only=True)
class PaperFile:
    """A paper with its bytes, for a download."""

    paper: FamilyPaper
    content: bytes = attrs.field(repr=False)

    @property
    def download_name(self) -> str:
        """A file name for the download (the kind and date, the right extension): the name
        the family gave is shown, never trusted."""
        extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
        suffix = extension.get(self.paper.content_type, "bin")
        return f"{self.paper.kind.value}-{self.paper.issued_on.isoformat()}.{suffix}"


@attrs.frozen(kw_only=True)
class ReviewOutcome:
    """What accepting a paper did: the paper, the absences justified, the quotient recorded,
    the enrollments switched to the PAI category, and a French summary for staff.

    For an attestation CAF, ``family_quotient`` is the quotient recorded, from the day it
    applies (:attr:`quotient_from`): the paper's date, or the day after ``billed_until`` when
    days from the paper's date on were already invoiced (they keep their price); ``None``
    with ``billed_until`` set when the paper's whole validity was invoiced (nothing recorded).
    """

    paper: FamilyPaper
    justifications: tuple[AbsenceJustification, ...] = ()
    justified_days: tuple[date, ...] = ()
    family_quotient: FamilyQuotient | None = None
    billed_until: date | None = None
    pai_enrollments: tuple[str, ...] = ()

    @property
    def quotient_from(self) -> date | None:
        """The day the recorded quotient applies from (``None``: none recorded)."""
        return None if self.family_quotient is None else self.family_quotient.valid_from

    @property
    def summary_fr(self) -> str:
        """One line saying what the acceptance did."""
        if self.paper.kind is PaperKind.MEDICAL_CERTIFICATE:
            count = len(self.justified_days)
            return f"certificat accepté : {count} absence(s) justifiée(s)"
        billed = "" if self.billed_until is None else f"{self.billed_until:%d/%m/%Y}"
        if self.family_quotient is not None:
            since = self.family_quotient.valid_from.strftime("%d/%m/%Y")
            value = f"{self.family_quotient.value}".replace(".", ",")
            text = f"attestation acceptée : quotient familial {value} € à partir du {since}"
            if billed:
                text += f" (les jours facturés jusqu'au {billed} gardent leur prix)"
            return text
        if billed and self.paper.family_quotient is not None:
            value = f"{self.paper.family_quotient}".replace(".", ",")
            return (
                f"attestation acceptée : quotient familial {value} € non enregistré, sa "
                f"période est déjà facturée (jusqu'au {billed})"
            )
        if self.paper.kind is PaperKind.PAI:
            return f"PAI accepté : {len(self.pai_enrollments)} inscription(s) au panier PAI"
        return "document accepté"


def delete_paper_files(store: DocumentStore, papers: Iterable[FamilyPaper]) -> None:
    """Delete the bytes of ``papers`` kept in ``store`` (once the removal of their records
    committed: a failed removal keeps them)."""
    for paper in papers:
        if paper.store == store.name:
            store.delete(paper.blob_key)


def discard_unrecorded(storage: Storage, store: DocumentStore, key: str, household_id: str) -> None:
    """After a failed use case, delete the bytes put under ``key`` unless a paper of
    ``household_id`` stored after all names them (an upload, a mandate's signed authorization).

    The bytes and the record cannot commit together: the store is another port, which may be
    another database (``[documents] url``) or the file system, and with SQLite a second
    connection cannot write while the storage's transaction holds the database's one write
    lock. So the bytes are committed first and the record after; a failure is not always a
    rollback (the commit may have gone through before an error on the way out), and deleting
    the bytes of a committed record would leave a paper that can never be downloaded. The
    bytes are therefore deleted only once a fresh read shows no record; if that cannot be
    told, they stay: an orphan blob (never served: its key is random and no record names it)
    is the safe failure, a record without its bytes is not.
    """
    try:
        with storage.unit_of_work(read_only=True) as uow:
            if any(p.blob_key == key for p in uow.family_papers.list(household_id=household_id)):
                return
    except Exception:
        return
    try:
        store.delete(key)
    except Exception:
        return


def _paper_of(tx: Transaction, paper_id: str) -> FamilyPaper:
    """The paper ``paper_id`` if the actor may see its household; "introuvable" otherwise
    (another household's paper is not told apart from a missing one)."""
    paper = tx.uow.family_papers.find(paper_id)
    if paper is None or not tx.may(paper.household_id):
        raise NotFoundError(_NOT_FOUND)
    return paper


def _require(tx: Transaction, action: Action, what: str) -> None:
    """Refuse (in French) a reviewer whose roles do not cover what acceptance does."""
    assert tx.actor is not None
    if not is_allowed(tx.actor, action):
        raise NotAuthorizedError(
            f"{what} : votre rôle ne permet pas de l'accepter ({action.value})"
        )


def _recipients(household: Household) -> list[Recipient]:
    return [Recipient.from_guardian(g) for g in household.guardians if g.email is not None]


class FamilyPaperService(ServiceBase):
    """The household's papers and their review by staff."""

    @property
    def limits(self) -> PaperLimits:
        """The deployment's size limit and household quota."""
        settings = self._ctx.deployment.documents
        return PaperLimits(max_bytes=settings.max_bytes, household_quota=settings.household_quota)

    # -- the family --------------------------------------------------------------------------

    def upload(
        self,
        actor: Actor,
        household_id: str,
        *,
        kind: PaperKind | str,
        content: bytes,
        file_name: str,
        issued_on: date,
        child_id: str | None = None,
        valid_from: date | None = None,
        valid_until: date | None = None,
        family_quotient: Decimal | None = None,
    ) -> FamilyPaper:
        """Upload a paper for ``household_id`` (its guardians, or admin): checked by content
        (PDF, JPEG, PNG), size and the household's quota; refused input stores nothing."""
        paper_kind = PaperKind.parse(kind)
        authorize(actor, Action.SUBMIT_DOCUMENTS, household_id=household_id)
        if not paper_kind.uploadable:
            raise InvalidInputError(
                "le mandat SEPA signé est rangé ici à la signature du mandat "
                "(page Prélèvement) : il ne se dépose pas",
                path="kind",
            )
        content_type = sniff_content_type(content)
        limits = self.limits
        limits.check(len(content), 0)
        # Checked before the bytes are put: the paper's fields (a certificate's period...).
        probe = FamilyPaper(
            id="probe",
            household_id=household_id,
            kind=paper_kind,
            issued_on=issued_on,
            child_id=child_id,
            valid_from=valid_from,
            valid_until=valid_until,
            family_quotient=family_quotient,
            file_name=" ".join(file_name.split())[:200] or "document",
            content_type=content_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            store="-",
            blob_key="-",
            uploaded_by=actor.user_id,
            uploaded_at=self._ctx.now(),
        )
        store = self._ctx.document_store
        # The bytes go first, committed on their own (see :func:`discard_unrecorded`): a
        # record never points to bytes that are not there.
        key = store.put(bytes(content), content_type=content_type)
        try:
            with self._ctx.use_case(
                actor, Action.SUBMIT_DOCUMENTS, household_id=household_id
            ) as tx:
                household = tx.uow.households.get(household_id)
                if child_id is not None and not household.has_child(child_id):
                    raise NotFoundError("cet enfant n'est pas membre du foyer")
                used = sum(p.size for p in tx.uow.family_papers.list(household_id=household_id))
                limits.check(len(content), used)
                paper = attrs.evolve(
                    probe, id=tx.new_id(), store=store.name, blob_key=key, uploaded_at=tx.now
                )
                tx.uow.family_papers.add(paper)
        except BaseException:
            discard_unrecorded(self._ctx.storage, store, key, household_id)
            raise
        return paper

    def of_household(self, actor: Actor, household_id: str) -> tuple[FamilyPaper, ...]:
        """A household's papers, newest first (the household, or staff)."""
        with self._ctx.use_case(
            actor, Action.VIEW_DOCUMENTS, household_id=household_id, read_only=True
        ) as tx:
            papers = tx.uow.family_papers.list(household_id=household_id)
            return tuple(sorted(papers, key=lambda p: p.uploaded_at, reverse=True))

    def usage(self, actor: Actor, household_id: str) -> tuple[int, int]:
        """``(bytes used, quota)`` of a household's storage space."""
        used = sum(paper.size for paper in self.of_household(actor, household_id))
        return used, self.limits.household_quota

    def get(self, actor: Actor, paper_id: str) -> FamilyPaper:
        """One paper (its household, or staff); another household's is "introuvable"."""
        with self._ctx.use_case(actor, Action.VIEW_DOCUMENTS, read_only=True) as tx:
            tx.filtered()
            return _paper_of(tx, paper_id)

    def download(self, actor: Actor, paper_id: str) -> PaperFile:
        """A paper with its bytes (its household, or staff)."""
        paper = self.get(actor, paper_id)
        store = self._ctx.document_store
        if paper.store != store.name:
            raise RuleViolationError(
                f"ce document est conservé dans le stockage « {paper.store} », pas dans celui "
                f"de ce déploiement (« {store.name} ») : il faut les migrer"
            )
        return PaperFile(paper=paper, content=store.get(paper.blob_key))

    # -- staff -------------------------------------------------------------------------------

    def to_review(self, actor: Actor) -> tuple[FamilyPaper, ...]:
        """Papers waiting for review, oldest first (staff)."""
        return self.list_papers(actor, status=PaperStatus.PENDING)

    def list_papers(
        self,
        actor: Actor,
        *,
        status: PaperStatus | str | None = None,
        household_id: str | None = None,
    ) -> tuple[FamilyPaper, ...]:
        """Papers of every household (staff), oldest first, by status and household."""
        where: dict[str, object] = {}
        if status is not None:
            try:
                where["status"] = PaperStatus(status).value
            except ValueError:
                raise InvalidInputError(
                    "statut inconnu (pending, accepted, rejected)", path="status"
                ) from None
        if household_id is not None:
            where["household_id"] = household_id
        with self._ctx.use_case(actor, Action.REVIEW_DOCUMENTS, read_only=True) as tx:
            papers = tx.uow.family_papers.list(**where)
            return tuple(sorted(papers, key=lambda p: p.uploaded_at))

    def reject(self, actor: Actor, paper_id: str, reason: str) -> FamilyPaper:
        """Reject a pending paper with a reason (staff); the family is told by e-mail."""
        with self._ctx.use_case(actor, Action.REVIEW_DOCUMENTS) as tx:
            paper = _paper_of(tx, paper_id)
            rejected = reject_paper(paper, reviewer=actor.user_id, at=tx.now, reason=reason)
            tx.uow.family_papers.save(rejected)
            self._notify(tx, rejected)
        return rejected

    def accept(self, actor: Actor, paper_id: str) -> ReviewOutcome:
        """Accept a pending paper (staff) and apply it: a medical certificate justifies the
        absences it covers, an attestation CAF records the family quotient (from the first
        day not invoiced when days from its date on already were: the outcome's
        ``quotient_from`` and ``billed_until``), a PAI marks the child's enrollments. The
        family is told by e-mail. All in one transaction."""
        with self._ctx.use_case(actor, Action.REVIEW_DOCUMENTS) as tx:
            paper = _paper_of(tx, paper_id)
            accepted = accept_paper(paper, reviewer=actor.user_id, at=tx.now)
            household = tx.uow.households.get(paper.household_id)
            outcome = ReviewOutcome(paper=accepted)
            if paper.kind is PaperKind.MEDICAL_CERTIFICATE:
                outcome = self._justify(tx, accepted, outcome)
            elif paper.kind is PaperKind.CAF_ATTESTATION:
                outcome = self._record_quotient(tx, household, accepted, outcome)
            elif paper.kind is PaperKind.PAI:
                outcome = self._mark_pai(tx, household, accepted, outcome)
            tx.uow.family_papers.save(accepted)
            self._notify(tx, accepted, household)
        return outcome

    # -- what acceptance does ----------------------------------------------------------------

    def _justify(
        self, tx: Transaction, paper: FamilyPaper, outcome: ReviewOutcome
    ) -> ReviewOutcome:
        assert paper.valid_from is not None
        assert paper.valid_until is not None
        _require(tx, Action.RECORD_ATTENDANCE, "un certificat médical justifie des absences")
        enrollments = [
            e
            for e in tx.uow.enrollments.list(child_id=paper.child_id)
            if e.start <= paper.valid_until and paper.valid_from <= e.end
        ]
        if not enrollments:
            return outcome
        items = [
            JustificationRequest(
                enrollment_id=e.id,
                first_day=max(paper.valid_from, e.start),
                last_day=min(paper.valid_until, e.end),
                document=paper.kind.label,
                document_ref=paper.id,
            )
            for e in enrollments
        ]
        results = justify_in(tx, items)
        days = sorted({record.day for _, updated in results for record in updated})
        return attrs.evolve(
            outcome,
            justifications=tuple(j for j, _ in results),
            justified_days=tuple(days),
        )

    def _record_quotient(
        self, tx: Transaction, household: Household, paper: FamilyPaper, outcome: ReviewOutcome
    ) -> ReviewOutcome:
        assert paper.family_quotient is not None
        _require(tx, Action.MANAGE_FAMILY_QUOTIENT, "une attestation CAF fixe le quotient")
        stated = FamilyQuotient(
            value=paper.family_quotient,
            valid_from=paper.valid_from or paper.issued_on,
            valid_until=paper.valid_until,
            source=f"CAF (document {paper.id})",
        )
        # Days already invoiced keep the quotient they were billed at: the paper's quotient
        # applies from the first day it re-prices nothing (a paper is not refused for that).
        quotient, billed = unbilled_quotient(tx.uow, household, stated)
        outcome = attrs.evolve(
            outcome,
            family_quotient=quotient,
            billed_until=None if billed is None else billed.billed_until,
        )
        if quotient is None:
            return outcome
        changed = household.with_quotient(quotient)
        tx.uow.households.save(changed)
        record_quotient_answer(tx, changed, quotient)
        return outcome

    def _mark_pai(
        self, tx: Transaction, household: Household, paper: FamilyPaper, outcome: ReviewOutcome
    ) -> ReviewOutcome:
        assert paper.child_id is not None
        child = household.child(paper.child_id)
        tx.uow.households.save(household.with_child(attrs.evolve(child, pai=True)))
        since = paper.valid_from or paper.issued_on
        category: TariffCategory = CATEGORY_ALIASES[_PAI_CATEGORY]
        grids = list(tx.uow.tariffs.list())
        switched: list[str] = []
        for enrollment in tx.uow.enrollments.list(child_id=paper.child_id):
            if enrollment.end < since or enrollment.tariff_category == _PAI_CATEGORY:
                continue
            priced = all(
                category in grid.prices
                for grid in grids
                if grid.service_id == enrollment.service.id
                and grid.valid_from <= enrollment.end
                and (grid.valid_until is None or enrollment.start <= grid.valid_until)
            )
            if priced:
                tx.uow.enrollments.save(attrs.evolve(enrollment, tariff_category=_PAI_CATEGORY))
                switched.append(enrollment.id)
        return attrs.evolve(outcome, pai_enrollments=tuple(switched))

    def _notify(
        self, tx: Transaction, paper: FamilyPaper, household: Household | None = None
    ) -> None:
        household = household or tx.uow.households.get(paper.household_id)
        child_name = (
            household.child(paper.child_id).display_name
            if paper.child_id is not None and household.has_child(paper.child_id)
            else None
        )
        notifier = self._ctx.notifier
        context = {
            "accepted": paper.status is PaperStatus.ACCEPTED,
            "kind_label": paper.kind.label,
            "child_name": child_name,
            "uploaded_on": paper.uploaded_at.astimezone(self._ctx.deployment.zoneinfo).date(),
            "reason": paper.rejection_reason,
            "documents_url": notifier.settings.link("{portal_url}/espace-de-stockage"),
        }
        for recipient in _recipients(household):
            tx.send(
                notifier.render(
                    "document-reviewed",
                    recipient,
                    context,
                    key=f"{paper.id}:{paper.status.value}",
                    household_id=household.id,
                )
            )
