"""The invoices repository: bulk inserts, billing keys and gapless number counters."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa

from canteen_adapters.storage._common import (
    _ESCAPED_UNSTORABLE,
    KEY_LENGTH,
    check_key,
    check_text,
    json_text,
)
from canteen_adapters.storage.sql import tables as t
from canteen_adapters.storage.sql.bulk import bulk_insert
from canteen_adapters.storage.sql.documents import _Documents
from canteen_adapters.storage.sql.driver import (
    _IN_CHUNK,
    _chunks,
    _column_value,
    _dialect_insert,
    _Driver,
    _translate,
)
from canteen_core.config.serialization import invoice_json, structure, unstructure
from canteen_core.domain.errors import ConflictError
from canteen_core.domain.invoicing import Invoice, NumberSequence
from canteen_core.ports.storage import AccountDocuments

#: The numbering counter's statements, as the driver runs them (``?`` marks): each billing
#: batch reads and moves its counter, where SQLAlchemy compiled them again each time; the
#: statements ``_ensure_counter`` and ``next_number`` build (``last`` quoted, as a keyword).
_COUNTER_WHERE = "issuer = ? AND year = ? AND kind = ?"
_COUNTER_SQL = {
    "ensure": 'INSERT INTO invoice_counters (issuer, year, kind, "last") VALUES (?, ?, ?, 0) '
    "ON CONFLICT DO NOTHING",
    "read": f'SELECT "last" FROM invoice_counters WHERE {_COUNTER_WHERE}',
    "lock": f'SELECT "last" FROM invoice_counters WHERE {_COUNTER_WHERE} FOR UPDATE',
    "move": f'UPDATE invoice_counters SET "last" = ? WHERE {_COUNTER_WHERE} AND "last" <= ?',
}

#: The collections a household's account is rebuilt from, in :class:`AccountDocuments` order.
_ACCOUNT = ("invoices", "credit_notes", "payments", "refunds")
#: Their rows in one statement (``?`` marks: the household, once per collection), each
#: collection's in id order as its ``list`` gives them.
_ACCOUNT_SQL = (
    " UNION ALL ".join(
        f"SELECT {rank} AS part, id, body FROM {t.document_tables[name].name} "
        "WHERE household_id = ?"
        for rank, name in enumerate(_ACCOUNT)
    )
    + " ORDER BY part, id"
)


class _Invoices(_Documents):
    def add_many(self, items: Iterable[Any]) -> None:
        """Store a billing run's invoices in one bulk load (multi-row ``INSERT`` on
        PostgreSQL, the driver's ``executemany`` on SQLite: :mod:`.bulk`), all or none."""
        rows = self._body_rows(items)
        if not rows:
            return
        connection = self._uow.writable()
        with _translate(f"cannot add to {self.collection.name}"):
            bulk_insert(connection, self._table, rows, f"cannot add to {self.collection.name}")

    def _body_rows(self, items: Iterable[Any]) -> list[dict[str, Any]]:
        """The rows ``_row`` gives, bodies as JSON text (see ``_text_body_rows``): the
        collection's class, key readers and checks looked up once for the run's thousands of
        invoices instead of once per invoice, and a key's name worded only when it is refused."""
        cls = self._cls
        collection = self.collection
        keys = collection.keys
        id_of = collection.id_of
        rows: list[dict[str, Any]] = []
        for item in items:
            self._check_type(item, cls)
            row = {key.column: _column_value(key.read(item)) for key in keys}
            row["id"] = id_of(item)
            for column, value in row.items():  # the id and indexed columns: bounded
                if isinstance(value, str) and len(value) > KEY_LENGTH:
                    check_key(value, f"{collection.name}.{column}")
            if cls is Invoice:
                # The text json_text(unstructure(item)) gives, written without the dicts.
                text = invoice_json(item)
                if "\\" in text and _ESCAPED_UNSTORABLE.search(text):
                    check_text(unstructure(item), "body")
                row["body"] = text
            else:
                row["body"] = json_text(unstructure(item))
            rows.append(row)
        return rows

    def _ensure_counter(
        self, connection: sa.Connection, issuer_id: str, year: int, kind: str
    ) -> None:
        counters = t.invoice_counters
        # First document of the year: create the counter. A concurrent creator wins and we
        # then wait on its row lock in the statement that follows.
        connection.execute(
            _dialect_insert(connection, counters)
            .values(issuer=issuer_id, year=year, kind=kind, last=0)
            .on_conflict_do_nothing()
        )

    def sequence(
        self, issuer_id: str, year: int, *, kind: str = "invoice", prefix: str = ""
    ) -> NumberSequence:
        # Once per billing batch: prebuilt SQL on the driver (see ``_COUNTER_SQL``).
        driver = _Driver(self._uow.writable())
        key = (issuer_id, year, kind)
        # FOR UPDATE (PostgreSQL), held until commit: concurrent runs queue here.
        select = driver.sql(_COUNTER_SQL["lock" if driver.postgres else "read"])
        with _translate(f"cannot read the numbering of {issuer_id} {year}"):
            # One round trip once the counter exists (every batch but a year's first).
            found = driver.fetch(select, key)
            if not found:
                # First document of the year: create the counter. A concurrent creator wins
                # and we then wait on its row lock in the statement that follows.
                driver.run(driver.sql(_COUNTER_SQL["ensure"]), key)
                found = driver.fetch(select, key)
            ((last,),) = found
        return NumberSequence(issuer_id=issuer_id, year=year, last_used=int(last), prefix=prefix)

    def save_sequence(self, sequence: NumberSequence, *, kind: str = "invoice") -> None:
        driver = _Driver(self._uow.writable())
        key = (sequence.issuer_id, sequence.year, kind)
        move = driver.sql(_COUNTER_SQL["move"])
        params = (sequence.last_used, *key, sequence.last_used)
        with _translate(f"cannot store the numbering of {sequence.issuer_id}"):
            # One round trip when the counter exists (the batch read it): else create it.
            moved = driver.run(move, params)
            if moved != 1:
                driver.run(driver.sql(_COUNTER_SQL["ensure"]), key)
                moved = driver.run(move, params)
        if moved != 1:
            raise ConflictError(
                f"numbering of {sequence.issuer_id} {sequence.year} is beyond "
                f"{sequence.last_used}: it cannot go back"
            )

    def next_number(self, issuer_id: str, year: int, *, kind: str = "invoice") -> int:
        connection = self._uow.writable()
        counters = t.invoice_counters
        bump = (
            sa.update(counters)
            .where(counters.c.issuer == issuer_id, counters.c.year == year, counters.c.kind == kind)
            .values(last=counters.c.last + 1)
            .returning(counters.c.last)
        )
        with _translate(f"cannot number a document of {issuer_id} {year}"):
            self._ensure_counter(connection, issuer_id, year, kind)
            number = connection.execute(bump).scalar_one()
        return int(number)

    def account_documents(self, household_id: str) -> AccountDocuments:
        # Every page showing an account reads it: one driver statement, not four lists.
        driver = _Driver(self._uow.connection())
        classes = [self._uow.collection_type(name) for name in _ACCOUNT]
        parts: list[list[Any]] = [[] for _ in _ACCOUNT]
        with _translate("cannot read the household's account"):
            rows = driver.fetch(driver.sql(_ACCOUNT_SQL), [household_id] * len(_ACCOUNT))
        for part, _, body in rows:
            parts[part].append(structure(driver.json_out(body), classes[part]))
        invoices, notes, payments, refunds = (tuple(items) for items in parts)
        return AccountDocuments(
            invoices=invoices, credit_notes=notes, payments=payments, refunds=refunds
        )

    def households_billed_until(self, day: date) -> frozenset[str]:
        table = self._table
        query = sa.select(table.c.household_id).where(table.c.issue_date <= day).distinct()
        with _translate("cannot read invoices"):
            return frozenset(self._uow.connection().execute(query).scalars())

    def find_by_billing_key(self, billing_key: str) -> Any | None:
        connection = self._uow.connection()
        table = self._table
        with _translate("cannot read invoices"):
            body = connection.execute(
                sa.select(table.c.body).where(table.c.billing_key == billing_key)
            ).scalar_one_or_none()
        return None if body is None else structure(body, self._cls)

    def billed_keys(self, keys: Iterable[str]) -> frozenset[str]:
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        if not wanted:
            return frozenset()
        # Once per batch of a billing run: prebuilt SQL on the driver (an IN list of the
        # batch's keys through SQLAlchemy is compiled again at each call).
        driver = _Driver(self._uow.connection())
        template = f"SELECT billing_key FROM {self._table.name} WHERE billing_key {{ids}}"
        with _translate("cannot read invoices"):
            for chunk in _chunks(wanted, _IN_CHUNK):
                rows = driver.fetch(driver.sql(template, len(chunk)), driver.ids(chunk))
                found.update(key for (key,) in rows)
        return frozenset(found)
