"""The audit entry's rules (pure): a household's share of a bulk entry, and the hash of
entries written before changes named their household."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_core.domain.audit import (
    AuditEntry,
    AuditHead,
    AuditKind,
    FieldChange,
    chain_entry,
    verify_chain,
)
from canteen_core.domain.errors import InvalidInputError

HOUSEHOLDS = ("h1", "h2", "h3")


def _entry(changes: list[FieldChange], households: tuple[str, ...]) -> AuditEntry:
    return AuditEntry(
        commune="RONDE",
        sequence=1,
        id="e1",
        recorded_at=datetime(2023, 9, 1, tzinfo=UTC),
        actor_id="admin",
        actor_roles=("admin",),
        action="manage_households",
        kind=AuditKind.CHANGE,
        household_ids=households,
        changes=changes,
    )


changes_strategy = st.lists(
    st.builds(
        FieldChange,
        entity=st.sampled_from(["household:h1", "household:h2", "invoice:F1", "tariff:g"]),
        field=st.just("quotients"),
        after=st.integers(0, 9),
        household_id=st.sampled_from([None, *HOUSEHOLDS]),
    ),
    max_size=12,
)


@given(
    changes=changes_strategy,
    households=st.sets(st.sampled_from(HOUSEHOLDS), min_size=1).map(sorted),
    wanted=st.sampled_from(HOUSEHOLDS),
)
def test_a_household_sees_its_changes_only_and_counts_the_rest(
    changes: list[FieldChange], households: list[str], wanted: str
) -> None:
    entry = _entry(changes, tuple(households))
    mine, others = entry.changes_for(wanted)
    assert len(mine) + others == len(entry.changes)
    if wanted not in households:
        assert mine == ()
    elif len(households) == 1:
        assert mine == entry.changes  # an entry about one household concerns it whole
    else:
        for change in mine:  # never another household's change
            assert change.household_id in (wanted, None)
            assert change.household_id == wanted or change.entity == f"household:{wanted}"


def test_a_change_without_household_keeps_the_hash_it_had() -> None:
    # Entries stored before changes named their household verify as before: the field is
    # left out of the canonical JSON when absent.
    plain = FieldChange(entity="household:h1", field="quotients", after=1)
    assert "household_id" not in plain.as_json()
    linked = chain_entry(_entry([plain], ("h1",)), None)
    assert '"household_id"' not in linked.canonical()
    named = FieldChange(entity="household:h1", field="quotients", after=1, household_id="h1")
    other = chain_entry(_entry([named], ("h1",)), None)
    assert other.hash != linked.hash
    assert verify_chain("RONDE", [linked]).intact
    assert verify_chain("RONDE", [other]).intact
    rebuilt = AuditEntry.from_columns(
        {
            "commune": other.commune,
            "sequence": other.sequence,
            "id": other.id,
            "recorded_at": other.recorded_at,
            "actor_id": other.actor_id,
            "action": other.action,
            "kind": other.kind.value,
            "previous_hash": other.previous_hash,
            "hash": other.hash,
        },
        other.details(),
    )
    assert rebuilt == other


def test_an_entry_links_to_the_chain_head_as_to_the_last_entry() -> None:
    # The core links a new entry to the head (sequence and hash) the storage reads without
    # the last entry's changes: the linked entry is the same as when linked to that entry.
    first = chain_entry(_entry([FieldChange(entity="household:h1", field="f", after=1)], ()), None)
    head = AuditHead.of(first)
    assert head == AuditHead(commune="RONDE", sequence=1, hash=first.hash)
    draft = attrs.evolve(_entry([], ("h1",)), id="e2")
    assert chain_entry(draft, head) == chain_entry(draft, first)
    assert verify_chain("RONDE", [first, chain_entry(draft, head)]).intact
    with pytest.raises(InvalidInputError):
        chain_entry(attrs.evolve(draft, commune="NORD"), head)
