"""The storage contract: units of work are all or nothing, savepoints undo their block, read-only
units refuse writes.
"""

from __future__ import annotations

import pytest

from canteen_core.domain.errors import (
    ConflictError,
    StorageError,
)
from canteen_core.ports.storage import Storage
from canteen_core.testing.samples import (
    enrollment,
    household,
)


def test_nothing_is_kept_without_commit(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        uow.households.add(household("h1"))
        assert uow.households.get("h1").id == "h1"  # visible inside its own transaction
    with storage.unit_of_work() as uow:
        assert uow.households.find("h1") is None


def test_an_exception_rolls_everything_back(storage: Storage) -> None:
    home = household("h1")

    def failing_use_case() -> None:
        with storage.unit_of_work() as uow:
            uow.households.add(home)
            uow.enrollments.add(enrollment(home))
            raise RuntimeError("the use case failed half-way")

    with pytest.raises(RuntimeError):
        failing_use_case()
    with storage.unit_of_work() as uow:
        assert uow.households.count() == 0
        assert uow.enrollments.count() == 0


def test_commit_then_more_work_in_the_same_unit(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        uow.households.add(household("h1"))
        uow.commit()
        uow.households.add(household("h2"))
        uow.rollback()
        uow.households.add(household("h3"))
        uow.commit()
    with storage.unit_of_work() as uow:
        assert [h.id for h in uow.households.all()] == ["h1", "h3"]


def test_a_savepoint_undoes_only_its_block(storage: Storage) -> None:
    with storage.unit_of_work() as uow:
        uow.households.add(household("h1"))

        def one_household_fails() -> None:
            with uow.savepoint():
                uow.households.add(household("h2"))
                uow.households.add(household("h1"))  # duplicate: the block fails

        with pytest.raises(ConflictError):
            one_household_fails()
        uow.households.add(household("h3"))
        uow.commit()
    with storage.unit_of_work() as uow:
        assert [h.id for h in uow.households.all()] == ["h1", "h3"]


def test_read_only_units_refuse_writes(storage: Storage) -> None:
    with storage.unit_of_work(read_only=True) as uow, pytest.raises(StorageError):
        uow.households.add(household("h1"))


def test_repositories_need_an_open_unit(storage: Storage) -> None:
    uow = storage.unit_of_work()
    with pytest.raises(StorageError):
        uow.households.find("h1")


__all__ = sorted(name for name in dict(globals()) if name.startswith("test_"))
