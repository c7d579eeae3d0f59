# ruff: noqa: F811  (fixtures imported from _billing_fixtures are used as arguments)
"""The signed SEPA authorization: drawn and filed in the household's papers when a family signs
a mandate, drawn again when the account changes or the mandate is revoked (memory, SQLite and
PostgreSQL, through the facade)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
from pypdf import PdfReader

from canteen_adapters.documents.mandate import render_mandate_authorization
from canteen_core.config.hookspecs import hookimpl
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import (
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.family_papers import PaperKind, PaperStatus
from canteen_core.domain.mandate_authorization import MandateAuthorization
from canteen_core.domain.mandates import DirectDebitMandate
from canteen_core.domain.paperless import PostalAddress
from canteen_core.services import Canteen
from canteen_core.services.payments import PaymentOptions, PaymentService
from canteen_core.services.retention import RetentionReport

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    FAMILY_IBAN,
    any_billing_canteen,
    any_bworld,
    memory_billing_canteen,
    memory_bworld,
)
from ._world import ADMIN, FINANCE, OTHER, PAYER, STAFF, World

MASKED = "FR14 **** **** **** **** ***2 606"
NEW_IBAN = "FR7630006000011234567890189"
NEW_MASKED = "FR76 **** **** **** **** ***0 189"


def _text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _papers(canteen: Canteen) -> list[tuple[str, str]]:
    return [(p.kind.value, p.file_name) for p in canteen.papers.of_household(ADMIN, "concerto")]


def test_signing_files_the_authorization(any_bworld: World) -> None:
    canteen = any_bworld.canteen
    canteen.paperless.set_postal_address(
        PAYER, "concerto", PostalAddress(street="3 rue des Lilas", postcode="75012", city="Paris")
    )
    mandate = canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN, bic="BNPAFRPP")
    (paper,) = canteen.papers.of_household(PAYER, "concerto")
    assert paper.kind is PaperKind.SEPA_MANDATE
    assert paper.status is PaperStatus.ACCEPTED  # filed by canteen: nothing to review
    assert paper.file_name == f"mandat-sepa-{mandate.reference}.pdf"
    assert (paper.issued_on, paper.valid_from, paper.valid_until) == (
        mandate.signed_on,
        mandate.signed_on,
        None,
    )
    assert paper.uploaded_by == PAYER.user_id
    assert canteen.papers.to_review(STAFF) == ()

    text = _text(canteen.papers.download(PAYER, paper.id).content)
    assert "MANDAT DE PRÉLÈVEMENT SEPA" in text
    assert mandate.reference in text
    assert "FR72ZZZ123456" in text  # the creditor identifier (ICS)
    assert "Régie de restauration scolaire de Ronde" in text
    assert MASKED in text
    assert FAMILY_IBAN not in text.replace(" ", "")
    assert "BNPAFRPP" in text
    assert "Paiement récurrent/répétitif" in text
    assert "8 semaines" in text
    assert f"à Paris (en ligne), le {mandate.signed_on:%d/%m/%Y}" in text
    assert "3 rue des Lilas, 75012 PARIS" in text

    # Staff see it and download it; another household does not.
    assert canteen.papers.download(FINANCE, paper.id).content.startswith(b"%PDF-")
    assert [p.id for p in canteen.papers.of_household(STAFF, "concerto")] == [paper.id]
    with pytest.raises(NotFoundError):
        canteen.papers.download(OTHER, paper.id)


def test_a_change_of_account_and_the_revocation_are_drawn_on_it(any_bworld: World) -> None:
    canteen = any_bworld.canteen
    store = canteen.context.document_store
    mandate = canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN)
    (signed,) = canteen.papers.of_household(PAYER, "concerto")

    canteen.payments.change_mandate_iban(
        PAYER, "concerto", iban=NEW_IBAN, changed_on=date(2023, 9, 20)
    )
    (changed,) = canteen.papers.of_household(PAYER, "concerto")
    assert changed.id == signed.id
    assert changed.blob_key != signed.blob_key
    with pytest.raises(NotFoundError):
        store.get(signed.blob_key)  # the former file is gone
    text = _text(canteen.papers.download(PAYER, changed.id).content)
    assert NEW_MASKED in text
    assert MASKED not in text  # never collected: no amendment to tell the bank about
    assert mandate.reference in text

    revoked = canteen.payments.revoke_mandate(PAYER, "concerto", on=date(2023, 10, 3))
    (paper,) = canteen.papers.of_household(PAYER, "concerto")
    assert paper.valid_until == revoked.revoked_on == date(2023, 10, 3)
    assert paper.status is PaperStatus.ACCEPTED
    assert "MANDAT RÉVOQUÉ LE 03/10/2023" in _text(canteen.papers.download(STAFF, paper.id).content)

    # A new mandate gets its own authorization; the revoked one stays.
    second = canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN)
    assert sorted(_papers(canteen)) == sorted(
        [
            ("mandat_sepa", f"mandat-sepa-{mandate.reference}.pdf"),
            ("mandat_sepa", f"mandat-sepa-{second.reference}.pdf"),
        ]
    )


def test_refused_input_files_nothing(memory_bworld: World) -> None:
    canteen = memory_bworld.canteen
    store = canteen.context.document_store
    with pytest.raises(InvalidInputError):
        canteen.payments.sign_mandate(PAYER, "concerto", iban="FR14 2004 1010 0505 0001 3M02 607")
    with pytest.raises(InvalidInputError):
        canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN, reference="RUM é")
    assert _papers(canteen) == []
    assert len(store) == 0  # the memory store counts its blobs

    canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN)
    with pytest.raises(RuleViolationError):
        canteen.payments.sign_mandate(PAYER, "concerto", iban=NEW_IBAN)
    with pytest.raises(InvalidInputError):
        canteen.payments.change_mandate_iban(PAYER, "concerto", iban="FR76 3000 6000 0112")
    assert len(_papers(canteen)) == 1
    assert len(store) == 1

    # A family never uploads one: canteen files it.
    with pytest.raises(InvalidInputError, match="ne se dépose pas"):
        canteen.papers.upload(
            PAYER,
            "concerto",
            kind="mandat_sepa",
            content=canteen.papers.download(
                PAYER, canteen.papers.of_household(PAYER, "concerto")[0].id
            ).content,
            file_name="mandat.pdf",
            issued_on=date(2023, 9, 1),
        )
    assert len(store) == 1


class _Broken:
    @hookimpl
    def canteen_render_mandate_authorization(self, authorization: MandateAuthorization) -> bytes:
        raise RuntimeError("printer on fire")


class _NotPdf:
    @hookimpl
    def canteen_render_mandate_authorization(self, authorization: MandateAuthorization) -> bytes:
        return b"hello"


class _Own:
    @hookimpl
    def canteen_render_mandate_authorization(self, authorization: MandateAuthorization) -> bytes:
        return b"%PDF-1.4 own letterhead " + authorization.mandate.reference.encode()


def test_a_failing_drawing_refuses_the_signature(memory_bworld: World) -> None:
    canteen = memory_bworld.canteen
    manager = canteen.context.plugin_manager
    for plugin, error in ((_Broken(), RuntimeError), (_NotPdf(), InvalidInputError)):
        manager.register(plugin)
        with pytest.raises(error):
            canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN)
        manager.unregister(plugin)
        assert canteen.payments.mandates(ADMIN, "concerto") == []
        assert _papers(canteen) == []
        assert len(canteen.context.document_store) == 0


def test_a_deployment_plugin_overrides_the_built_in_and_none_means_no_document(
    memory_bworld: World,
) -> None:
    canteen = memory_bworld.canteen
    manager = canteen.context.plugin_manager
    manager.register(_Own())
    mandate = canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN)
    (paper,) = canteen.papers.of_household(PAYER, "concerto")
    content = canteen.papers.download(PAYER, paper.id).content
    assert content == b"%PDF-1.4 own letterhead " + mandate.reference.encode()

    canteen.payments.revoke_mandate(PAYER, "concerto")
    for plugin in list(manager.get_plugins()):
        if manager.get_name(plugin) in {"canteen_adapters.documents.mandate"} or isinstance(
            plugin, _Own
        ):
            manager.unregister(plugin)
    again = canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN)
    assert again.reference != mandate.reference
    assert len(_papers(canteen)) == 1  # no plugin drew one: the mandate is signed without it
    canteen.payments.revoke_mandate(PAYER, "concerto")


def test_the_drawing_of_an_amended_and_revoked_mandate() -> None:
    mandate = DirectDebitMandate(
        reference="RUM-RONDE-1",
        household_id="concerto",
        debtor_name="Marie CONCERTO",
        iban=FAMILY_IBAN,
        signed_on=date(2023, 9, 1),
        first_collected_on=date(2023, 10, 20),
        last_collected_on=date(2023, 10, 20),
    )
    amended = mandate.with_new_iban(NEW_IBAN, changed_on=date(2023, 11, 2))
    authorization = MandateAuthorization(
        mandate=amended.revoke(date(2023, 12, 1), final_collection=True),
        creditor_name="Régie de Ronde",
        signed_at=datetime(2023, 9, 1, 18, 30, tzinfo=UTC),
    )
    text = _text(render_mandate_authorization(authorization))
    assert f"modifiées le 02/11/2023 (ancien IBAN : {MASKED})" in text
    assert NEW_MASKED in text
    assert "MANDAT RÉVOQUÉ LE 01/12/2023 ; un dernier prélèvement reste présenté" in text
    # Paris time; without the debtor's postal address, the place is the portal.
    assert "Signé en ligne, le 01/09/2023 à 20:30" in text
    assert "communiqué avec le premier avis de prélèvement" in text  # no ICS configured
    assert render_mandate_authorization(authorization) == render_mandate_authorization(
        authorization
    )
    with pytest.raises(InvalidInputError):
        render_mandate_authorization(mandate)  # type: ignore[arg-type]


def test_retention_keeps_a_mandate_in_force(memory_bworld: World, clock: FixedClock) -> None:
    """A signed mandate is not a reviewed upload: kept while in force, then
    ``documents_days_after_review`` (90) days after its revocation."""
    canteen = memory_bworld.canteen
    canteen.payments.sign_mandate(PAYER, "concerto", iban=FAMILY_IBAN)
    (first,) = canteen.papers.of_household(PAYER, "concerto")
    clock.advance(days=200)
    assert _ids(canteen.retention.run(ADMIN, apply=True)) == ()
    revoked_on = clock.now().date()
    canteen.payments.revoke_mandate(PAYER, "concerto", on=revoked_on)
    second = canteen.payments.sign_mandate(PAYER, "concerto", iban=NEW_IBAN)
    clock.advance(days=90)
    assert _ids(canteen.retention.run(ADMIN, apply=True)) == ()
    clock.advance(days=1)
    (gone,) = _ids(canteen.retention.run(ADMIN, apply=True))
    assert _papers(canteen) == [("mandat_sepa", f"mandat-sepa-{second.reference}.pdf")]
    assert gone == first.id
    assert len(canteen.context.document_store) == 1


def _ids(report: RetentionReport) -> tuple[str, ...]:
    return next(item.ids for item in report.items if item.key == "documents")


def test_no_mandate_is_signed_where_direct_debit_is_not_configured(world: World) -> None:
    """Walkthrough: a family could sign a SEPA mandate on a deployment without
    ``[payment.sepa]``: nothing would ever collect it. It is refused in French (after the
    authorization: another family still gets "accès refusé"), and nothing is stored."""
    canteen = world.canteen
    assert not canteen.payments.offers_direct_debit()
    entries = canteen.audit.entries(ADMIN)
    with pytest.raises(NotAuthorizedError):
        canteen.payments.sign_mandate(OTHER, "concerto", iban=FAMILY_IBAN)
    for actor in (PAYER, FINANCE):
        with pytest.raises(RuleViolationError) as refused:
            canteen.payments.sign_mandate(actor, "concerto", iban=FAMILY_IBAN)
        assert "prélèvement automatique n'est pas proposé" in str(refused.value)
    assert canteen.payments.mandates(FINANCE, "concerto") == []
    assert _papers(canteen) == []
    assert [e for e in canteen.audit.entries(ADMIN) if e.kind.value == "change"] == [
        e for e in entries if e.kind.value == "change"
    ]


def test_a_provider_given_to_the_service_offers_direct_debit(memory_bworld: World) -> None:
    canteen = memory_bworld.canteen
    assert canteen.payments.offers_direct_debit()  # [payment.sepa] configured
    bare = PaymentService(canteen.context, PaymentOptions(sepa_provider="bank-x"))
    assert not bare.offers_direct_debit()
    given = PaymentService(
        canteen.context, PaymentOptions(sepa_provider="bank-x"), providers={"bank-x": object()}
    )
    assert given.offers_direct_debit()
