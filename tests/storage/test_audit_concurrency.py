"""Concurrent writers append to one audit chain without forking it: each transaction waits
for the chain's lock (PostgreSQL: an advisory lock; SQLite: its single writer), taken by
``head`` (what the core links to) as by ``last``, so every entry links to the one committed
before it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from canteen_core.domain.audit import AuditEntry, AuditKind, chain_entry, verify_chain

from .conftest import OpenStorage

WORKERS = 6
EACH = 8


SQL = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("link_to", ["head", "last"])
@pytest.mark.parametrize("backend", SQL, indirect=True)
def test_concurrent_appends_keep_one_chain(open_storage: OpenStorage, link_to: str) -> None:
    storages = [open_storage() for _ in range(WORKERS)]

    def work(worker: int) -> None:
        storage = storages[worker]
        for n in range(EACH):
            draft = AuditEntry(
                commune="RONDE",
                sequence=1,
                id=f"w{worker}-{n}",
                recorded_at=datetime(2023, 9, 1, 8, 0, tzinfo=UTC),
                actor_id=f"agent-{worker}",
                actor_roles=("staff",),
                action="record_attendance",
                kind=AuditKind.CHANGE,
                household_ids=(f"h{worker}",),
            )
            with storage.unit_of_work() as uow:
                previous = getattr(uow.audit, link_to)("RONDE")
                uow.audit.append(chain_entry(draft, previous))
                uow.commit()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(work, range(WORKERS)))
    with storages[0].unit_of_work(read_only=True) as uow:
        entries = list(uow.audit.entries("RONDE"))
    assert [entry.sequence for entry in entries] == list(range(1, WORKERS * EACH + 1))
    assert verify_chain("RONDE", entries).intact
