"""RGPD rights through the facade: a household's export gives every piece of its data, its
erasure keeps only the accounting documents, and is refused while an invoice is unpaid
(memory, SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import (
    CreditHeldError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.families import FamilyQuotient, Guardian, Household
from canteen_core.domain.money import Money
from canteen_core.services import Canteen

from ._billing_fixtures import (  # noqa: F401  (fixtures)
    BILLING_DAY,
    any_billing_canteen,
    any_bworld,
    book,
    september,
    shared_backend,
)
from ._world import ADMIN, FINANCE, PAYER, STAFF, World, build_world


def test_export_gives_every_category_of_the_household(
    any_billing_canteen: Canteen,  # noqa: F811  (the fixture: direct debit is configured)
) -> None:
    canteen = any_billing_canteen
    build_world(canteen)
    canteen.families.set_family_quotient(
        FINANCE, "concerto", FamilyQuotient(value=Decimal("450"), valid_from=date(2023, 9, 1))
    )
    canteen.payments.sign_mandate(PAYER, "concerto", iban="FR7630006000011234567890189")
    export = canteen.privacy.export_household(ADMIN, "concerto")
    data = export.data
    assert data["household"][0]["id"] == "concerto"
    assert {c["id"] for c in data["household"][0]["children"]} == {"alban", "zoe"}
    assert [q["value"] for q in data["household"][0]["quotients"]] == ["450"]
    assert {e["id"] for e in data["enrollments"]} == {"e-alban", "e-zoe"}
    assert len(data["mandates"]) == 1
    assert data["audit"]  # who did what on this household
    categories = {category.key: count for category, count in export.categories}
    assert categories["health"] == 2  # Alban's diet, Zoé's PAI
    assert categories["quotients"] == 1
    assert categories["mandates"] == 1
    json.dumps(export.as_json())  # machine-readable as it is
    # Nothing of the other household.
    assert "voisins" not in json.dumps(data["household"])
    assert all(e["household_id"] == "concerto" for e in data["enrollments"])
    # The export itself is logged.
    (logged,) = canteen.audit.entries(ADMIN, action="manage_personal_data")
    assert "export RGPD" in logged.summary


def test_erasure_is_refused_while_unpaid_then_keeps_only_accounting(
    any_bworld: World,  # noqa: F811  (the fixture)
    clock: FixedClock,
) -> None:
    canteen = any_bworld.canteen
    canteen.payments.sign_mandate(PAYER, "concerto", iban="FR7630006000011234567890189")
    book(canteen, any_bworld.alban, september(any_bworld.alban))
    clock.set(BILLING_DAY)
    report = canteen.billing.run_postpaid(FINANCE, "2023-09")
    invoice_id = next(i.invoice_id for i in report.issued if i.household_id == "concerto")
    before = canteen.privacy.export_household(ADMIN, "concerto").data
    with pytest.raises(RuleViolationError, match=r"effacement refusé.*impayée"):
        canteen.privacy.erase_household(ADMIN, "concerto")
    after = canteen.privacy.export_household(ADMIN, "concerto").data
    before.pop("audit")
    after.pop("audit")
    assert after == before  # nothing changed
    balance = canteen.billing.invoice(FINANCE, invoice_id).balance_due
    canteen.payments.record_payment(FINANCE, "concerto", balance, "cash", invoice_ids=[invoice_id])
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        queued = [r.message for r in uow.outbox.records()]
    mine = [m for m in queued if m.household_id == "concerto"]
    others = [m.id for m in queued if m not in mine]
    assert mine  # the invoice's e-mail at least
    erased = canteen.privacy.erase_household(ADMIN, "concerto")
    removed = dict(erased.removed)
    assert removed["courriels de la file d'envoi"] == len(mine)
    assert removed["inscriptions"] == 2
    assert removed["mandats de prélèvement"] == 1
    assert removed["réservations (jours)"] == len(september(any_bworld.alban))
    kept = {label: (count, why) for label, count, why in erased.kept}
    assert kept["factures"][0] == 1
    assert kept["paiements"][0] == 1
    assert "10 ans" in kept["paiements"][1]
    assert "courriels de la file d'envoi" not in kept
    assert any(line == "Foyer concerto effacé." for line in erased.lines())
    # Nothing else of the household: no household, enrollment, booking, mandate.
    with pytest.raises(NotFoundError):
        canteen.families.get(ADMIN, "concerto")
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        assert uow.enrollments.count(household_id="concerto") == 0
        assert uow.mandates.count(household_id="concerto") == 0
        assert uow.payment_requests.count(household_id="concerto") == 0
        assert list(uow.reservations.booked(enrollment_ids=["e-alban", "e-zoe"])) == []
        assert uow.attendance.count(household_id="concerto") == 0
        (invoice,) = uow.invoices.list(household_id="concerto")
        assert invoice.payer_name  # the payer's identity stays on the invoice
        # Its e-mails left the send queue; the other households' stay.
        assert [r.message.id for r in uow.outbox.records()] == others
    # The invoice and its payment are still there, paid.
    assert canteen.billing.invoice(FINANCE, invoice_id).balance_due == Money.zero()
    # The other household is untouched.
    assert canteen.families.get(ADMIN, "voisins").id == "voisins"
    assert {e.id for e in canteen.enrollments.of_household(ADMIN, "voisins")} == {"e-lea"}
    assert canteen.audit.verify(ADMIN).intact
    assert any("Effacement RGPD" in e.summary for e in canteen.audit.entries(ADMIN))
    # On SQLite and PostgreSQL, no other row of any table mentions the household.
    engine = getattr(canteen.context.storage, "engine", None)
    if engine is not None:
        found = set(_tables_mentioning(engine, "concerto"))
        assert {"invoices", "payments", "audit_log"} <= found <= ACCOUNTING_AND_AUDIT


#: Where an erased household still appears: its accounting documents and the audit trail.
ACCOUNTING_AND_AUDIT = {
    "invoices",
    "credit_notes",
    "payments",
    "refunds",
    "notifications_audit",
    "audit_log",
    "audit_households",
}


def _tables_mentioning(engine: sa.Engine, text: str) -> dict[str, int]:
    """Tables with rows whose columns, as text, contain ``text`` (case-insensitive)."""
    found = {}
    inspector = sa.inspect(engine)
    with engine.connect() as connection:
        for table in inspector.get_table_names():
            columns = [c["name"] for c in inspector.get_columns(table)]
            joined = " || '|' || ".join(
                f"coalesce(cast(\"{name}\" as text), '')" for name in columns
            )
            count = connection.execute(
                sa.text(f'SELECT count(*) FROM "{table}" WHERE lower({joined}) LIKE :t'),
                {"t": f"%{text.lower()}%"},
            ).scalar_one()
            if count:
                found[table] = count
    return found


def test_privacy_is_for_admin_only(memory_canteen: Canteen) -> None:
    build_world(memory_canteen)
    for actor in (STAFF, FINANCE, PAYER):
        with pytest.raises(NotAuthorizedError):
            memory_canteen.privacy.export_household(actor, "concerto")
        with pytest.raises(NotAuthorizedError):
            memory_canteen.privacy.erase_household(actor, "concerto")


def test_erasure_keeps_an_account_shared_with_another_household(any_canteen: Canteen) -> None:
    canteen = any_canteen
    build_world(canteen)
    canteen.accounts.invite_guardian(ADMIN, "concerto", "maman")  # CONCERTO's only
    canteen.accounts.invite(
        ADMIN,
        email="tuteur@exemple.fr",
        display_name="Tuteur des deux foyers",
        household_ids=["concerto", "voisins"],
        account_id="tuteur",
    )
    canteen.accounts.invite(
        ADMIN,
        email="agent-parent@ronde.fr",
        display_name="Agent et parent",
        roles=["staff", "guardian"],
        household_ids=["concerto"],
        account_id="agent-parent",
    )
    erased = canteen.privacy.erase_household(ADMIN, "concerto")
    removed = dict(erased.removed)
    assert removed["comptes du portail"] == 1  # maman's
    kept = {label: (count, why) for label, count, why in erased.kept}
    assert kept["comptes du portail partagés"][0] == 2
    assert "autre foyer" in kept["comptes du portail partagés"][1]
    assert any(
        line.startswith("Conservé : comptes du portail partagés (2) : ") for line in erased.lines()
    )
    assert "comptes du portail partagés" not in removed
    with pytest.raises(NotFoundError):
        canteen.accounts.get(ADMIN, "maman")
    # The shared accounts stay, for the other household only (or none: the staff's).
    assert canteen.accounts.get(ADMIN, "tuteur").household_ids == frozenset({"voisins"})
    assert canteen.accounts.get(ADMIN, "agent-parent").household_ids == frozenset()
    (entry,) = [e for e in canteen.audit.entries(ADMIN) if "Effacement RGPD" in e.summary]
    assert entry.changes[0].after["comptes du portail partagés"] == 2  # type: ignore[index]


def _paid_up_with_credit(world: World, clock: FixedClock) -> str:
    """CONCERTO billed 48.80 for September and paid 60.00: its invoice is paid, 11.20 of
    credit left (the family's money)."""
    canteen = world.canteen
    book(canteen, world.alban, september(world.alban))
    clock.set(BILLING_DAY)
    canteen.billing.run_postpaid(FINANCE, "2023-09")
    canteen.payments.record_payment(FINANCE, "concerto", "60.00", "cash")
    return "concerto"


def test_erasure_is_refused_while_the_household_holds_credit_then_done_once_refunded(
    any_bworld: World,  # noqa: F811  (the fixture)
    clock: FixedClock,
) -> None:
    canteen = any_bworld.canteen
    _paid_up_with_credit(any_bworld, clock)
    before = canteen.privacy.export_household(ADMIN, "concerto").data
    with pytest.raises(CreditHeldError, match=r"effacement refusé.*avoir de 11,20 €") as refused:
        canteen.privacy.erase_household(ADMIN, "concerto")
    assert (refused.value.household_id, refused.value.credit) == ("concerto", Decimal("11.20"))
    after = canteen.privacy.export_household(ADMIN, "concerto").data
    before.pop("audit")
    after.pop("audit")
    assert after == before  # nothing changed
    canteen.payments.refund(FINANCE, "concerto", "11.20")
    erased = canteen.privacy.erase_household(ADMIN, "concerto")
    kept = {label: count for label, count, _ in erased.kept}
    assert kept["remboursements"] == 1


def test_removing_a_household_is_refused_while_it_holds_credit(
    memory_canteen: Canteen,
) -> None:
    canteen = memory_canteen
    build_world(canteen)
    payer = Guardian(id="seul", first_name="Paul", last_name="Seul")
    canteen.families.create_household(ADMIN, Household(id="seul", payer=payer))
    canteen.payments.record_payment(FINANCE, "seul", "10.00", "cash")  # an advance
    with pytest.raises(CreditHeldError, match=r"suppression refusée.*avoir de 10,00 €"):
        canteen.families.remove_household(ADMIN, "seul")
    assert canteen.families.get(ADMIN, "seul").id == "seul"
    canteen.payments.refund(FINANCE, "seul", "10.00", method="cash")
    canteen.families.remove_household(ADMIN, "seul")
    with pytest.raises(NotFoundError):
        canteen.families.get(ADMIN, "seul")


def test_erasure_waits_for_a_scheduled_direct_debit_to_be_collected(
    any_bworld: World,  # noqa: F811  (the fixture: direct debit is configured)
    clock: FixedClock,
) -> None:
    canteen = any_bworld.canteen
    canteen.payments.sign_mandate(PAYER, "concerto", iban="FR7630006000011234567890189")
    book(canteen, any_bworld.alban, september(any_bworld.alban))
    clock.set(BILLING_DAY)
    canteen.billing.run_postpaid(FINANCE, "2023-09")
    canteen.payments.run_direct_debit(FINANCE, date(2023, 10, 20))
    # The debit may still come back unpaid: the household is not paid up yet.
    with pytest.raises(RuleViolationError, match=r"effacement refusé.*1 facture\(s\) impayée"):
        canteen.privacy.erase_household(ADMIN, "concerto")
    clock.set(datetime(2023, 10, 21, 8, 0, tzinfo=UTC))
    canteen.privacy.erase_household(ADMIN, "concerto")
