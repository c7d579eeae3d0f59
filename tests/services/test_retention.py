"""The retention run: a dry run reports and changes nothing; applied, it removes inactive
family accounts, clears children's health data after their last enrollment, cuts the audit
chain's oldest part (still verifiable); on memory, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from canteen_core.config.deployment import Deployment
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import ConfigurationError, NotAuthorizedError
from canteen_core.domain.families import Diet
from canteen_core.services import Canteen

from ._world import ADMIN, FINANCE, SYSTEM, build_world

#: 15 August 2025: the 2023-24 enrollments ended 13 months ago, the accounts were made 714
#: days ago (not yet 730), the first audit entries are two years old.
LATER = datetime(2025, 8, 15, 8, 0, tzinfo=UTC)


def test_a_dry_run_reports_and_changes_nothing_then_apply_removes(
    any_canteen: Canteen, clock: FixedClock
) -> None:
    canteen = any_canteen
    build_world(canteen)
    canteen.accounts.invite_guardian(ADMIN, "concerto", "maman")
    entries_before = canteen.audit.entries(ADMIN)
    clock.set(LATER)
    dry = canteen.retention.run(SYSTEM)
    counts = {item.key: item.count for item in dry.items}
    assert counts == {"accounts": 0, "health": 3, "documents": 0, "audit": len(entries_before)}
    assert "Simulation" in dry.lines()[-1]
    assert canteen.audit.entries(ADMIN) == entries_before  # nothing changed, nothing logged
    assert canteen.families.get(ADMIN, "concerto").children[1].pai
    clock.set(datetime(2025, 10, 1, 8, 0, tzinfo=UTC))  # the account is now 2 years + 1 month old
    applied = canteen.retention.run(ADMIN, apply=True)
    counts = {item.key: item.count for item in applied.items}
    assert counts["accounts"] == 1
    assert counts["health"] == 3
    children = canteen.families.get(ADMIN, "concerto").children
    assert [(c.diet, c.pai) for c in children] == [(Diet.STANDARD, False)] * 2
    assert [c.first_name for c in children] == ["Alban", "Zoé"]  # only health data went
    with canteen.context.storage.unit_of_work(read_only=True) as uow:
        assert uow.accounts.get("maman") is None
    kept = canteen.audit.entries(ADMIN)
    (applied_entry,) = [e for e in kept if e.action == "apply_retention"]
    # Every entry older than the retention went, and only those: the chain now starts right
    # after the last old entry.
    assert kept[0].sequence == entries_before[-1].sequence + 1
    report = canteen.audit.verify(ADMIN)
    assert report.intact, report.message()
    # The retention entry names children and accounts, never the health values.
    assert "no_pork" not in applied_entry.canonical()
    assert "child:zoe" in applied_entry.entity_ids


def test_retention_settings_are_checked_and_the_run_is_admin_or_system(
    memory_canteen: Canteen,
) -> None:
    with pytest.raises(ConfigurationError, match="jours"):
        Deployment.from_mapping(
            {"issuer": {"name": "R", "code": "R"}, "retention": {"audit_entries_days": 0}}
        )
    with pytest.raises(NotAuthorizedError):
        memory_canteen.retention.run(FINANCE)
