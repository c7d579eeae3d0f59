"""Households and the directory rules that span households."""

from __future__ import annotations

from datetime import date

import pytest

from _calendars import ALBAN, HOUSEHOLD, MAMAN, OTHER, OTHER_CHILD, PAPA
from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar import Zone
from canteen_core.domain.catalog import Service, Site
from canteen_core.domain.errors import ConflictError, InvalidInputError, NotFoundError
from canteen_core.domain.families import Child, Guardian, Household, HouseholdDirectory


def test_directory_lookups() -> None:
    directory = HouseholdDirectory.of([HOUSEHOLD, OTHER])
    assert len(directory) == 2
    assert directory.household_of_child(ALBAN.id) is HOUSEHOLD
    assert directory.child(OTHER_CHILD.id) == OTHER_CHILD
    assert directory.household_ids_of(PAPA.id) == {HOUSEHOLD.id, OTHER.id}
    assert directory.household_ids_of(MAMAN.id) == {HOUSEHOLD.id}
    assert directory.household_ids_of("nobody") == frozenset()
    assert [h.id for h in directory.households_of(PAPA.id)] == ["h-concerto", "h-martin"]
    actor = Actor.guardian(PAPA.id, *directory.household_ids_of(PAPA.id))
    assert actor.household_ids == {"h-concerto", "h-martin"}
    with pytest.raises(NotFoundError, match="c-nobody"):
        directory.household_of_child("c-nobody")
    with pytest.raises(NotFoundError):
        directory.household("h-nobody")


def test_a_child_belongs_to_one_household_only() -> None:
    directory = HouseholdDirectory.of([HOUSEHOLD])
    stepfamily = Household(
        id="h-step",
        payer=Guardian(id="g-step", first_name="Paul", last_name="Durand"),
        children=(ALBAN,),
    )
    with pytest.raises(ConflictError, match="un enfant n'appartient qu'à un seul foyer"):
        directory.with_household(stepfamily)
    with pytest.raises(ConflictError):
        HouseholdDirectory.of([HOUSEHOLD, stepfamily])
    with pytest.raises(ConflictError):
        HouseholdDirectory.of([HOUSEHOLD, HOUSEHOLD])
    assert len(directory) == 1  # unchanged
    # Replacing the same household (a new child) is fine.
    newborn = Child(
        id="c-new", first_name="Nina", last_name="Concerto", birth_date=date(2023, 1, 1)
    )
    updated = directory.with_household(HOUSEHOLD.with_child(newborn))
    assert updated.household_of_child("c-new").id == HOUSEHOLD.id
    assert "c-new" not in {c.id for c in directory.household(HOUSEHOLD.id).children}


def test_moving_a_child_and_removing_a_household() -> None:
    directory = HouseholdDirectory.of([HOUSEHOLD, OTHER])
    moved = directory.move_child(ALBAN.id, OTHER.id)
    assert moved.household_of_child(ALBAN.id).id == OTHER.id
    assert not moved.household(HOUSEHOLD.id).has_child(ALBAN.id)
    assert directory.household_of_child(ALBAN.id).id == HOUSEHOLD.id
    assert moved.move_child(ALBAN.id, OTHER.id) == moved
    smaller = directory.without_household(OTHER.id)
    assert OTHER.id not in smaller
    assert smaller.household_ids_of(PAPA.id) == {HOUSEHOLD.id}
    with pytest.raises(NotFoundError):
        directory.without_household("h-nobody")


def test_household_helpers() -> None:
    assert HOUSEHOLD.has_guardian(PAPA.id)
    assert not HOUSEHOLD.has_guardian("g-martin")
    assert HOUSEHOLD.with_co_representative(None).guardians == (MAMAN,)
    with pytest.raises(NotFoundError):
        HOUSEHOLD.without_child("c-nobody")
    with pytest.raises(InvalidInputError):
        HOUSEHOLD.with_co_representative(MAMAN)
    assert ALBAN.display_name == "Alban CONCERTO"


def test_catalog_values() -> None:
    service = Service(id="rs", name="Restauration scolaire")
    assert service.column_labels == ("LUNDI", "MARDI", "JEUDI", "VENDREDI")
    assert Service(id="ml", name="Mercredi loisirs", open_weekdays="mer").weekdays == (2,)
    site = Site(id="ronde", name="École élémentaire Ronde", zone="zone c", department=2)
    assert site.zone is Zone.C
    assert site.department == "02"
    assert Site(id="a", name="Ajaccio", zone="B", department="2a").department == "2A"
    for bad in ("00", "96", "2C", "977", "abc"):
        with pytest.raises(InvalidInputError):
            Site(id="x", name="X", zone="C", department=bad)
    with pytest.raises(InvalidInputError):
        Site(id="x", name="X", zone="D", department="75")
    with pytest.raises(InvalidInputError):
        Service(id="x", name="X", open_weekdays="")
    with pytest.raises(InvalidInputError):
        Service(id=" ", name="X")
