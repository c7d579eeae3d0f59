"""Migration 0005: booked days are stored as one row per enrollment and month with bit masks
(bit ``d - 1`` = day ``d``); the upgrade folds ``reservation_days`` into them and the downgrade
expands them back, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import attrs
import pytest
import sqlalchemy as sa
from alembic import command

from canteen_adapters.storage.sql import (
    SqlStorage,
    create_engine_for_url,
    current_revision,
    head_revision,
    upgrade,
)
from canteen_adapters.storage.sql.migrate import alembic_config
from canteen_core.domain.errors import ConflictError, InvalidInputError
from canteen_core.domain.reservations import ReservationBook

from .samples import enrollment, household

# The rentrée month (the book starts on the 4th), a 31st, a leap day, late days in two months.
DAYS = [date(2023, 9, 4), date(2023, 9, 29), date(2024, 1, 31), date(2024, 2, 29)]
LATE = [date(2023, 9, 29), date(2024, 2, 29)]
CANCELLED = [date(2023, 10, 2)]
MASKS = [
    (date(2023, 9, 1), (1 << 3) | (1 << 28), 1 << 28),
    (date(2024, 1, 1), 1 << 30, 0),
    (date(2024, 2, 1), 1 << 28, 1 << 28),
]


def _url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'months.db'}", None
    return request.getfixturevalue("postgres_dsn"), request.getfixturevalue("pg_schema")


def _rows(engine: sa.Engine, statement: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.exec_driver_sql(statement)]


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_month_masks_survive_a_downgrade_and_an_upgrade(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url, schema = _url(backend, tmp_path, request)
    home = household("h1", children=2)
    enrolled, other = enrollment(home), enrollment(home, 1)
    book = ReservationBook.from_days(
        enrolled.id,
        enrolled.start,
        DAYS,
        version=4,
        late_booked=LATE,
        late_cancelled=CANCELLED,
    )
    storage = SqlStorage.from_url(url, schema=schema)
    try:
        with storage.unit_of_work() as uow:
            uow.households.add(home)
            uow.enrollments.add(enrolled)
            uow.enrollments.add(other)
            uow.reservations.save(book, expected_version=0)
            uow.commit()
    finally:
        storage.close()
    engine = create_engine_for_url(url, schema=schema)
    try:
        stored = _rows(
            engine,
            "SELECT month, days, late FROM reservation_months ORDER BY month",
        )
        assert [(_as_date(m), int(d), int(la)) for m, d, la in stored] == MASKS

        with engine.connect() as connection:
            command.downgrade(alembic_config(connection), "0004")
            connection.commit()
        assert current_revision(engine) == "0004"
        days = _rows(engine, "SELECT enrollment_id, day, late FROM reservation_days ORDER BY day")
        assert [(e, _as_date(d), bool(la)) for e, d, la in days] == [
            (enrolled.id, day, day in LATE) for day in DAYS
        ]
        assert "reservation_months" not in sa.inspect(engine).get_table_names()

        assert upgrade(engine) == head_revision()
        stored = _rows(
            engine,
            "SELECT month, days, late FROM reservation_months ORDER BY month",
        )
        assert [(_as_date(m), int(d), int(la)) for m, d, la in stored] == MASKS
        assert "reservation_days" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
    storage = SqlStorage.from_url(url, schema=schema)
    try:
        with storage.unit_of_work(read_only=True) as uow:
            assert uow.reservations.load(enrolled.id) == book
            assert uow.reservations.load(other.id) == ReservationBook.empty(other)
    finally:
        storage.close()


def test_a_save_rewrites_only_the_months_that_changed(tmp_path: Path) -> None:
    home = household("h1")
    enrolled = enrollment(home)
    book = ReservationBook.from_days(enrolled.id, enrolled.start, DAYS, version=1)
    storage = SqlStorage.from_url(f"sqlite:///{tmp_path / 'save.db'}")
    try:
        with storage.unit_of_work() as uow:
            uow.households.add(home)
            uow.enrollments.add(enrolled)
            uow.reservations.save(book, expected_version=0)
            uow.commit()
        changed = book.with_day(date(2024, 1, 31), booked=False)  # January is now empty
        changed = changed.with_day(date(2024, 2, 1), booked=True, late=True)  # February changes
        changed = changed.with_day(date(2024, 3, 1), booked=True)  # March is new
        with storage.unit_of_work() as uow:
            connection = uow.connection()
            raw = connection.connection.dbapi_connection
            assert raw is not None
            before = raw.total_changes  # type: ignore[attr-defined]
            uow.reservations.save(changed, expected_version=1)
            # The version bump, January deleted, February updated, March inserted: September
            # is not rewritten.
            assert raw.total_changes - before == 4  # type: ignore[attr-defined]
            months = connection.exec_driver_sql(
                "SELECT month, days, late FROM reservation_months ORDER BY month"
            ).all()
            uow.commit()
        assert [tuple(row) for row in months] == [
            ("2023-09-01", (1 << 3) | (1 << 28), 0),
            ("2024-02-01", 1 | (1 << 28), 1),
            ("2024-03-01", 1, 0),
        ]
        with storage.unit_of_work(read_only=True) as uow:
            assert uow.reservations.load(enrolled.id) == changed
            assert uow.reservations.load_many(
                [enrolled.id], between=(date(2024, 1, 15), date(2024, 2, 20))
            )[enrolled.id].booked_days() == (date(2024, 2, 1),)
            assert list(uow.reservations.booked(start=date(2023, 9, 5), end=date(2024, 2, 28))) == [
                (enrolled.id, date(2023, 9, 29)),
                (enrolled.id, date(2024, 2, 1)),
            ]
    finally:
        storage.close()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_saves_after_a_load_in_one_unit_of_work_write_the_books_and_refuse_stale_ones(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # A save compares with the months its unit of work read (or wrote) at the expected
    # version, without reading them again: what is stored must still be each saved book, and a
    # book saved meanwhile by another unit of work must still be refused.
    url, schema = _url(backend, tmp_path, request)
    home = household("h1")
    enrolled = enrollment(home)
    book = ReservationBook.from_days(enrolled.id, enrolled.start, DAYS, version=1)
    storage = SqlStorage.from_url(url, schema=schema)
    try:
        with storage.unit_of_work() as uow:
            uow.households.add(home)
            uow.enrollments.add(enrolled)
            uow.reservations.save(book, expected_version=0)
            uow.commit()
        with storage.unit_of_work() as uow:
            loaded = uow.reservations.load(enrolled.id)
            first = loaded.with_day(date(2024, 1, 31), booked=False)
            first = attrs.evolve(first, version=2)
            uow.reservations.save(first, expected_version=1)
            second = first.with_day(date(2024, 3, 1), booked=True)
            second = attrs.evolve(second.with_day(date(2023, 9, 4), booked=False), version=3)
            uow.reservations.save(second, expected_version=2)
            uow.commit()
        with storage.unit_of_work(read_only=True) as uow:
            assert uow.reservations.load(enrolled.id) == second
        if backend == "sqlite":
            return  # its writers take the database's lock at their start: none is stale
        with storage.unit_of_work() as stale:
            seen = stale.reservations.load(enrolled.id)
            with storage.unit_of_work() as other:
                other.reservations.save(
                    attrs.evolve(seen.with_day(date(2024, 3, 4), booked=True), version=4),
                    expected_version=3,
                )
                other.commit()
            with pytest.raises(ConflictError):
                stale.reservations.save(
                    attrs.evolve(seen.with_day(date(2024, 3, 5), booked=True), version=4),
                    expected_version=3,
                )
        with storage.unit_of_work(read_only=True) as uow:
            assert date(2024, 3, 4) in uow.reservations.load(enrolled.id).booked_days()
            assert date(2024, 3, 5) not in uow.reservations.load(enrolled.id).booked_days()
    finally:
        storage.close()


@pytest.mark.parametrize(
    ("late_cancelled", "late", "message"),
    [
        ('["2023-09-29"]', 0, "a late-cancelled day cannot be booked"),
        ("[]", 1 << 4, "a late-booked day must be booked"),
    ],
)
def test_stored_rows_that_contradict_each_other_are_refused(
    tmp_path: Path, late_cancelled: str, late: int, message: str
) -> None:
    home = household("h1")
    enrolled = enrollment(home)
    book = ReservationBook.from_days(enrolled.id, enrolled.start, DAYS, version=1)
    storage = SqlStorage.from_url(f"sqlite:///{tmp_path / 'bad.db'}")
    try:
        with storage.unit_of_work() as uow:
            uow.households.add(home)
            uow.enrollments.add(enrolled)
            uow.reservations.save(book, expected_version=0)
            connection = uow.connection()
            # Damage the rows behind the library's back (a hand-edited database).
            connection.exec_driver_sql(
                "UPDATE reservation_states SET late_cancelled = ?", (late_cancelled,)
            )
            connection.exec_driver_sql(
                "UPDATE reservation_months SET late = ? WHERE month = '2023-09-01'", (late,)
            )
            uow.commit()
        with storage.unit_of_work(read_only=True) as uow, pytest.raises(InvalidInputError) as error:
            uow.reservations.load(enrolled.id)
        assert message in str(error.value)
    finally:
        storage.close()
