"""The audit log contract: what every storage's ``uow.audit`` guarantees, as tests.

Run it like the storage contract (:mod:`canteen_core.testing.storage_contract`): import the
tests into a test module that has a ``storage`` fixture returning an empty storage::

    from canteen_core.testing.audit_contract import *  # noqa: F403  (the contract's tests)

The tests use only the ports: entries read back equal (their hashes still check out), come
in sequence order, filter by household, actor, action and period, roll back with their
transaction, refuse a taken sequence, the chain's head is its last entry's sequence and hash
(what the core links the next entry to), and the retention cut removes only the chain's
oldest part, which stays verifiable.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from canteen_core.domain.audit import (
    AuditEntry,
    AuditHead,
    AuditKind,
    FieldChange,
    chain_entry,
    verify_chain,
)
from canteen_core.domain.errors import ConflictError
from canteen_core.ports.storage import Storage

__all__ = [
    "test_audit_entries_filter_by_household_actor_action_and_period",
    "test_audit_entries_read_back_equal_and_chained",
    "test_audit_entries_roll_back_with_their_transaction",
    "test_audit_head_is_the_last_entrys_sequence_and_hash",
    "test_audit_head_keeps_communes_apart_whatever_their_code",
    "test_audit_head_links_entries_into_a_verifiable_chain",
    "test_audit_log_refuses_a_taken_sequence",
    "test_audit_retention_cut_keeps_a_verifiable_chain",
]

COMMUNE = "RONDE"
T0 = datetime(2023, 9, 1, 8, 0, tzinfo=UTC)


def _draft(number: int, **changes: object) -> AuditEntry:
    fields: dict[str, object] = {
        "commune": COMMUNE,
        "sequence": 1,
        "id": f"entry-{number}",
        "recorded_at": T0 + timedelta(hours=number),
        "actor_id": "admin" if number % 2 else "regisseur",
        "actor_roles": ("admin",) if number % 2 else ("finance",),
        "action": "manage_households" if number % 2 else "manage_family_quotient",
        "kind": AuditKind.CHANGE,
        "household_ids": ("concerto",) if number < 3 else ("concerto", "voisins"),
        "entity_ids": (f"household:concerto-{number}",),
        "changes": (
            FieldChange(
                entity="household:concerto",
                field="quotients",
                before=[{"value": "450.00", "valid_from": "2023-09-01"}],
                after={"note": "é € 😀", "n": number, "flag": True, "none": None},
            ),
        ),
        "summary": f"Entrée n° {number}",
    }
    fields.update(changes)
    return AuditEntry(**fields)  # type: ignore[arg-type]


def _append(storage: Storage, *numbers: int) -> list[AuditEntry]:
    stored = []
    with storage.unit_of_work() as uow:
        for number in numbers:
            entry = chain_entry(_draft(number), uow.audit.head(COMMUNE))
            uow.audit.append(entry)
            stored.append(entry)
        uow.commit()
    return stored


def test_audit_entries_read_back_equal_and_chained(storage: Storage) -> None:
    stored = _append(storage, 1, 2, 3)
    with storage.unit_of_work(read_only=True) as uow:
        read = list(uow.audit.entries(COMMUNE))
        assert uow.audit.last(COMMUNE) == stored[-1]
        assert uow.audit.first(COMMUNE) == stored[0]
        assert uow.audit.last("AUTRE") is None
    assert read == stored
    assert [entry.sequence for entry in read] == [1, 2, 3]
    assert verify_chain(COMMUNE, read).intact


def test_audit_head_is_the_last_entrys_sequence_and_hash(storage: Storage) -> None:
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.audit.head(COMMUNE) is None
    stored = _append(storage, 1, 2, 3)
    expected = AuditHead(commune=COMMUNE, sequence=3, hash=stored[-1].hash)
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.audit.head(COMMUNE) == expected
        assert uow.audit.head(COMMUNE) == AuditHead.of(stored[-1])
        assert uow.audit.head("AUTRE") is None
    with storage.unit_of_work() as uow:  # in a writable unit of work too (where it locks)
        assert uow.audit.head(COMMUNE) == expected
        fourth = chain_entry(_draft(4), uow.audit.head(COMMUNE))
        uow.audit.append(fourth)
        # The unit of work sees its own entry; a rollback takes it away again.
        assert uow.audit.head(COMMUNE) == AuditHead.of(fourth)
        assert fourth.sequence == 4
        uow.rollback()
    with storage.unit_of_work() as uow:
        assert uow.audit.head(COMMUNE) == expected
        assert uow.audit.cut_before(COMMUNE, 3) == 2
        assert uow.audit.head(COMMUNE) == expected  # the cut keeps the chain's end
        uow.commit()


def test_audit_head_keeps_communes_apart_whatever_their_code(storage: Storage) -> None:
    # Codes a backend must not take for syntax (quotes, a percent sign, braces, a
    # semicolon, a backslash): each names its own chain, found again as written.
    communes = ("L'Haÿ-les-Roses", "100%; --{0}", "C:\\x\\'", COMMUNE)
    with storage.unit_of_work() as uow:
        for round_ in (1, 2):
            for index, commune in enumerate(communes):
                draft = _draft(10 * round_ + index, commune=commune)
                uow.audit.append(chain_entry(draft, uow.audit.head(commune)))
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        for commune in communes:
            entries = list(uow.audit.entries(commune))
            assert [entry.sequence for entry in entries] == [1, 2]
            assert {entry.commune for entry in entries} == {commune}
            assert verify_chain(commune, entries).intact
            assert uow.audit.head(commune) == AuditHead.of(entries[-1])
        assert uow.audit.head("L'Haÿ") is None


def test_audit_head_links_entries_into_a_verifiable_chain(storage: Storage) -> None:
    # Linked to the head or to the last entry, an entry is the same: a chain mixing both
    # verifies.
    with storage.unit_of_work() as uow:
        first = chain_entry(_draft(1), uow.audit.head(COMMUNE))
        uow.audit.append(first)
        second = chain_entry(_draft(2), uow.audit.last(COMMUNE))
        uow.audit.append(second)
        third = chain_entry(_draft(3), uow.audit.head(COMMUNE))
        uow.audit.append(third)
        uow.commit()
    assert first.sequence == 1
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    assert third == chain_entry(_draft(3), second)
    with storage.unit_of_work(read_only=True) as uow:
        assert verify_chain(COMMUNE, uow.audit.entries(COMMUNE)).intact


def test_audit_entries_filter_by_household_actor_action_and_period(storage: Storage) -> None:
    _append(storage, 1, 2, 3, 4)
    with storage.unit_of_work(read_only=True) as uow:

        def ids(**where: object) -> list[str]:
            return [entry.id for entry in uow.audit.entries(COMMUNE, **where)]  # type: ignore[arg-type]

        assert ids(household_id="voisins") == ["entry-3", "entry-4"]
        assert ids(household_id="concerto") == ["entry-1", "entry-2", "entry-3", "entry-4"]
        assert ids(actor_id="regisseur") == ["entry-2", "entry-4"]
        assert ids(action="manage_households") == ["entry-1", "entry-3"]
        assert ids(since=T0 + timedelta(hours=2), until=T0 + timedelta(hours=3)) == [
            "entry-2",
            "entry-3",
        ]
        assert ids(after_sequence=3) == ["entry-4"]
        assert ids(household_id="nobody") == []


def test_audit_entries_roll_back_with_their_transaction(storage: Storage) -> None:
    _append(storage, 1)
    with storage.unit_of_work() as uow:
        uow.audit.append(chain_entry(_draft(2), uow.audit.head(COMMUNE)))
        uow.rollback()
    with storage.unit_of_work(read_only=True) as uow:
        assert [entry.id for entry in uow.audit.entries(COMMUNE)] == ["entry-1"]


def test_audit_log_refuses_a_taken_sequence(storage: Storage) -> None:
    (first,) = _append(storage, 1)
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError):
            uow.audit.append(chain_entry(_draft(2), None))  # number 1 again
        with pytest.raises(ConflictError):
            uow.audit.append(chain_entry(_draft(1), first))  # same id
        # The unit of work stays usable after the refusal.
        uow.audit.append(chain_entry(_draft(2), uow.audit.last(COMMUNE)))
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert [entry.sequence for entry in uow.audit.entries(COMMUNE)] == [1, 2]


def test_audit_retention_cut_keeps_a_verifiable_chain(storage: Storage) -> None:
    _append(storage, 1, 2, 3, 4)
    with storage.unit_of_work() as uow:
        assert uow.audit.cut_before(COMMUNE, 3) == 2
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        kept = list(uow.audit.entries(COMMUNE))
        assert list(uow.audit.entries(COMMUNE, household_id="voisins")) == kept
    assert [entry.sequence for entry in kept] == [3, 4]
    assert verify_chain(COMMUNE, kept).intact
