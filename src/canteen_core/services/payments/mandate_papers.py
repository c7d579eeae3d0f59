"""The signed SEPA authorization, filed in the household's document space with its mandate.

When a family signs a mandate, :class:`~canteen_core.services.payments.direct_debit.
DirectDebits` asks the plugins to draw the authorization
(``canteen_render_mandate_authorization``; the built-in is the documents adapter's) and files
it among the household's papers (:class:`~canteen_core.domain.family_papers.PaperKind`
``SEPA_MANDATE``, already accepted: it needs no review), in the same use case as the mandate.
When the account changes or the mandate is revoked, the document is drawn again and replaces
the former file: it then states the new account or the revocation, and the paper's
``valid_until`` is the revocation date.

As for an upload, the bytes go to the document store before the transaction (SQLite has one
writer at a time) and are deleted again when it fails; a replaced file is deleted once the
change committed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import attrs

from canteen_core.domain.actors import Actor
from canteen_core.domain.errors import CanteenError, ConfigurationError
from canteen_core.domain.families import Household
from canteen_core.domain.family_papers import FamilyPaper, PaperKind, PaperStatus
from canteen_core.domain.mandate_authorization import (
    MandateAuthorization,
    authorization_file_name,
)
from canteen_core.domain.mandates import DirectDebitMandate
from canteen_core.ports.direct_debit import Creditor
from canteen_core.ports.storage import UnitOfWork
from canteen_core.services.family_papers import discard_unrecorded
from canteen_core.services.runner import ServiceContext

__all__ = [
    "AuthorizationFile",
    "authorization_paper",
    "discard",
    "draw_authorization",
    "filed_paper",
    "forget_replaced",
    "refiled_paper",
]

_PDF = "application/pdf"
#: Who "reviewed" a paper canteen filed itself.
_FILED_BY = "canteen"


@attrs.frozen(kw_only=True)
class AuthorizationFile:
    """A drawn authorization put in the document store, not yet recorded."""

    key: str
    content: bytes = attrs.field(repr=False)


def _creditor(ctx: ServiceContext, creditor: Creditor | None) -> tuple[str, str | None]:
    """The creditor's name and ICS: the direct-debit adapter's, else the notification
    settings', else the régie's name without an ICS."""
    settings = ctx.notifier.settings
    name = (creditor.name if creditor else None) or settings.creditor_name
    identifier = (creditor.creditor_id if creditor else None) or settings.creditor_identifier
    return name or ctx.deployment.issuer.name, identifier


def draw_authorization(
    ctx: ServiceContext,
    mandate: DirectDebitMandate,
    household: Household,
    *,
    signed_at: datetime,
    creditor: Creditor | None,
) -> AuthorizationFile | None:
    """Draw ``mandate``'s authorization through the plugins and put it in the document store;
    ``None`` when no plugin draws it."""
    name, identifier = _creditor(ctx, creditor)
    address = household.postal_address
    authorization = MandateAuthorization(
        mandate=mandate,
        creditor_name=name,
        creditor_identifier=identifier,
        creditor_address=ctx.deployment.issuer.address,
        debtor_address=address,
        place=address.city if address is not None else None,
        signed_at=signed_at,
    )
    drawn = ctx.plugin_manager.hook.canteen_render_mandate_authorization(
        authorization=authorization
    )
    content = next((bytes(result) for result in drawn if result is not None), None)
    if content is None:
        return None
    if not content.startswith(b"%PDF-"):
        raise ConfigurationError(
            "canteen_render_mandate_authorization must return a PDF", path="authorization"
        )
    store = ctx.document_store
    return AuthorizationFile(key=store.put(content, content_type=_PDF), content=content)


def discard(ctx: ServiceContext, drawn: AuthorizationFile | None, household_id: str) -> None:
    """Delete a drawn file whose use case failed, unless a paper of ``household_id`` names
    it after all (the commit went through before the error:
    :func:`~canteen_core.services.family_papers.discard_unrecorded`)."""
    if drawn is not None:
        discard_unrecorded(ctx.storage, ctx.document_store, drawn.key, household_id)


def authorization_paper(uow: UnitOfWork, mandate: DirectDebitMandate) -> FamilyPaper | None:
    """The paper filed for ``mandate`` (``None`` for a mandate signed without one)."""
    name = authorization_file_name(mandate.reference)
    return next(
        (
            paper
            for paper in uow.family_papers.list(household_id=mandate.household_id)
            if paper.kind is PaperKind.SEPA_MANDATE and paper.file_name == name
        ),
        None,
    )


def filed_paper(
    ctx: ServiceContext,
    actor: Actor,
    mandate: DirectDebitMandate,
    drawn: AuthorizationFile,
    *,
    paper_id: str,
    at: datetime,
) -> FamilyPaper:
    """The new paper holding ``drawn``, the authorization of ``mandate`` signed by ``actor``."""
    return FamilyPaper(
        id=paper_id,
        household_id=mandate.household_id,
        kind=PaperKind.SEPA_MANDATE,
        issued_on=mandate.signed_on,
        valid_from=mandate.signed_on,
        valid_until=mandate.revoked_on,
        file_name=authorization_file_name(mandate.reference),
        content_type=_PDF,
        size=len(drawn.content),
        sha256=hashlib.sha256(drawn.content).hexdigest(),
        store=ctx.document_store.name,
        blob_key=drawn.key,
        uploaded_by=actor.user_id,
        uploaded_at=at,
        status=PaperStatus.ACCEPTED,
        reviewed_by=_FILED_BY,
        reviewed_at=at,
    )


def refiled_paper(
    ctx: ServiceContext, paper: FamilyPaper, mandate: DirectDebitMandate, drawn: AuthorizationFile
) -> FamilyPaper:
    """``paper`` holding the authorization drawn again for the changed ``mandate``."""
    return attrs.evolve(
        paper,
        valid_until=mandate.revoked_on,
        size=len(drawn.content),
        sha256=hashlib.sha256(drawn.content).hexdigest(),
        store=ctx.document_store.name,
        blob_key=drawn.key,
    )


def forget_replaced(ctx: ServiceContext, paper: FamilyPaper | None) -> None:
    """Delete the former file of a re-drawn authorization, once the change committed (a file
    kept by another store is left alone)."""
    if paper is None or paper.store != ctx.document_store.name:
        return
    try:
        ctx.document_store.delete(paper.blob_key)
    except CanteenError:  # the change is committed; a leftover file is harmless
        return
