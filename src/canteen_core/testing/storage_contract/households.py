"""The storage contract of the household repository: round trips, lookups, a child in one
household, batches.
"""

from __future__ import annotations

import logging

import attrs
import pytest

from canteen_core.domain.errors import (
    ConflictError,
    NotFoundError,
)
from canteen_core.domain.families import Diet, Guardian, Household
from canteen_core.ports.storage import Storage
from canteen_core.testing.samples import (
    enrollment,
    household,
)


def _stored(storage: Storage, *homes: Household) -> None:
    """Add ``homes`` one by one and commit."""
    with storage.unit_of_work() as uow:
        for home in homes:
            uow.households.add(home)
        uow.commit()


def test_households_round_trip_and_lookups(storage: Storage) -> None:
    home = household("h1", children=3, diets=(Diet.STANDARD, Diet.VEGETARIAN, Diet.NO_PORK))
    other = attrs.evolve(
        household("h2"),
        co_representative=Guardian(id=home.payer.id, first_name="Maman", last_name="Concerto"),
    )
    _stored(storage, home, other)
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.households.get("h1") == home
        assert uow.households.count() == 2
        assert [h.id for h in uow.households.of_guardian(home.payer.id)] == ["h1", "h2"]
        assert uow.households.of_child(home.children[2].id) == home
        assert uow.households.of_child("nobody") is None
        with pytest.raises(NotFoundError):
            uow.households.get("h9")


def test_a_child_belongs_to_one_household(storage: Storage) -> None:
    first = household("h1")
    _stored(storage, first)
    thief = attrs.evolve(household("h2"), children=first.children)
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError, match="appartient déjà au foyer"):
            uow.households.add(thief)
        with pytest.raises(ConflictError, match="already exists"):
            uow.households.add(first)
        uow.households.add(household("h3"))  # the unit of work is still usable
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.households.find("h2") is None
        assert uow.households.of_child(first.children[0].id) == first
        assert uow.households.count() == 2


def test_add_many_names_the_conflict_adding_one_by_one_would(storage: Storage) -> None:
    first = household("h1")
    _stored(storage, first)
    thief = attrs.evolve(household("h3"), children=first.children)
    twin = attrs.evolve(household("h5"), children=household("h4").children)
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError, match="household 'h1' already exists"):
            uow.households.add_many([household("h2"), first, thief])
        with pytest.raises(ConflictError, match="l'enfant h1-c0 appartient déjà au foyer h1"):
            uow.households.add_many([household("h2"), thief, first])
        with pytest.raises(ConflictError, match="l'enfant h4-c0 appartient déjà au foyer h4"):
            uow.households.add_many([household("h4"), twin])
        with pytest.raises(ConflictError, match="household 'h4' already exists"):
            uow.households.add_many([household("h4"), household("h4")])
        uow.households.add_many([household("h2"), household("h4")])  # nothing was kept
        uow.commit()
    with storage.unit_of_work() as uow:
        assert list(uow.households.ids()) == ["h1", "h2", "h4"]
        assert uow.households.of_child("h1-c0") == first


def test_a_batch_failing_midway_ends_cleanly(
    storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    home = household("h1", children=3)
    with storage.unit_of_work() as uow:
        uow.households.add_many([household("h0"), home])
        uow.enrollments.add(enrollment(home, 1))
        uow.commit()
    batch = [enrollment(home, 0), enrollment(home, 1), enrollment(home, 2)]  # the 2nd exists
    with storage.unit_of_work() as uow, caplog.at_level(logging.WARNING):
        with pytest.raises(ConflictError):
            # Many rows after the failing one: PostgreSQL reports them aborted.
            uow.households.add_many(
                [household("h2"), home, *(household(f"x{n}") for n in range(300))]
            )
        with pytest.raises(ConflictError):
            uow.enrollments.add_many(batch)
        uow.households.add(household("h4"))  # the unit of work is still usable
        uow.commit()
    # No driver noise (PostgreSQL's pipelined executemany logged "pipeline aborted").
    assert [record.getMessage() for record in caplog.records] == []
    with storage.unit_of_work() as uow:
        assert list(uow.households.ids()) == ["h0", "h1", "h4"]
        assert [e.id for e in uow.enrollments.list()] == [batch[1].id]


def test_saving_a_household_replaces_its_children(storage: Storage) -> None:
    home = household("h1", children=2)
    _stored(storage, home)
    fewer = attrs.evolve(home, children=home.children[:1])
    with storage.unit_of_work() as uow:
        uow.households.save(fewer)
        uow.commit()
    with storage.unit_of_work() as uow:
        assert uow.households.get("h1") == fewer
        assert uow.households.of_child(home.children[1].id) is None
        # the freed child may now join another household
        uow.households.save(attrs.evolve(household("h2"), children=home.children[1:]))
        uow.commit()


def test_removing_a_household(storage: Storage) -> None:
    home, other = household("h1"), household("h2")
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        uow.households.add(other)
        uow.enrollments.add(enrollment(home))
        uow.commit()
    with storage.unit_of_work() as uow:
        with pytest.raises(ConflictError, match="enrollments"):
            uow.households.remove("h1")
        uow.households.remove("h2")
        with pytest.raises(NotFoundError):
            uow.households.remove("h2")
        uow.commit()
    with storage.unit_of_work() as uow:
        assert [h.id for h in uow.households.all()] == ["h1"]
        assert uow.households.of_child(other.children[0].id) is None


__all__ = sorted(name for name in dict(globals()) if name.startswith("test_"))
