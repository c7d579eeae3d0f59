"""The audit trail through the facade: one entry per state-changing use case, with its actor,
instant, household and before/after; staff reads of health and bank data logged; the hash
chain detects a row edited behind canteen's back (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from canteen_core.domain.audit import AuditKind
from canteen_core.domain.errors import NotAuthorizedError, NotFoundError
from canteen_core.domain.families import FamilyQuotient
from canteen_core.services import Canteen

from ._billing_fixtures import billing_canteen, bworld  # noqa: F401  (fixtures)
from ._world import ADMIN, FINANCE, PAYER, STAFF, World, build_world


def test_who_enrolled_this_child_and_who_changed_this_qf(world: World) -> None:
    canteen = world.canteen
    canteen.families.set_family_quotient(
        FINANCE, "concerto", FamilyQuotient(value=Decimal("450"), valid_from=date(2023, 9, 1))
    )
    canteen.families.set_family_quotient(
        FINANCE, "concerto", FamilyQuotient(value=Decimal("620"), valid_from=date(2024, 1, 1))
    )
    enrolled = canteen.audit.entries(ADMIN, household_id="concerto", action="manage_enrollments")
    zoe = [e for e in enrolled if "enrollment:e-zoe" in e.entity_ids]
    assert len(zoe) == 1
    assert zoe[0].actor_id == "admin"
    assert zoe[0].actor_roles == ("admin",)
    assert zoe[0].recorded_at.tzinfo is UTC
    (change,) = zoe[0].changes
    assert change.before is None
    assert change.after["child_id"] == "zoe"

    qf = canteen.audit.entries(ADMIN, household_id="concerto", action="manage_family_quotient")
    assert [e.actor_id for e in qf] == ["regisseur", "regisseur"]
    (last,) = qf[-1].changes
    assert last.field == "quotients"
    assert [q["value"] for q in last.before] == ["450"]  # type: ignore[union-attr,index]
    assert [q["value"] for q in last.after] == ["450", "620"]  # type: ignore[union-attr,index]
    assert last.after[0]["valid_until"] == "2023-12-31"  # type: ignore[index]
    assert "620" in qf[-1].summary
    # Filters: the other household's entries are not the CONCERTO's.
    assert all(
        "concerto" in e.household_ids for e in canteen.audit.entries(ADMIN, household_id="concerto")
    )
    assert canteen.audit.entries(ADMIN, actor_id="regisseur") == qf
    assert canteen.audit.verify(ADMIN).intact


def test_a_refused_use_case_writes_no_entry(world: World) -> None:
    canteen = world.canteen
    before = canteen.audit.entries(ADMIN)
    with pytest.raises(NotFoundError):
        canteen.families.set_family_quotient(
            FINANCE, "nobody", FamilyQuotient(value=Decimal("450"), valid_from=date(2023, 9, 1))
        )
    assert canteen.audit.entries(ADMIN) == before


def test_staff_reads_of_health_and_bank_data_are_logged(
    bworld: World,  # noqa: F811  (the fixture: direct debit is configured)
) -> None:
    canteen = bworld.canteen
    canteen.payments.sign_mandate(PAYER, "concerto", iban="FR7630006000011234567890189")
    canteen.families.get(PAYER, "concerto")  # the family's own read: not logged
    canteen.families.dashboard(STAFF, "concerto")
    canteen.payments.mandates(FINANCE, "concerto")
    reads = [
        e for e in canteen.audit.entries(ADMIN, household_id="concerto") if e.kind is AuditKind.READ
    ]
    assert [(e.actor_id, e.summary) for e in reads] == [
        ("agent", "Consultation : données de santé (PAI, régimes)"),
        ("regisseur", "Consultation : coordonnées bancaires (mandats SEPA)"),
    ]
    (signed,) = canteen.audit.entries(ADMIN, action="manage_direct_debit")
    assert signed.actor_id == "maman"
    assert signed.changes[0].after == "FR…0189"  # the audit trail keeps no whole IBAN


def test_the_audit_trail_is_for_admin_only(world: World) -> None:
    for actor in (STAFF, FINANCE, PAYER):
        with pytest.raises(NotAuthorizedError):
            world.canteen.audit.entries(actor)
        with pytest.raises(NotAuthorizedError):
            world.canteen.audit.verify(actor)


@pytest.mark.parametrize(
    "any_backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_the_chain_check_names_an_edited_row(any_canteen: Canteen) -> None:
    canteen = any_canteen
    build_world(canteen)
    canteen.families.set_family_quotient(
        FINANCE, "concerto", FamilyQuotient(value=Decimal("450"), valid_from=date(2023, 9, 1))
    )
    entries = canteen.audit.entries(ADMIN)
    assert canteen.audit.verify(ADMIN).intact
    target = entries[2]
    engine = canteen.context.storage.engine  # type: ignore[attr-defined]
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE audit_log SET actor_id = 'intrus' WHERE id = :id"), {"id": target.id}
        )
    report = canteen.audit.verify(ADMIN)
    assert not report.intact
    assert (report.broken_sequence, report.broken_id) == (target.sequence, target.id)
    assert report.checked == target.sequence - 1
    assert "altéré à l'entrée n° 3" in report.message()
    with engine.begin() as connection:  # put it back, then remove an entry in the middle
        connection.execute(
            sa.text("UPDATE audit_log SET actor_id = :a WHERE id = :id"),
            {"a": target.actor_id, "id": target.id},
        )
    assert canteen.audit.verify(ADMIN).intact
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM audit_households WHERE sequence = 2"))
        connection.execute(sa.text("DELETE FROM audit_log WHERE sequence = 2"))
    report = canteen.audit.verify(ADMIN)
    assert report.broken_sequence == 3
    assert "manquante" in report.reason


def test_audit_instants_are_the_use_case_clock(world: World) -> None:
    entries = world.canteen.audit.entries(
        ADMIN, since=datetime(2023, 9, 1, tzinfo=UTC), until=datetime(2023, 9, 2, tzinfo=UTC)
    )
    assert entries
    assert all(e.recorded_at == datetime(2023, 9, 1, 8, 0, tzinfo=UTC) for e in entries)
