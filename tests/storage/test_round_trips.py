"""What a portal call's steps cost on PostgreSQL in round trips (issue #15: each one costs the
server's and the database's CPU): an audit entry two (the chain's lock and head in one simple
query, the entry and its households in one statement), a household's account one (its four
kinds of documents in one statement). Counted as psycopg's waits for the server, inside a
transaction already begun."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from canteen_core.domain.audit import AuditEntry, AuditKind, chain_entry
from canteen_core.testing.samples import household, invoice

from .conftest import OpenStorage


@contextmanager
def _waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    count = [0]
    wait = psycopg.Connection.wait

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return wait(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(psycopg.Connection, "wait", counted)
        yield count


def _draft(number: int) -> AuditEntry:
    return AuditEntry(
        commune="RONDE",
        sequence=1,
        id=f"entry-{number}",
        recorded_at=datetime(2023, 9, 1, 8, 0, tzinfo=UTC),
        actor_id="parent",
        actor_roles=("family",),
        action="book_reservations",
        kind=AuditKind.CHANGE,
        household_ids=("h1", "h2"),
    )


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_an_audit_entry_costs_two_round_trips(
    open_storage: OpenStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = open_storage()
    for number in (1, 2):  # the chain's first entry, then one linked to it
        with storage.unit_of_work() as uow:
            uow.households.find("h1")  # the transaction begun (and its tenant named)
            with _waits(monkeypatch) as waits:
                uow.audit.append(chain_entry(_draft(number), uow.audit.head("RONDE")))
            assert waits[0] == 2
            uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        entries = list(uow.audit.entries("RONDE", household_id="h2"))
    assert [(entry.sequence, entry.household_ids) for entry in entries] == [
        (1, ("h1", "h2")),
        (2, ("h1", "h2")),
    ]


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_households_account_costs_one_round_trip(
    open_storage: OpenStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = open_storage()
    home = household("h1")
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        uow.invoices.add(invoice(home, 1))
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        uow.households.find("h1")
        with _waits(monkeypatch) as waits:
            documents = uow.invoices.account_documents("h1")
        assert waits[0] == 1
    assert [item.number for item in documents.invoices] == [invoice(home, 1).number]
