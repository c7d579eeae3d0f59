"""Concurrency with real concurrent connections (threads, each with its own storage and
connection): no lost update, no duplicate invoice, no gap in numbering."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

from canteen_core.domain.errors import ConflictError
from canteen_core.domain.reservations import ReservationBook
from canteen_core.ports.storage import Storage

from .conftest import OpenStorage
from .samples import ISSUER, enrollment, household, invoice

WORKERS = 6


def _run_all(workers: int, job: Callable[[int], object]) -> list[object]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(job, range(workers)))


def _setup(storage: Storage, households: int = 1) -> list[str]:
    ids = []
    with storage.unit_of_work() as uow:
        for n in range(households):
            home = household(f"h{n}")
            uow.households.add(home)
            enrolled = enrollment(home)
            uow.enrollments.add(enrolled)
            ids.append(enrolled.id)
        uow.commit()
    return ids


def test_no_lost_update_on_reservations(open_storage: OpenStorage) -> None:
    (enrollment_id,) = _setup(open_storage())
    start = threading.Barrier(WORKERS)
    conflicts: list[int] = []
    days = [date(2023, 9, 4) + timedelta(weeks=n) for n in range(WORKERS)]

    def book_one_day(worker: int) -> int:
        storage = open_storage()  # a storage (and connection pool) per worker, like processes
        start.wait()
        for attempt in range(50):
            try:
                with storage.unit_of_work() as uow:
                    book = uow.reservations.load(enrollment_id)
                    changed = book.with_day(days[worker], booked=True)
                    uow.reservations.save(changed, expected_version=book.version)
                    uow.commit()
                    return attempt
            except ConflictError:
                conflicts.append(worker)
        raise AssertionError("never managed to save")

    _run_all(WORKERS, book_one_day)
    with open_storage().unit_of_work() as uow:
        final = uow.reservations.load(enrollment_id)
    assert final.booked_days() == tuple(days)  # every worker's day is there
    assert final.version == WORKERS  # one version per successful save


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_concurrent_writer_waits_then_gets_a_conflict(open_storage: OpenStorage) -> None:
    """PostgreSQL, READ COMMITTED: the second writer blocks on the row, then sees the change."""
    (enrollment_id,) = _setup(open_storage())
    first, second = open_storage(), open_storage()
    loaded = threading.Event()
    outcome: list[BaseException | None] = []

    def rival() -> None:
        try:
            with second.unit_of_work() as uow:
                book = uow.reservations.load(enrollment_id)  # version 0: the first is not committed
                loaded.set()
                uow.reservations.save(
                    book.with_day(date(2023, 9, 5), booked=True), expected_version=book.version
                )
                uow.commit()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)
            loaded.set()

    with first.unit_of_work() as uow:
        book = uow.reservations.load(enrollment_id)
        uow.reservations.save(book.with_day(date(2023, 9, 4), booked=True), expected_version=0)
        thread = threading.Thread(target=rival)
        thread.start()
        assert loaded.wait(10)
        thread.join(0.5)
        assert thread.is_alive()  # blocked on the first writer's row lock
        uow.commit()
    thread.join(10)
    assert len(outcome) == 1
    assert isinstance(outcome[0], ConflictError)
    with first.unit_of_work() as uow:
        assert uow.reservations.load(enrollment_id).booked_days() == (date(2023, 9, 4),)


def _billing_run(storage: Storage, households: list[str]) -> int:
    """A billing run: lock the numbering, invoice every household not billed yet."""
    with storage.unit_of_work() as uow:
        sequence = uow.invoices.sequence(ISSUER, 2023)
        homes = [uow.households.get(hid) for hid in households]
        drafts = {home.id: invoice(home, 1) for home in homes}
        billed = uow.invoices.billed_keys(d.billing_key for d in drafts.values())
        issued = 0
        for home in homes:
            if drafts[home.id].billing_key in billed:
                continue
            numbers, sequence = sequence.allocate(1)
            uow.invoices.add(invoice(home, int(numbers[0].rpartition("-")[2])))
            issued += 1
        uow.invoices.save_sequence(sequence)
        uow.commit()
        return issued


def test_concurrent_billing_runs_invoice_each_household_once_without_gaps(
    open_storage: OpenStorage,
) -> None:
    storage = open_storage()
    with storage.unit_of_work() as uow:
        for n in range(12):
            uow.households.add(household(f"h{n:02d}"))
        uow.commit()
    everyone = [f"h{n:02d}" for n in range(12)]
    start = threading.Barrier(WORKERS)

    def run(worker: int) -> int:
        mine = open_storage()
        subset = everyone[worker % 3 :: 1] if worker % 2 else everyone
        start.wait()
        return _billing_run(mine, subset)

    issued = _run_all(WORKERS, run)
    assert sum(issued) == 12  # type: ignore[arg-type]
    with storage.unit_of_work() as uow:
        invoices = list(uow.invoices.list())
        assert sorted(i.household_id for i in invoices) == everyone
        assert sorted(i.number for i in invoices) == [f"2023-{n:06d}" for n in range(1, 13)]
        assert uow.invoices.sequence(ISSUER, 2023).last_used == 12


def test_the_billing_key_constraint_holds_between_racing_writers(
    open_storage: OpenStorage,
) -> None:
    """Without any numbering lock, two writers of one billing key: exactly one wins."""
    storage = open_storage()
    home = household("h1")
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        uow.commit()
    start = threading.Barrier(WORKERS)

    def add(worker: int) -> str:
        mine = open_storage()
        start.wait()
        try:
            with mine.unit_of_work() as uow:
                uow.invoices.add(invoice(home, worker + 1))  # distinct numbers, same key
                uow.commit()
            return "won"
        except ConflictError:
            return "conflict"

    results = _run_all(WORKERS, add)
    assert sorted(results) == ["conflict"] * (WORKERS - 1) + ["won"]
    with storage.unit_of_work() as uow:
        assert uow.invoices.count(household_id="h1") == 1


def test_numbers_taken_then_rolled_back_leave_no_gap(open_storage: OpenStorage) -> None:
    start = threading.Barrier(WORKERS)
    committed: list[int] = []
    lock = threading.Lock()

    def take_numbers(worker: int) -> None:
        storage = open_storage()
        rng = random.Random(worker)
        start.wait()
        for _ in range(8):
            with storage.unit_of_work() as uow:
                number = uow.invoices.next_number(ISSUER, 2023)
                if rng.random() < 0.4:
                    continue  # the use case fails: rolled back, the number is given back
                uow.commit()
            with lock:
                committed.append(number)

    _run_all(WORKERS, take_numbers)
    assert sorted(committed) == list(range(1, len(committed) + 1))
    with open_storage().unit_of_work() as uow:
        assert uow.invoices.sequence(ISSUER, 2023).last_used == len(committed)


def test_bulk_booking_a_school(open_storage: OpenStorage) -> None:
    """Many enrollments booked in one batch, then counted (the benchmark's shape, small)."""
    storage = open_storage()
    homes = [household(f"h{n:03d}") for n in range(60)]
    enrollments = [enrollment(home) for home in homes]
    days = list(enrollments[0].open_days())[:80]
    with storage.unit_of_work() as uow:
        for home in homes:
            uow.households.add(home)
        uow.enrollments.add_many(enrollments)
        uow.reservations.save_many(
            (ReservationBook.from_days(e.id, e.start, days, version=1), 0) for e in enrollments
        )
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        counts = uow.reservations.headcount("ronde", days[0], days[-1])
        assert sum(count.total for count in counts) == 60 * 80
        assert sum(1 for _ in uow.reservations.booked(site_id="ronde")) == 60 * 80
